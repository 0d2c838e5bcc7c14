import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { launchChromium, newDashboardPage, signInThroughForm } from './browser.ts';
import { newMerchant, type Merchant } from './dashboard-client.ts';

// The outbox in the dashboard, in Chromium against the real app and its worker (no SMTP: the outbox
// transport marks each email sent). Declined payments under Auto Rescue queue "payment failed"
// emails, a recovered one adds its receipt; the merchant reads them on the Emails page, filters
// them, opens one (its text, and its HTML in a sandboxed frame), and follows it to its payment.

const DECLINED = { amount: 4999, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } };
// Markup in a customer's name must reach the page as text, in the text version and in the HTML one.
const NAME = 'Ada <b>Lovelace</b>';

let t: TestRescue;
let browser: Browser;
let m: Merchant;
let api: Client;
let address: string;
let declined: string;
let recovered: string;
let emails: any[];

beforeAll(async () => {
  [t, browser] = await Promise.all([startTestRescue({ worker: true }), launchChromium()]);
  m = await newMerchant(t, 'emails');
  api = t.client(m.testKey);
  address = `ada-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const customer = await api.post('/v2/customers', { email: address, name: NAME, timezone: 'America/New_York', locale: 'en-US' });
  expect(customer.status).toBe(201);
  declined = (await api.post('/v2/payments', { ...DECLINED, customer: customer.body.id })).body.id;
  // Declines until two seconds from now, then approves: Retry now, a little later, recovers it (and sends the receipt).
  const until = Math.floor(systemClock.now().getTime() / 1000) + 2;
  recovered = (await api.post('/v2/payments', { ...DECLINED, amount: 2500, customer: customer.body.id, payment_method: `pm_card_insufficientFunds_until_${until}` })).body.id;
  // A payment that went through at once writes nobody an email.
  expect((await api.post('/v2/payments', { amount: 1000, currency: 'USD', customer: customer.body.id, payment_method: 'pm_card_visa' })).status).toBe(201);
  await new Promise((r) => setTimeout(r, 2500));
  expect((await api.post(`/v2/payments/${recovered}/retry_now`)).body.status).toBe('succeeded');
  emails = await eventually(async () => {
    const list = (await api.get('/v2/emails?limit=100')).body.data;
    return list.length === 3 && list.every((e: any) => e.status === 'sent') ? list : undefined;
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const emailRows = (page: Page, table = 'Emails') => page.locator(`table[aria-label="${table}"] tbody tr`);
const cell = (page: Page, id: string, field: string) => page.locator(`tr[data-email="${id}"] [data-field="${field}"]`);
const find = (kind: string, payment: string) => emails.find((e) => e.kind === kind && e.payment === payment);

describe('dashboard in a browser: emails', () => {
  it('the outbox lists what the API holds, in plain words, and filters by kind and status', async () => {
    const failed = find('payment_failed', declined);
    expect(failed).toMatchObject({ to: address, status: 'sent', transport: 'outbox', subject: "Your payment to Acme didn't go through" });
    const page = await newDashboardPage(browser);
    await signInThroughForm(page, t.url, m.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Emails' }).click();
    await page.waitForURL(`${t.url}/dashboard/emails`);

    // Newest first, as the API lists them: the receipt, then the two "payment failed".
    await expect.poll(() => emailRows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-email')))).toEqual(emails.map((e) => e.id));
    expect(await cell(page, failed.id, 'kind').textContent()).toBe('Payment failed');
    expect(await cell(page, failed.id, 'to').textContent()).toBe(address);
    expect(await cell(page, failed.id, 'subject').textContent()).toBe(failed.subject);
    expect(await cell(page, failed.id, 'status').locator('.badge').textContent()).toBe('sent');
    expect(await cell(page, failed.id, 'payment').textContent()).toBe(declined);
    const receipt = find('payment_recovered', recovered);
    expect(await cell(page, receipt.id, 'kind').textContent()).toBe('Receipt: payment recovered');
    expect(await cell(page, receipt.id, 'subject').textContent()).toBe(receipt.subject);

    // Filters go to the API and into the URL.
    await page.getByLabel('Kind').selectOption('payment_failed');
    await page.waitForURL(`${t.url}/dashboard/emails?kind=payment_failed`);
    await expect.poll(() => emailRows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-email')))).toEqual(emails.filter((e) => e.kind === 'payment_failed').map((e) => e.id));
    await page.getByLabel('Status').selectOption('queued');
    await page.waitForURL(`${t.url}/dashboard/emails?kind=payment_failed&status=queued`);
    await expect.poll(() => page.getByText('No emails match these filters.').count()).toBe(1);
    expect((await api.get('/v2/emails?kind=payment_failed&status=queued')).body.data).toEqual([]);
    // Back returns to the previous filter; reload keeps it.
    await page.goBack();
    await page.reload();
    await expect.poll(() => emailRows(page).count()).toBe(2);
    expect(await page.getByLabel('Kind').inputValue()).toBe('payment_failed');
    expect(await page.getByLabel('Status').inputValue()).toBe('');
    await page.context().close();
  });

  it('open the payment-failed email: its text with the update-payment link, the HTML sandboxed; then its payment shows it', async () => {
    const failed = find('payment_failed', declined);
    const link = /Update your payment method:\n(\S+\/update-payment\/\S+)/.exec(failed.text)?.[1];
    expect(link).toMatch(new RegExp(`^${t.url}/api/update-payment/pay_[A-Za-z0-9]+\\?sig=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    const page = await newDashboardPage(browser);
    // The email's inline styles must not be refused by the dashboard's CSP (a console error each).
    const consoleErrors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 401/.test(msg.text())) consoleErrors.push(msg.text());
    });
    await signInThroughForm(page, t.url, m.email);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Emails' }).click();
    await cell(page, failed.id, 'subject').getByRole('link', { name: failed.subject }).click();
    await page.waitForURL(`${t.url}/dashboard/emails/${failed.id}`);

    await expect.poll(() => page.getByTestId('email-subject').textContent()).toBe(failed.subject);
    expect(await page.getByTestId('email-kind').textContent()).toBe('Payment failed');
    expect(await page.getByTestId('email-to').textContent()).toBe(address);
    expect(await page.getByTestId('email-status').locator('.badge').textContent()).toBe('sent');
    expect(await page.getByText('Outbox only (no SMTP configured)', { exact: false }).count()).toBe(1);
    // The text version is the API's text, exactly: the link, and the name's markup as characters.
    const text = await page.getByTestId('email-text').textContent();
    expect(text).toBe(failed.text);
    expect(text).toContain(`Update your payment method:\n${link}`);
    expect(text).toContain(`Hi ${NAME},`);
    expect(await page.locator('main b').count()).toBe(0);

    // The HTML version renders in a frame with an empty sandbox: a real link, the name still text.
    const iframe = page.locator('iframe.email-html');
    expect(await iframe.getAttribute('sandbox')).toBe('');
    const frame = page.frameLocator('iframe.email-html');
    const cta = frame.getByRole('link', { name: 'Update your payment method' });
    await expect.poll(() => cta.getAttribute('href')).toBe(link);
    expect(await frame.locator('body').textContent()).toContain(`Hi ${NAME},`);
    expect(await frame.locator('b').count()).toBe(0);
    // Sandboxed without allow-same-origin: the frame's document is an opaque origin, cut off from the dashboard's.
    const frameOrigin = await (await (await iframe.elementHandle())!.contentFrame())!.evaluate(() => (globalThis as unknown as { origin: string }).origin);
    expect(frameOrigin).toBe('null');
    // Styled as the customer sees it: the button's inline background applies.
    expect(await cta.evaluate((a) => (globalThis as any).getComputedStyle(a).backgroundColor)).toBe('rgb(26, 86, 219)');
    expect(consoleErrors).toEqual([]);

    // Follow the email to its payment: its page lists this email.
    await page.getByRole('link', { name: declined }).click();
    await page.waitForURL(`${t.url}/dashboard/payments/${declined}`);
    const own = emailRows(page, 'Emails about this payment');
    await expect.poll(() => own.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-email')))).toEqual([failed.id]);
    expect(await cell(page, failed.id, 'kind').textContent()).toBe('Payment failed');
    expect(await cell(page, failed.id, 'to').textContent()).toBe(address);
    expect(await cell(page, failed.id, 'subject').textContent()).toBe(failed.subject);
    expect(await cell(page, failed.id, 'status').locator('.badge').textContent()).toBe('sent');
    // …and from there back to the email.
    await cell(page, failed.id, 'subject').getByRole('link').click();
    await page.waitForURL(`${t.url}/dashboard/emails/${failed.id}`);
    await expect.poll(() => page.getByTestId('email-subject').textContent()).toBe(failed.subject);
    await page.context().close();
  });

  it("a recovered payment's page shows its emails in the order the customer got them; an unknown email is an error", async () => {
    const page = await newDashboardPage(browser);
    await signInThroughForm(page, t.url, m.email);
    await page.goto(`${t.url}/dashboard/payments/${recovered}`);
    const own = emailRows(page, 'Emails about this payment');
    const expected = [find('payment_failed', recovered), find('payment_recovered', recovered)];
    await expect.poll(() => own.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-email')))).toEqual(expected.map((e) => e.id));
    expect(await own.locator('[data-field="kind"]').allTextContents()).toEqual(['Payment failed', 'Receipt: payment recovered']);

    // A payment without emails says so.
    const paid = (await api.get('/v2/payments?status=succeeded&limit=100')).body.data.find((p: any) => p.id !== recovered);
    await page.goto(`${t.url}/dashboard/payments/${paid.id}`);
    await expect.poll(() => page.getByText('No emails about this payment.').count()).toBe(1);

    const missing = await api.get('/v2/emails/em_doesnotexist');
    expect(missing.status).toBe(404);
    await page.goto(`${t.url}/dashboard/emails/em_doesnotexist`);
    await expect.poll(() => page.getByRole('alert').textContent()).toBe(missing.body.error.message);
    expect(await page.getByTestId('outbox-unavailable').count()).toBe(0);
    await page.context().close();
  });

  it('on a Rescue without the outbox, the payment page and an email link say so', async () => {
    const page = await newDashboardPage(browser);
    await page.route('**/v2/emails**', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: { type: 'invalid_request_error', code: 'route_not_found', message: 'Unrecognized request URL (GET: /v2/emails).' } }) }),
    );
    await signInThroughForm(page, t.url, m.email);
    await page.goto(`${t.url}/dashboard/payments/${declined}`);
    await expect.poll(() => page.getByTestId('outbox-unavailable').textContent()).toBe('The email outbox is not available on this Rescue.');
    expect(await page.getByTestId('rescue-status').textContent()).toBe('active');
    await page.goto(`${t.url}/dashboard/emails/${emails[0].id}`);
    await expect.poll(() => page.getByTestId('outbox-unavailable').count()).toBe(1);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.context().close();
  });
});
