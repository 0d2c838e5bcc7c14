import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startReceiver, verifies, type Receiver } from '../support/webhook-receiver.ts';
import { launchChromium, signInThroughForm } from './browser.ts';
import { newMerchant, type Merchant } from './dashboard-client.ts';
import { expectNoHorizontalOverflow, fieldError, newCheckedPage, screenshot, VIEWPORTS, type CheckedPage } from './page-checks.ts';

// Managing webhooks from the Webhooks page in Chromium, at desktop width and on a 390 px phone,
// against the real app and its worker delivering to a real receiver on 127.0.0.1: add an endpoint
// for one event type (its secret shown once verifies what arrives), resend a delivery and see the
// receiver get it again with the new row in the log, edit the event filter, disable and enable,
// rotate the secret, delete. No console error; every state screenshotted.

let t: TestRescue;
let browser: Browser;
let receiver: Receiver;

beforeAll(async () => {
  [t, browser, receiver] = await Promise.all([startTestRescue({ worker: true }), launchChromium(), startReceiver()]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await receiver?.close();
});

const endpointRow = (page: Page, id: string) => page.locator(`tr[data-endpoint="${id}"]`);

describe.each(VIEWPORTS)('webhooks in a browser ($name)', (viewport) => {
  let c: CheckedPage;
  let m: Merchant;
  let api: Client;
  let endpoint: any;
  const path = `/hook-${viewport.name}`;

  beforeAll(async () => {
    // A wrong URL is refused by the API on purpose (400 on the create call).
    c = await newCheckedPage(browser, viewport, [{ status: 400, path: /^\/v2\/webhook_endpoints$/ }]);
    c.page.setDefaultTimeout(10_000);
    m = await newMerchant(t, `hooks-${viewport.name}`);
    api = t.client(m.testKey);
  });
  afterAll(async () => {
    expect(c.problems).toEqual([]);
    await c.page.context().close();
  });

  it('adds an endpoint for one event type; its secret, shown once, verifies what the receiver gets', async () => {
    const { page } = c;
    await signInThroughForm(page, t.url, m.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(`${t.url}/dashboard/webhooks`);
    await expect.poll(() => page.getByText('No webhook endpoints in this mode yet').count()).toBe(1);
    await screenshot(page, `webhooks-empty-${viewport.name}`);
    await expectNoHorizontalOverflow(page);

    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const form = page.getByRole('form', { name: 'Add an endpoint' });
    await form.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(() => fieldError(page, 'Endpoint URL')).toBeTruthy();
    await form.getByLabel('Endpoint URL').fill(receiver.url(path));
    await form.getByLabel('Description').fill('CRM');
    await form.getByLabel('All events').uncheck();
    await form.getByLabel('payment.rescue_started').check();
    await form.getByRole('button', { name: 'Add endpoint' }).click();

    const secret = page.locator('[data-secret]');
    await expect.poll(() => secret.count()).toBe(1);
    const whsec = (await secret.textContent())!;
    expect(whsec).toMatch(/^whsec_/);
    const listed = (await api.get('/v2/webhook_endpoints')).body.data;
    expect(listed).toHaveLength(1);
    endpoint = listed[0];
    expect(endpoint).toMatchObject({ url: receiver.url(path), description: 'CRM', enabled_events: ['payment.rescue_started'], status: 'enabled', secret: null });
    await expect.poll(() => endpointRow(page, endpoint.id).locator('[data-field="events"]').textContent()).toBe('payment.rescue_started');
    await screenshot(page, `webhooks-added-${viewport.name}`);
    await expectNoHorizontalOverflow(page);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.content()).not.toContain(whsec);

    // A declined payment under Auto Rescue: the receiver gets the event, signed with that secret.
    receiver.secrets(path, [whsec]);
    await api.post('/v2/payments', { amount: 4999, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
    const first = await eventually(async () => receiver.at(path).find((d) => d.body?.type === 'payment.rescue_started'));
    expect(verifies(first, whsec)).toBe(true);
    expect(receiver.at(path).every((d) => d.body?.type === 'payment.rescue_started')).toBe(true);
  });

  it('shows the delivery log with the response code and resends a delivery, which the receiver gets again', async () => {
    const { page } = c;
    const eventId = receiver.at(path)[0]!.body.id as string;
    await eventually(async () => ((await api.get(`/v2/webhook_endpoints/${endpoint.id}/deliveries`)).body.data[0]?.status === 'succeeded' ? true : undefined));
    await endpointRow(page, endpoint.id).getByRole('button', { name: 'Recent deliveries' }).click();
    const rows = page.locator('table[aria-label="Deliveries"] tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().locator('[data-field="answer"]').textContent()).toMatch(/^200 in \d+ ms$/);
    expect(await rows.first().locator('[data-field="status"]').textContent()).toBe('succeeded');

    const before = receiver.at(path).length;
    await rows.first().getByRole('button', { name: `Resend payment.rescue_started ${eventId}` }).click();
    await expect.poll(() => page.getByText('Sent payment.rescue_started again').count()).toBe(1);
    const again = await eventually(async () => (receiver.at(path).length > before ? receiver.at(path)[before] : undefined));
    expect(again!.body.id).toBe(eventId);
    await eventually(async () => {
      const list = (await api.get(`/v2/webhook_endpoints/${endpoint.id}/deliveries`)).body.data;
      return list.length === 2 && list.every((d: any) => d.status === 'succeeded') ? true : undefined;
    });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')))).toEqual(['succeeded', 'succeeded']);
    await screenshot(page, `webhooks-deliveries-${viewport.name}`);
    await expectNoHorizontalOverflow(page);
  });

  it('edits the event filter, disables and enables, rotates the secret and deletes the endpoint', async () => {
    const { page } = c;
    const row = endpointRow(page, endpoint.id);
    await row.getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: `Edit ${endpoint.id}` });
    await form.getByLabel('payment.rescue_succeeded').check();
    await form.getByRole('button', { name: 'Save endpoint' }).click();
    await expect.poll(() => page.locator('.changes').textContent()).toContain('Events: payment.rescue_started → payment.rescue_started, payment.rescue_succeeded');
    expect((await api.get(`/v2/webhook_endpoints/${endpoint.id}`)).body.enabled_events).toEqual(['payment.rescue_started', 'payment.rescue_succeeded']);

    await row.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(async () => (await api.get(`/v2/webhook_endpoints/${endpoint.id}`)).body.status).toBe('disabled');
    await expect.poll(() => row.locator('[data-field="status"]').textContent()).toBe('disabledturned off by you');
    await screenshot(page, `webhooks-disabled-${viewport.name}`);
    await row.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(async () => (await api.get(`/v2/webhook_endpoints/${endpoint.id}`)).body.status).toBe('enabled');

    await row.getByRole('button', { name: 'Rotate secret' }).click();
    await row.getByRole('button', { name: 'Rotate now' }).click();
    await expect.poll(() => page.locator('[data-secret]').count()).toBe(1);
    const rotated = (await page.locator('[data-secret]').textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect((await api.get(`/v2/webhook_endpoints/${endpoint.id}`)).body.previous_secret_expires_at).not.toBeNull();
    // What is sent from now on is signed with the new secret.
    receiver.secrets(path, [rotated]);
    const before = receiver.at(path).length;
    const eventId = receiver.at(path)[0]!.body.id as string;
    await api.post(`/v2/events/${eventId}/resend`, { endpoint: endpoint.id });
    const resent = await eventually(async () => receiver.at(path)[before]);
    expect(verifies(resent!, rotated)).toBe(true);
    await page.getByRole('button', { name: 'I have copied it' }).click();

    await row.getByRole('button', { name: 'Delete' }).click();
    await screenshot(page, `webhooks-delete-${viewport.name}`);
    await row.getByRole('button', { name: 'Delete for good' }).click();
    await expect.poll(() => page.getByText('No webhook endpoints in this mode yet').count()).toBe(1);
    expect((await api.get('/v2/webhook_endpoints')).body.data).toEqual([]);
    await expectNoHorizontalOverflow(page);
  });
});
