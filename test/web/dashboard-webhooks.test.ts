import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { launchChromium, newDashboardPage, signInThroughForm } from './browser.ts';
import { newMerchant, type Merchant } from './dashboard-client.ts';

// The Webhooks page, in Chromium against the real app and its worker delivering to a real receiver
// on 127.0.0.1: one endpoint answers 200, one answers 500. A declined payment under Auto Rescue
// causes the events; the merchant sees both endpoints and each one's deliveries as the API has them.

let t: TestRescue;
let browser: Browser;
let receiver: Receiver;
let m: Merchant;
let api: Client;
let ok: any;
let down: any;
let payment: string;

beforeAll(async () => {
  [t, browser, receiver] = await Promise.all([startTestRescue({ worker: true }), launchChromium(), startReceiver()]);
  receiver.on('/down', () => 500);
  m = await newMerchant(t, 'hooks');
  api = t.client(m.testKey);
  ok = (await api.post('/v2/webhook_endpoints', { url: receiver.url('/ok'), enabled_events: ['*'], description: 'CRM' })).body;
  down = (await api.post('/v2/webhook_endpoints', { url: receiver.url('/down'), enabled_events: ['payment.rescue_started'] })).body;
  expect(ok.status).toBe('enabled');
  payment = (await api.post('/v2/payments', { amount: 4999, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } })).body.id;
  // Both endpoints have been tried: the receiver got the rescue_started event on each path.
  await eventually(async () => (receiver.at('/ok').some((d) => d.body?.type === 'payment.rescue_started') && receiver.at('/down').length >= 1 ? true : undefined));
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await receiver?.close();
});

const deliveries = (page: Page) => page.locator('table[aria-label="Deliveries"] tbody tr');
const field = (page: Page, id: string, name: string) => page.locator(`tr[data-delivery="${id}"] [data-field="${name}"]`);

/** The endpoint's deliveries once the API has recorded every attempt the receiver answered. */
async function settled(endpoint: string, path: string, status: string) {
  return eventually(async () => {
    const list = (await api.get(`/v2/webhook_endpoints/${endpoint}/deliveries?limit=25`)).body.data;
    const answered = receiver.at(path).filter((d) => d.answered !== null).length;
    return list.length > 0 && list.every((d: any) => d.status === status && d.attempts >= 1) && list.reduce((n: number, d: any) => n + d.attempts, 0) >= answered ? list : undefined;
  });
}

describe('dashboard in a browser: webhooks', () => {
  it('shows the endpoints and, for each, its deliveries with status and the answer', async () => {
    const okDeliveries = await settled(ok.id, '/ok', 'succeeded');
    const downDeliveries = await settled(down.id, '/down', 'pending');
    // What the receiver got is what the page will list as delivered.
    expect(okDeliveries.map((d: any) => d.event).sort()).toEqual([...new Set(receiver.at('/ok').map((d) => d.body.id as string))].sort());
    expect(okDeliveries.map((d: any) => d.event_type)).toContain('payment.rescue_started');
    expect(downDeliveries).toHaveLength(1);
    // The payment's own rescue_started event, the one both endpoints were sent.
    const started = (await api.get(`/v2/events?object=${payment}&type=payment.rescue_started`)).body.data;
    expect(started).toHaveLength(1);
    expect(downDeliveries[0]).toMatchObject({ event: started[0].id, event_type: 'payment.rescue_started', response_status: 500, next_retry_at: expect.any(String) });
    expect(okDeliveries.map((d: any) => d.event)).toContain(started[0].id);

    const page = await newDashboardPage(browser);
    await signInThroughForm(page, t.url, m.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(`${t.url}/dashboard/webhooks`);

    // Newest first, as the API lists them.
    const endpoints = page.locator('table[aria-label="Webhook endpoints"] tbody tr');
    await expect.poll(() => endpoints.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-endpoint')))).toEqual([down.id, ok.id]);
    expect(await page.locator(`tr[data-endpoint="${ok.id}"] [data-field="url"] code`).textContent()).toBe(receiver.url('/ok'));
    expect(await page.locator(`tr[data-endpoint="${ok.id}"] [data-field="url"]`).textContent()).toContain('CRM');
    expect(await page.locator(`tr[data-endpoint="${ok.id}"] [data-field="status"]`).textContent()).toBe('enabled');
    expect(await page.locator(`tr[data-endpoint="${down.id}"] [data-field="url"] code`).textContent()).toBe(receiver.url('/down'));

    // The working endpoint: every delivery succeeded with the receiver's 200.
    await page.locator(`tr[data-endpoint="${ok.id}"]`).getByRole('button', { name: 'Recent deliveries' }).click();
    await expect.poll(() => deliveries(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-delivery')))).toEqual(okDeliveries.map((d: any) => d.id));
    for (const d of okDeliveries) {
      expect(await field(page, d.id, 'status').textContent()).toBe('succeeded');
      expect(await field(page, d.id, 'event').textContent()).toBe(`${d.event_type} ${d.event}`);
      expect(await field(page, d.id, 'answer').textContent()).toBe(`200 in ${d.latency_ms} ms`);
      expect(await field(page, d.id, 'attempts').textContent()).toBe(String(d.attempts));
    }

    // The failing one: its delivery waits for a retry, with the 500 it got.
    await page.locator(`tr[data-endpoint="${down.id}"]`).getByRole('button', { name: 'Recent deliveries' }).click();
    await expect.poll(() => page.getByRole('region', { name: `Recent deliveries to ${down.id}` }).count()).toBe(1);
    const [d] = downDeliveries;
    await expect.poll(() => deliveries(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-delivery')))).toEqual([d.id]);
    expect(await field(page, d.id, 'status').textContent()).toBe('pending');
    expect(await field(page, d.id, 'event').textContent()).toBe(`payment.rescue_started ${d.event}`);
    expect(d.error).toBeTruthy();
    expect(await field(page, d.id, 'answer').textContent()).toBe(`500 in ${d.latency_ms} ms${d.error}`);
    expect(await page.locator(`tr[data-delivery="${d.id}"] td`).nth(5).textContent()).not.toBe('—');

    // The endpoint answers again and the event is resent to it: Refresh shows the new delivery
    // succeeded above the first one, which still waits for its retry.
    receiver.on('/down', () => 200);
    const resent = await api.post(`/v2/events/${d.event}/resend`, { endpoint: down.id });
    expect(resent.status).toBe(200);
    const again = resent.body.data[0].id;
    await eventually(async () => ((await api.get(`/v2/webhook_endpoints/${down.id}/deliveries`)).body.data.find((x: any) => x.id === again)?.status === 'succeeded' ? true : undefined));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => deliveries(page).evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-delivery'), tr.getAttribute('data-status')]))).toEqual([
      [again, 'succeeded'],
      [d.id, 'pending'],
    ]);
    expect(await field(page, again, 'answer').textContent()).toMatch(/^200 in \d+ ms$/);
    await page.context().close();
  });
});
