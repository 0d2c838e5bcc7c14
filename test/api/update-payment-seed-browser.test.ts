import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../support/api-assertions.ts';
import { startEmailReceiver, type EmailReceiver } from '../support/email-receiver.ts';
import { advanceClock, eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { phonePage } from '../support/phone-browser.ts';
import { launchChromium } from '../web/browser.ts';

// Seed 000's update-payment page, GET /api/update-payment/[invoiceId], as a German customer meets
// it: the link in a German email a real SMTP server received, opened in Chromium on a phone's
// screen, a sandbox card typed in — and both of the customer's open payments recovered at once.
// The invoice id alone opens nothing: a missing, tampered or expired signature is a 403 page.

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
  customer = (await api.post('/v2/customers', { email: 'jonas@example.de', name: 'Jonas', timezone: 'Europe/Berlin', locale: 'de-DE', test_clock: clock })).body.id;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await smtp?.close();
});

const seedLinkIn = (text: string) => /(http:\/\/\S+\/api\/update-payment\/pay_[A-Za-z0-9]+\?sig=[A-Za-z0-9_.%-]+)/.exec(text)![1]!;

async function failedPayment(amount: number, euros: string): Promise<{ id: string; link: string; mail: { subject: string; text: string; html: string } }> {
  const pay = await api.post('/v2/payments', { amount, currency: 'EUR', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true, max_retries: 3, custom_schedule_days: [3, 6, 9] } });
  expect(pay.status).toBe(201);
  expect(pay.body.status).toBe('requires_rescue');
  const mail = await eventually(async () => smtp.received.find((m) => m.text.includes(euros) && m.subject.startsWith('Ihre Zahlung')));
  return { id: pay.body.id, link: seedLinkIn(mail.text), mail };
}

describe("the seed's update-payment page, in German, in a browser", () => {
  it('from the German email: a test card pays both open payments at once, and the page says so', async () => {
    const first = await failedPayment(4999, '49,99');
    const second = await failedPayment(1500, '15,00');
    expect(first.mail.subject).toBe('Ihre Zahlung an Acme ist fehlgeschlagen');
    expect(first.mail.text).toContain('Hallo Jonas,');
    expect(first.mail.text).toContain('Zahlungsmethode aktualisieren:');
    expect(first.mail.html).toContain('Wir konnten Ihre Zahlung von 49,99');
    expect(first.link).toContain(`/api/update-payment/${first.id}?sig=`);

    const p = await phonePage(browser, { locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    try {
      // The email as a phone's mail app shows its HTML part.
      await p.page.setContent(first.mail.html);
      expect(await p.page.getByRole('link', { name: 'Zahlungsmethode aktualisieren' }).getAttribute('href')).toBe(first.link);
      await p.expectNoOverflow();
      await p.shot('email-payment-failed-de');

      const res = await p.page.goto(first.link);
      expect(res!.status()).toBe(200);
      expect(res!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(await p.page.getAttribute('html', 'lang')).toBe('de');
      expect(await p.page.textContent('h1')).toBe('Zahlungsmethode aktualisieren');
      expect((await p.page.textContent('#amount'))!.replace(/\s/g, ' ')).toBe('49,99 €');
      expect(await p.page.textContent('#reason')).toContain('nicht ausreichend gedeckt');
      expect(await p.page.textContent('#open-payments')).toContain('Diese 2 Zahlungen sind offen');
      await p.expectNoOverflow();
      await p.shot('update-payment-de-form');

      await p.page.getByLabel('Kartennummer').fill('4242 4242 4242 4242');
      await p.page.getByLabel('Gültig bis (MM/JJ)').fill('12/34');
      await p.page.getByLabel('Prüfnummer').fill('123');
      await p.page.click('#submit');
      await p.page.waitForSelector('#charged');
      expect(await p.page.getAttribute('#title', 'data-paid')).toBe('2');
      expect(await p.page.textContent('#result')).toBe('2 Zahlungen sind eingegangen.');
      const outcomes = await p.page.$$eval('#charged li', (lis) => lis.map((li) => [li.getAttribute('data-payment'), li.getAttribute('data-outcome'), li.textContent]));
      expect(outcomes.map(([id, outcome]) => [id, outcome])).toEqual([
        [first.id, 'paid'],
        [second.id, 'paid'],
      ]);
      expect(outcomes[0]![2]).toContain('Bezahlt');
      await p.expectNoOverflow();
      await p.shot('update-payment-de-charged');
      expect(p.errors).toEqual([]);
    } finally {
      await p.close();
    }
    for (const { id } of [first, second]) {
      const paid = (await api.get(`/v2/payments/${id}`)).body;
      expect(paid.status).toBe('succeeded');
      expect(paid.payment_method).toBe('pm_card_visa');
      expect(paid.rescue_history.map((a: any) => a.result)).toEqual(['failed', 'succeeded']);
    }
    const receipt = await eventually(async () => smtp.received.find((m) => /^Beleg: 49,99\s€ an Acme bezahlt$/.test(m.subject)));
    expect(receipt.text).toContain('Sie müssen nichts weiter tun.');

    // The same form sent again pays nothing twice: nothing is open any more.
    const again = await fetch(first.link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'card_number=4242424242424242&exp=12%2F34&cvc=123' });
    expect(again.status).toBe(200);
    const html = await again.text();
    expect(html).toContain('data-paid="1"');
    expect((await api.get(`/v2/payments/${first.id}`)).body.rescue_history).toHaveLength(2);
  }, 120_000);

  it('a missing, tampered, foreign or expired signature: a clear 403 page, nothing shown of the payment', async () => {
    const now = (await api.get(`/v2/test_clocks/${clock}`)).body.frozen_time * 1000;
    const { id, link } = await failedPayment(2100, '21,00');
    const other = await failedPayment(2200, '22,00');
    const p = await phonePage(browser, { locale: 'de-DE' });
    try {
      const url = new URL(link);
      const sig = url.searchParams.get('sig')!;
      const flipped = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
      const cases = [
        `${url.origin}/api/update-payment/${id}`,
        `${url.origin}/api/update-payment/${id}?sig=${flipped}`,
        // A genuine signature, for another payment: the invoice id must be the one it signs.
        `${url.origin}/api/update-payment/${id}?sig=${new URL(other.link).searchParams.get('sig')}`,
      ];
      for (const bad of cases) {
        const res = await p.page.goto(bad);
        expect(res!.status()).toBe(403);
        expect(await p.page.getAttribute('#title', 'data-problem')).toBe('invalid');
        expect(await p.page.textContent('#title')).toBe('Dieser Link ist ungültig');
        expect(await p.page.content()).not.toContain('21,00');
      }
      await p.shot('update-payment-de-403-invalid');
      // A tampered form post charges nothing either.
      const post = await fetch(cases[1]!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'card_number=4242424242424242&exp=12%2F34&cvc=123' });
      expect(post.status).toBe(403);

      // Expiry is on the payment's clock: 7 days after the email.
      await advanceClock(api, clock, new Date(now + 7 * DAY_MS + 60_000));
      const expired = await p.page.goto(link);
      expect(expired!.status()).toBe(403);
      expect(await p.page.getAttribute('#title', 'data-problem')).toBe('expired');
      expect(await p.page.textContent('#title')).toBe('Dieser Link ist abgelaufen');
      await p.expectNoOverflow();
      await p.shot('update-payment-de-403-expired');
      // Only the navigations' own 403 answers reach the console.
      expect(p.errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
    } finally {
      await p.close();
    }
    expect((await api.get(`/v2/payments/${id}`)).body.payment_method).toBe('pm_card_chargeDeclinedInsufficientFunds');
  }, 120_000);
});
