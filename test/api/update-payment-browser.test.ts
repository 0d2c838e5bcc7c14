import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../support/api-assertions.ts';
import { startEmailReceiver, type EmailReceiver } from '../support/email-receiver.ts';
import { advanceClock, eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// The customer's whole path in a real browser (Debian's Chromium): the link from the email an SMTP
// server received, the hosted page, a new test card, the retry it brings forward, the receipt. And
// the links that must not work: tampered with, or expired on the payment's clock.

const T0 = Date.parse('2026-05-12T14:00:00Z');
const unix = (ms: number) => Math.floor(ms / 1000);

let smtp: EmailReceiver;
let t: TestRescue;
let api: Client;
let browser: Browser;
let clock: string;
let customer: string;

beforeAll(async () => {
  smtp = await startEmailReceiver();
  t = await startTestRescue({ env: { RESCUE_SMTP_URL: smtp.url } });
  api = t.client((await t.signup()).testKey);
  clock = (await api.post('/v2/test_clocks', { frozen_time: unix(T0) })).body.id;
  customer = (await api.post('/v2/customers', { email: 'linus@example.com', name: 'Linus', timezone: 'Europe/London', locale: 'en-GB', test_clock: clock })).body.id;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await smtp?.close();
});

// Emails link to the seed's path (/api/update-payment/:invoiceId?sig=…, test/api/update-payment-seed-browser.test.ts);
// the older /update-payment/:token, which links already emailed point to, keeps working: this file
// opens that path with the same token.
const linkIn = (text: string) => {
  const url = new URL(/(http:\/\/\S+\/api\/update-payment\/\S+)/.exec(text)![1]!);
  return `${url.origin}/update-payment/${url.searchParams.get('sig')}`;
};

async function failedPayment(amount: number, auto_rescue: Record<string, unknown>): Promise<{ id: string; link: string }> {
  const pay = await api.post('/v2/payments', { amount, currency: 'GBP', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true, ...auto_rescue } });
  expect(pay.status).toBe(201);
  const amountText = `£${(amount / 100).toFixed(2)}`;
  const mail = await eventually(async () => smtp.received.find((m) => m.subject.startsWith('Your payment') && m.text.includes(amountText)));
  return { id: pay.body.id, link: linkIn(mail.text) };
}

describe('the update-payment page in a browser', () => {
  it('new card from the emailed link: the retry moves up, succeeds once, and a receipt follows', async () => {
    const { id, link } = await failedPayment(4200, { max_retries: 3, custom_schedule_days: [3, 6, 9] });
    const page = await browser.newPage();
    try {
      const res = await page.goto(link);
      expect(res!.status()).toBe(200);
      expect(await page.textContent('#merchant')).toBe('Acme');
      expect(await page.textContent('#amount')).toBe('£42.00');
      expect(await page.textContent('#reason')).toContain('did not have enough funds');

      // A number that is not a test card: the form says so, next to the field.
      await page.getByLabel('Card number').fill('4111 1111 1111 1112');
      await page.getByLabel('Expiry (MM/YY)').fill('12/34');
      await page.getByLabel('Security code').fill('123');
      await page.click('#submit');
      expect(await page.getAttribute('#card_number', 'aria-invalid')).toBe('true');
      expect(await page.textContent('[role=alert]')).toContain('not a test card number');

      await page.getByLabel('Card number').fill('4242 4242 4242 4242');
      await page.getByLabel('Security code').fill('123');
      await page.click('#submit');
      expect(await page.getAttribute('#title', 'data-outcome')).toBe('retry_moved');
      expect(await page.textContent('#result')).toContain('12 May 2026');

      // Submitting again (the link opened again, same card) changes nothing: one planned retry, one charge.
      await page.goto(link);
      await page.getByLabel('Card number').fill('4242424242424242');
      await page.getByLabel('Expiry (MM/YY)').fill('12/34');
      await page.getByLabel('Security code').fill('123');
      await page.click('#submit');
      expect(await page.getAttribute('#title', 'data-outcome')).toBe('retry_moved');
    } finally {
      await page.close();
    }
    const before = (await api.get(`/v2/payments/${id}`)).body;
    expect(before.payment_method).toBe('pm_card_visa');
    expect(before.rescue_schedule.next_retry_at).toBe(new Date(T0 + 10 * 60_000).toISOString().replace('.000Z', 'Z'));

    await advanceClock(api, clock, new Date(T0 + 60 * 60_000));
    const after = (await api.get(`/v2/payments/${id}`)).body;
    expect(after.status).toBe('succeeded');
    expect(after.rescue_history.map((a: any) => a.result)).toEqual(['failed', 'succeeded']);
    expect(after.auto_rescue.attempts_made).toBe(2);
    const receipt = await eventually(async () => smtp.received.find((m) => m.subject === 'Receipt: £42.00 paid to Acme'));
    expect(receipt.to).toEqual(['linus@example.com']);
  }, 90_000);

  it('a tampered link shows a clear 400 page; an expired one a 410 page', async () => {
    const now = (await api.get(`/v2/test_clocks/${clock}`)).body.frozen_time * 1000;
    const { link } = await failedPayment(1700, { max_retries: 1, custom_schedule_days: [10] });
    const page = await browser.newPage();
    try {
      const [body, sig] = link.split('/update-payment/')[1]!.split('.');
      const flipped = `${link.split('/update-payment/')[0]}/update-payment/${body}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BB' : 'AA'}`;
      const tampered = await page.goto(flipped);
      expect(tampered!.status()).toBe(400);
      expect(await page.getAttribute('#title', 'data-problem')).toBe('invalid');
      expect(await page.textContent('#title')).toBe('This link is not valid');

      // Expiry is on the payment's clock: 7 days after the email.
      await advanceClock(api, clock, new Date(now + 7 * DAY_MS + 60_000));
      const expired = await page.goto(link);
      expect(expired!.status()).toBe(410);
      expect(await page.getAttribute('#title', 'data-problem')).toBe('expired');
      const garbage = await page.goto(`${t.url}/update-payment/not-a-token`);
      expect(garbage!.status()).toBe(400);
    } finally {
      await page.close();
    }
  }, 90_000);
});
