import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { fixture, stripeEvent } from '../support/fake-stripe.ts';
import { callback, knownFailedInvoice, sendEvent, startOAuth, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';
import { launchChromium, newDashboardPage, signInThroughForm } from './browser.ts';
import { newMerchant } from './dashboard-client.ts';

// Stripe from the dashboard, in Chromium: the Connect button, the (fake) Stripe authorize page,
// the callback page's link back, the account and the import's progress, and the Smart Retries
// advice of each mode, including the switch to active (which needs write access: a reconnect).

const HOUR = 3600;
// What the merchant must read (the words), literally.
const ADVICE = {
  observe: "Stripe's Smart Retries keep running — keep them on, or switch Rescue to active and turn them off.",
  active: 'Turn Smart Retries off in Stripe (Billing → Revenue recovery → Retries) so two retry engines never fight.',
};
let s: StripeRescue;
let browser: Browser;

beforeAll(async () => {
  [s, browser] = await Promise.all([startStripeRescue({ worker: true, fakeConnect: true }), launchChromium()]);
  const now = Math.floor(systemClock.now().getTime() / 1000);
  const inv = fixture('objects/invoice.json');
  const ch = fixture('objects/charge.json');
  for (let i = 0; i < 7; i++) s.fake.invoices.push({ ...inv, id: `in_dash${i}`, created: now - i * 24 * HOUR, currency: 'usd' });
  for (let i = 0; i < 4; i++) s.fake.charges.push({ ...ch, id: `ch_dash${i}`, created: now - i * HOUR, status: 'succeeded', failure_code: null });
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('dashboard in a browser: Stripe', () => {
  it('connect from the dashboard, come back to the account, its import and the advice; switch to active', async () => {
    const m = await newMerchant(s.t, 'stripe');
    s.fake.authorizeAs = 'acct_dashboard1';
    const page = await newDashboardPage(browser);
    await signInThroughForm(page, s.t.url, m.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Stripe' }).click();
    await expect.poll(() => page.getByTestId('stripe-status').textContent()).toBe('not connected');

    // Observe mode is the default choice.
    await page.getByRole('button', { name: 'Connect Stripe' }).click();
    await page.waitForURL(/\/oauth\/authorize/);
    expect(await page.textContent('h1')).toContain('read_only');
    await page.click('#connect');
    await page.waitForURL(/\/api\/stripe\/oauth\/callback/);
    expect(await page.textContent('#title')).toBe('Stripe connected');
    await page.click('#dashboard-link');
    await page.waitForURL(`${s.t.url}/dashboard/stripe`);

    await expect.poll(() => page.getByTestId('stripe-account').textContent()).toBe('acct_dashboard1');
    expect(await page.getByTestId('stripe-status').textContent()).toBe('connected');
    expect(await page.getByTestId('smart-retries-advice').textContent()).toBe(ADVICE.observe);
    // One sender: which of Stripe's own customer emails to turn off, with a link to that setting.
    expect(await page.getByTestId('customer-emails-advice').textContent()).toContain('turn off "Send emails when card payments fail"');
    expect(await page.getByTestId('customer-emails-advice').getByRole('link', { name: "Open Stripe's email settings" }).getAttribute('href')).toBe('https://dashboard.stripe.com/settings/billing/automatic');

    // The import: one row per object type, done once the worker has read the fake's lists.
    const progress = page.locator('table[aria-label="Import progress"] tbody tr');
    await expect.poll(() => progress.count()).toBe(3);
    await expect.poll(() => progress.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status'))), { timeout: 30_000 }).toEqual(['done', 'done', 'done']);
    const api = s.t.client(m.testKey);
    const backfill = (await api.get('/v2/stripe/connection')).body.backfill;
    for (const b of backfill) {
      expect(await page.locator(`tr[data-object="${b.object}"] [data-field="imported"]`).textContent()).toBe(String(b.imported));
    }
    expect(backfill.find((b: any) => b.object === 'invoices').imported).toBe(7);
    expect(await page.getByRole('progressbar', { name: 'invoices import' }).getAttribute('value')).toBe('1');

    // Active mode needs write access: the page says so, stays in observe mode, and offers to reconnect.
    await page.getByLabel('Active: Rescue retries failed invoices itself').click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('read-only');
    expect(await page.getByTestId('smart-retries-advice').textContent()).toBe(ADVICE.observe);
    expect(await page.getByLabel('Observe: Rescue watches and predicts; Stripe retries').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'reconnect with write access' }).click();
    await page.waitForURL(/\/oauth\/authorize/);
    expect(await page.textContent('h1')).toContain('read_write');
    await page.click('#connect');
    await page.waitForURL(/\/api\/stripe\/oauth\/callback/);
    await page.click('#dashboard-link');
    await page.waitForURL(`${s.t.url}/dashboard/stripe`);
    await expect.poll(() => page.getByTestId('smart-retries-advice').textContent()).toBe(ADVICE.active);
    expect(await page.getByLabel('Active: Rescue retries failed invoices itself').isChecked()).toBe(true);
    expect((await api.get('/v2/stripe/connection')).body).toMatchObject({ status: 'connected', stripe_account: 'acct_dashboard1', mode: 'active', scope: 'read_write' });

    // With write access, switching back and forth is one click each.
    await page.getByLabel('Observe: Rescue watches and predicts; Stripe retries').click();
    await expect.poll(() => page.getByTestId('smart-retries-advice').textContent()).toBe(ADVICE.observe);
    expect((await api.get('/v2/stripe/connection')).body.mode).toBe('observe');
    await page.getByLabel('Active: Rescue retries failed invoices itself').click();
    await expect.poll(() => page.getByTestId('smart-retries-advice').textContent()).toBe(ADVICE.active);
    expect((await api.get('/v2/stripe/connection')).body.mode).toBe('active');

    // Disconnect.
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('button', { name: 'Yes, disconnect' }).click();
    await expect.poll(() => page.getByTestId('stripe-status').textContent()).toBe('disconnected');
    expect(await page.getByRole('button', { name: 'Connect Stripe' }).count()).toBe(1);
    expect((await api.get('/v2/stripe/connection')).body.status).toBe('disconnected');
    await page.context().close();
  });

  it('lists the invoices Rescue could not hand back to Stripe (deauthorized while it held them)', async () => {
    const m = await newMerchant(s.t, 'handback');
    const api = s.t.client(m.testKey);
    const account = 'acct_dashhandback';
    s.fake.codes.set('ac_dashhandback', { stripe_user_id: account, scope: 'read_write' });
    const flow = await startOAuth(s.t, api, 'active');
    expect((await callback(s.t, { code: 'ac_dashhandback', state: flow.state, scope: 'read_write' }, flow.cookie)).status).toBe(200);
    const inv = knownFailedInvoice(s.fake);
    expect((await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account }))).body.outcome).toBe('processed');
    await sendEvent(s, stripeEvent('account.application.deauthorized', { id: 'ca_testplatform', object: 'application' }, { account }));

    const page = await newDashboardPage(browser);
    await signInThroughForm(page, s.t.url, m.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Stripe' }).click();
    await expect.poll(() => page.getByTestId('stripe-status').textContent()).toBe('disconnected');
    const rows = page.locator('[data-testid="not-handed-back"] tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(inv.id);
    expect(await rows.first().textContent()).toContain('turn it on for this invoice in Stripe');
    await page.context().close();
  });

  it('the emails page says the outbox is not available when the API answers 404', async () => {
    const m = await newMerchant(s.t, 'emails');
    const page = await newDashboardPage(browser);
    // Whether or not this Rescue has the outbox, answer as one without it does.
    await page.route('**/v2/emails**', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: { type: 'invalid_request_error', code: 'route_not_found', message: 'Unrecognized request URL (GET: /v2/emails).' } }) }),
    );
    await signInThroughForm(page, s.t.url, m.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Emails' }).click();
    await expect.poll(() => page.getByTestId('outbox-unavailable').textContent()).toBe('The email outbox is not available on this Rescue.');
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.context().close();
  });
});
