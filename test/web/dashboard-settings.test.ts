import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmailReceiver, type EmailReceiver } from '../support/email-receiver.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type Merchant } from '../support/merchant.ts';
import { launchChromium, TIME_ZONE } from './browser.ts';
import { expectNoHorizontalOverflow, fieldError, newCheckedPage, screenshot, screenshotOf, screenshotWindow, VIEWPORTS, type CheckedPage } from './page-checks.ts';

// A new merchant in Chromium, at desktop width and on a 390 px phone: signs up from /signup, then
// changes every setting on /dashboard/settings and sees each change take effect through the API
// (and a payment rescued on the new schedule); edits the dunning sequence and watches the email
// preview follow; creates, rolls and revokes an API key. Wrong values show their error beside the
// field. Every page is screenshotted, none overflows the screen, and no console error is allowed.

let t: TestRescue;
let browser: Browser;
let smtp: EmailReceiver;
let merchant: Merchant;

beforeAll(async () => {
  smtp = await startEmailReceiver();
  // The merchant's own charge endpoint: it verifies Rescue's signature and approves what verifies.
  merchant = await startMerchant((call) => (call.signatureError === null ? { charge: { status: 'succeeded', transaction_id: `txn_${call.seq}` } } : { http: 401 }));
  [t, browser] = await Promise.all([startTestRescue({ worker: false, env: { RESCUE_SMTP_URL: smtp.url, RESCUE_EMAIL_FROM: 'billing@rescue.example' } }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await smtp?.close();
  await merchant?.close();
});

const PASSWORD = 'a long enough password';
const section = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

describe.each(VIEWPORTS)('settings in a browser ($name)', (viewport) => {
  let c: CheckedPage;
  let api: Client;
  const email = `new-${viewport.name}-${Math.random().toString(36).slice(2, 8)}@example.com`;

  beforeAll(async () => {
    // The refusals this test provokes: signed out at first, then a wrong value in each form.
    c = await newCheckedPage(browser, viewport, [{ status: 400, path: /^\/(signup|v2\/settings\/[a-z_]+(\/preview)?)$/ }]);
    // Each step builds on the one before: a missing control should fail fast, not at the test timeout.
    c.page.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    expect(c.problems).toEqual([]);
    await c.page.context().close();
  });

  it('signs up from /signup (linked from sign-in), is signed in and is shown its keys once', async () => {
    const { page } = c;
    await page.goto(`${t.url}/dashboard/`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL(`${t.url}/dashboard/signup`);
    // The seed's own address leads to the same page.
    await page.goto(`${t.url}/signup`);
    await page.waitForURL(`${t.url}/dashboard/signup`);
    await page.getByLabel('Business name').fill('Acme Widgets');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => fieldError(page, 'Password')).toContain('password must be at least 8 characters');
    await screenshot(page, `signup-${viewport.name}`);
    await expectNoHorizontalOverflow(page);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();

    const testKey = page.getByRole('status', { name: 'Test API key' }).locator('code');
    await expect.poll(() => testKey.count()).toBe(1);
    const key = (await testKey.textContent())!;
    expect(key).toMatch(/^sk_test_/);
    api = t.client(key);
    expect((await api.get('/v2/customers')).status).toBe(200);
    await screenshot(page, `signup-keys-${viewport.name}`);
    await expectNoHorizontalOverflow(page);
    await page.getByRole('button', { name: 'Continue to settings' }).click();
    await page.waitForURL(`${t.url}/dashboard/settings`);
    await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    expect(await page.locator('.who').textContent()).toBe(email);
    // Signed in for real: a reload keeps the session.
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { name: 'Settings', level: 1 }).count()).toBe(1);
    await expect.poll(() => section(page, 'Auto Rescue').getByLabel('Max retries').inputValue()).toBe('4');
    await screenshot(page, `settings-${viewport.name}`);
    await expectNoHorizontalOverflow(page);
  });

  it('changes the Auto Rescue defaults: the timeline follows before saving, the API and a payment after', async () => {
    const { page } = c;
    const s = section(page, 'Auto Rescue');
    const planned = s.getByRole('list', { name: 'Planned retries' }).locator('li');
    // The automatic (learned) schedule is shown for the saved defaults.
    await expect.poll(() => planned.count()).toBeGreaterThan(0);

    await s.getByLabel('Rescue failed payments that qualify').check();
    await s.getByLabel('Max retries').fill('3');
    await s.getByLabel('Retry window (days)').fill('10');
    await s.getByLabel('Schedule').selectOption('custom');
    await s.getByLabel('Custom days').fill('1, 3, 7');
    // Before saving: the engine's plan for these days, as the preview endpoint answers it.
    const expected = (await api.post('/v2/settings/auto_rescue/preview', { max_retries: 3, retry_window_days: 10, retry_schedule: 'custom', custom_schedule_days: [1, 3, 7], example: { decline_code: 'insufficient_funds', timezone: TIME_ZONE } })).body;
    // Days 1, 3 and 7 after a failure now, for a customer in the browser's zone (the page asks for it); one
    // that falls in that zone's 01:00–04:00 moves to 04:00 (at most 3 h later).
    const days: number[] = expected.scheduled_retries.map((r: any) => r.days_after_failure);
    expect(days).toHaveLength(3);
    [1, 3, 7].forEach((d, i) => {
      expect(days[i]! - d).toBeGreaterThanOrEqual(0);
      expect(days[i]! - d).toBeLessThanOrEqual(0.125);
    });
    await expect.poll(() => planned.evaluateAll((lis) => lis.map((li) => li.textContent!.replace(/.*— /, '')))).toEqual(days.map((d) => `day ${d}`));
    expect((await api.get('/v2/settings/auto_rescue')).body.retry_schedule).toBe('automatic');

    await s.getByLabel('Subscription payments').uncheck();
    await s.getByLabel('Amount over (minor units, e.g. cents)').fill('10000');
    await s.getByRole('button', { name: 'Save Auto Rescue' }).click();
    await expect.poll(() => s.getByRole('status').textContent()).toContain('Max retries: 4 → 3');
    const saved = await s.getByRole('status').textContent();
    for (const line of ['Auto Rescue: off → on', 'Retry window (days): 14 → 10', 'Schedule: automatic → custom', 'Custom days: none → 1, 3, 7', 'Subscription payments: on → off', 'Amount over: none → 10000']) expect(saved).toContain(line);
    expect((await api.get('/v2/settings/auto_rescue')).body).toMatchObject({
      enabled: true,
      max_retries: 3,
      retry_window_days: 10,
      retry_schedule: 'custom',
      custom_schedule_days: [1, 3, 7],
      qualifying: { subscription_payments: false, off_session_payments: true, amount_over: 10000 },
    });
    // In effect: an off-session decline with no auto_rescue options of its own is rescued on these days.
    const pay = await api.post('/v2/payments', { amount: 2500, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true });
    expect(pay.body.status).toBe('requires_rescue');
    expect(pay.body.rescue_schedule.scheduled_retries).toHaveLength(3);

    // A wrong value: the API's error beside the field, nothing saved.
    await s.getByLabel('Max retries').fill('12');
    await s.getByRole('button', { name: 'Save Auto Rescue' }).click();
    await expect.poll(() => fieldError(page, 'Max retries')).toMatch(/8/);
    expect((await api.get('/v2/settings/auto_rescue')).body.max_retries).toBe(3);
    await screenshot(page, `settings-auto-rescue-error-${viewport.name}`);
    await s.getByLabel('Max retries').fill('3');
    await s.getByRole('button', { name: 'Save Auto Rescue' }).click();
    await expect.poll(() => s.getByRole('status').textContent()).toBe('Saved. Nothing changed.');
    expect(await fieldError(page, 'Max retries')).toBeNull();
  });

  it('edits the dunning sequence: the preview follows the unsaved sender, each email, and the saved settings reach the API', async () => {
    const { page } = c;
    const s = section(page, 'Dunning emails');
    const preview = s.getByRole('region', { name: 'Email preview' });
    await expect.poll(() => preview.locator('[data-field="from"]').textContent()).toBe('Acme Widgets');
    await s.getByLabel('Sender name').fill('Acme Billing');
    await expect.poll(() => preview.locator('[data-field="from"]').textContent()).toBe('Acme Billing');
    // The email's own HTML, in its frame, says what the API's preview says.
    const failed = (await api.post('/v2/settings/dunning/preview', { kind: 'payment_failed', from_name: 'Acme Billing', locale: 'en-US' })).body;
    await expect.poll(() => preview.locator('[data-field="subject"]').textContent()).toBe(failed.subject);
    await expect.poll(() => page.frameLocator('iframe[title="Email preview"]').locator('body').textContent()).toContain('Hi Ada Lovelace,');

    await preview.getByLabel('Email', { exact: true }).selectOption('rescue_failed');
    const final = (await api.post('/v2/settings/dunning/preview', { kind: 'rescue_failed', from_name: 'Acme Billing', locale: 'en-US' })).body;
    const frame = page.frameLocator('iframe[title="Email preview"]');
    expect(final.subject).not.toBe(failed.subject);
    await expect.poll(() => preview.locator('[data-field="subject"]').textContent()).toBe(final.subject);

    // Branding: the button takes the merchant's colour in the preview before saving.
    await s.getByLabel('Button colour').fill('#0a7a3d');
    await expect.poll(async () => (await frame.getByRole('link', { name: /payment method/i }).first().getAttribute('style')) ?? '').toContain('background:#0a7a3d');
    await s.getByLabel('Reply-to address').fill('not an address');
    await s.getByRole('button', { name: 'Save dunning' }).click();
    await expect.poll(() => fieldError(page, 'Reply-to address')).toBeTruthy();
    await s.getByLabel('Reply-to address').fill('billing@acme.test');
    await s.getByLabel('Reminder before the last retry').uncheck();
    await s.getByLabel("Customers' default language").selectOption('de-DE');
    await s.getByRole('button', { name: 'Save dunning' }).click();
    await expect.poll(() => s.getByRole('status').first().textContent()).toContain('Sender name: none → Acme Billing');
    const saved = await s.getByRole('status').first().textContent();
    expect(saved).toContain('Reply-to: none → billing@acme.test');
    expect(saved).toContain('Reminder before the last retry: on → off');
    expect(saved).toContain('Button colour: none → #0a7a3d');
    expect(saved).toContain("Customers' default language: none → de-DE");
    expect((await api.get('/v2/settings/dunning')).body).toMatchObject({ from_name: 'Acme Billing', reply_to: 'billing@acme.test', emails: { payment_failed: true, retry_reminder: false, rescue_failed: true, payment_recovered: true }, brand_color: '#0a7a3d', logo_url: null, default_locale: 'de-DE' });
    await expect.poll(() => preview.locator('[data-field="reply-to"]').textContent()).toBe('billing@acme.test');

    // A test send reaches a real SMTP server, addressed to the merchant, as the preview shows it.
    await preview.getByRole('button', { name: 'Send a test email to me' }).click();
    await expect.poll(() => preview.locator('[data-field="test-send"]').textContent()).toBe(`Sent “[Test] ${final.subject}” to ${email}.`);
    const got = smtp.received.filter((mail) => mail.to.includes(email));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ subject: `[Test] ${final.subject}`, from: '"Acme Billing" <billing@rescue.example>', replyTo: 'billing@acme.test' });
    await screenshot(page, `settings-dunning-${viewport.name}`);
    await screenshotOf(preview, `settings-email-preview-${viewport.name}`);
    await page.locator('iframe[title="Email preview"]').scrollIntoViewIfNeeded();
    await screenshotWindow(page, `settings-email-frame-${viewport.name}`);
    await screenshotOf(section(page, 'Auto Rescue'), `settings-auto-rescue-${viewport.name}`);
  });

  it('sets the default gateway and a named one, with the secret shown once and errors beside their fields', async () => {
    const { page } = c;
    const s = section(page, 'Gateways');
    const def = s.getByRole('form', { name: 'Default gateway' });
    await def.getByLabel('Default gateway type').selectOption('http');
    await def.getByLabel('Default endpoint URL').fill('not a url');
    await def.getByRole('button', { name: 'Save default gateway' }).click();
    await expect.poll(() => fieldError(page, 'Default endpoint URL')).toBeTruthy();
    await def.getByLabel('Default endpoint URL').fill(merchant.url);
    await def.getByRole('button', { name: 'Save default gateway' }).click();
    const secret = s.getByRole('status', { name: 'Signing secret of the default gateway' }).locator('code');
    await expect.poll(() => secret.count()).toBe(1);
    expect(await secret.textContent()).toMatch(/^whsec_/);
    expect((await api.get('/v2/settings/gateway')).body).toMatchObject({ type: 'http', url: merchant.url });
    await expect.poll(() => s.locator('tr[data-gateway="default"] [data-field="type"]').textContent()).toBe('http');
    await s.getByRole('button', { name: 'I have copied it' }).click();

    // A test charge with Rescue's own new secret, which the merchant's endpoint does not know yet:
    // refused, and the page says there was no usable answer.
    const calls = merchant.calls.length;
    await s.getByRole('button', { name: 'Send a test charge' }).click();
    await expect.poll(() => s.locator('[data-field="test-charge"]').textContent()).toMatch(/^No usable answer: /);
    // With the endpoint's own secret pasted in, the charge verifies and the endpoint approves it.
    await def.getByLabel('Default signing secret (optional)').fill(merchant.secret);
    await def.getByRole('button', { name: 'Save default gateway' }).click();
    await expect.poll(async () => (await api.get('/v2/settings/gateway')).body.secret).toBe(`${merchant.secret.slice(0, 10)}…`);
    await s.getByRole('button', { name: 'I have copied it' }).click();
    await s.getByRole('button', { name: 'Send a test charge' }).click();
    await expect.poll(() => s.locator('[data-field="test-charge"]').textContent()).toMatch(/^Succeeded in \d+ ms: transaction txn_\d+\.$/);
    expect(merchant.calls.slice(calls).map((call) => [call.signatureError === null, call.body.amount, call.body.payment_method])).toEqual([
      [false, 100, 'pm_rescue_test_charge'],
      [true, 100, 'pm_rescue_test_charge'],
    ]);
    expect((await api.get('/v2/payments')).body.data.map((p: any) => p.amount)).toEqual([2500]);
    await screenshot(page, `settings-gateways-test-charge-${viewport.name}`);

    const named = s.getByRole('form', { name: 'Add or replace a named gateway' });
    await named.getByLabel('Gateway name').fill('Not Valid');
    await named.getByRole('button', { name: 'Save named gateway' }).click();
    await expect.poll(() => fieldError(page, 'Gateway name')).toContain('lower-case');
    await named.getByLabel('Gateway name').fill('acme-sandbox');
    await named.getByLabel('Token prefixes').fill('tok_acme');
    await named.getByRole('button', { name: 'Save named gateway' }).click();
    await expect.poll(() => s.locator('tr[data-gateway="acme-sandbox"]').count()).toBe(1);
    expect((await api.get('/v2/settings/gateways')).body.data.find((g: any) => g.name === 'acme-sandbox')).toMatchObject({ type: 'sandbox', token_prefixes: ['tok_acme'] });

    // Back to the sandbox, so the mode charges the simulated network again.
    await def.getByLabel('Default gateway type').selectOption('sandbox');
    await def.getByRole('button', { name: 'Save default gateway' }).click();
    await expect.poll(async () => (await api.get('/v2/settings/gateway')).body.type).toBe('sandbox');
    expect(await s.locator('[data-field="stripe"]').textContent()).toContain('not connected');
    await screenshot(page, `settings-gateways-${viewport.name}`);
  });

  it('creates an API key (shown once, it works), rolls it and revokes it', async () => {
    const { page } = c;
    const s = section(page, 'API keys');
    const rows = s.locator('table[aria-label="API keys"] tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    await s.getByRole('button', { name: 'Create key' }).click();
    const shown = s.locator('[data-secret]');
    await expect.poll(() => shown.count()).toBe(1);
    const created = (await shown.textContent())!;
    expect((await t.client(created).get('/v2/customers')).status).toBe(200);
    await expect.poll(() => rows.count()).toBe(2);
    const id = (await api.get('/v2/api_keys')).body.data.find((k: any) => k.hint.endsWith(created.slice(-4))).id;
    await s.getByRole('button', { name: 'I have copied it' }).click();
    expect(await s.locator('[data-secret]').count()).toBe(0);
    // The secret is nowhere on the page any more.
    expect(await page.content()).not.toContain(created);

    const row = s.locator(`tr[data-key="${id}"]`);
    await row.getByRole('button', { name: 'Roll' }).click();
    await row.getByRole('button', { name: /^Roll sk_test_/ }).click();
    await expect.poll(() => s.locator('[data-secret]').count()).toBe(1);
    const rolled = (await s.locator('[data-secret]').textContent())!;
    expect(rolled).not.toBe(created);
    expect((await t.client(created).get('/v2/customers')).status).toBe(401);
    expect((await t.client(rolled).get('/v2/customers')).status).toBe(200);

    const rolledId = (await api.get('/v2/api_keys')).body.data.find((k: any) => k.hint.endsWith(rolled.slice(-4))).id;
    const rolledRow = s.locator(`tr[data-key="${rolledId}"]`);
    await rolledRow.getByRole('button', { name: 'Revoke' }).click();
    await screenshot(page, `settings-api-keys-${viewport.name}`);
    await rolledRow.getByRole('button', { name: /^Revoke sk_test_/ }).click();
    await expect.poll(() => s.getByRole('status').textContent()).toContain('Revoked');
    await expect.poll(() => rows.count()).toBe(1);
    expect((await t.client(rolled).get('/v2/customers')).status).toBe(401);
    expect((await api.get('/v2/customers')).status).toBe(200);
  });

  it('sets the control group share; out of range is refused beside the field', async () => {
    const { page } = c;
    const s = section(page, 'Control group');
    await s.getByLabel('Control group share (%)').fill('25');
    await s.getByRole('button', { name: 'Save control group' }).click();
    await expect.poll(() => fieldError(page, 'Control group share (%)')).toBeTruthy();
    await s.getByLabel('Control group share (%)').fill('10');
    await s.getByRole('button', { name: 'Save control group' }).click();
    await expect.poll(() => s.getByRole('status').textContent()).toContain('Control group (%): 0 → 10');
    expect((await api.get('/v2/settings/recovery')).body.control_group_percent).toBe(10);
    await expectNoHorizontalOverflow(page);
    await screenshot(page, `settings-saved-${viewport.name}`);
  });

  it("switches to live mode's own settings: the live key, live defaults, no test charge", async () => {
    const { page } = c;
    await page.getByRole('group', { name: 'Mode' }).getByRole('button', { name: 'Live' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'API keys (live)' }).count()).toBe(1);
    const keys = section(page, 'API keys').locator('table[aria-label="API keys"] tbody tr code');
    await expect.poll(() => keys.allTextContents()).toEqual([expect.stringMatching(/^sk_live_…/)]);
    // Live mode keeps its own defaults: Auto Rescue off, customer emails off until turned on.
    await expect.poll(() => section(page, 'Auto Rescue').getByLabel('Rescue failed payments that qualify').isChecked()).toBe(false);
    expect(await section(page, 'Dunning emails').getByLabel('Email customers about their failed payments').isChecked()).toBe(false);
    expect(await section(page, 'Gateways').getByRole('button', { name: 'Send a test charge' }).count()).toBe(0);
    await screenshot(page, `settings-live-${viewport.name}`);
    await expectNoHorizontalOverflow(page);
    await page.getByRole('group', { name: 'Mode' }).getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'API keys (test)' }).count()).toBe(1);
  });

  it('is usable from the keyboard: Tab reaches the first setting and Space changes it', async () => {
    const { page } = c;
    await page.reload();
    const toggle = section(page, 'Auto Rescue').getByLabel('Rescue failed payments that qualify');
    await expect.poll(() => toggle.count()).toBe(1);
    let focused = '';
    for (let i = 0; i < 40 && focused !== 'Rescue failed payments that qualify'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => ((globalThis as any).document.activeElement?.labels?.[0]?.textContent as string | undefined)?.split(' — ')[0] ?? '');
    }
    expect(focused).toBe('Rescue failed payments that qualify');
    expect(await toggle.isChecked()).toBe(true);
    await page.keyboard.press('Space');
    expect(await toggle.isChecked()).toBe(false);
  });
});
