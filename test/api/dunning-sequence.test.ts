import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { advanceClock, eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// The embedded default (no SMTP): every dunning email lands in the outbox as `sent`, timestamped by
// the account's clock. A test clock moved through whole rescues gives exactly the expected emails,
// in order, in the customer's language (German here: words, numbers and dates), time zone and currency.

const T0 = Date.parse('2026-03-25T10:30:00Z');
const unix = (ms: number) => Math.floor(ms / 1000);

describe.each(ENGINES)('dunning emails through whole rescues (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  let clock: string;
  let customer: string;

  beforeAll(async () => {
    t = await startTestRescue({ engine });
    api = t.client((await t.signup()).testKey);
    clock = (await api.post('/v2/test_clocks', { frozen_time: unix(T0), name: 'dunning' })).body.id;
    const c = await api.post('/v2/customers', { email: 'ada@example.com', name: 'Ada <Lovelace>', timezone: 'Europe/Berlin', locale: 'de-DE', test_clock: clock });
    expect(c.status).toBe(201);
    customer = c.body.id;
  }, 60_000);
  afterAll(() => t.close());

  const emailsOf = async (payment: string) => (await api.get(`/v2/emails?payment=${payment}&limit=100`)).body.data.reverse();

  it('a rescue that fails: payment failed, reminder before the last retry, final notice — each once, on the clock', async () => {
    const pay = await api.post('/v2/payments', {
      amount: 4999,
      currency: 'EUR',
      customer,
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      off_session: true,
      auto_rescue: { enabled: true, max_retries: 2, custom_schedule_days: [1, 3] },
    });
    expect(pay.status).toBe(201);
    const id = pay.body.id;
    // Queued with the payment's first failure, sent into the outbox by the worker.
    const first = await eventually(async () => {
      const list = await emailsOf(id);
      return list.length === 1 && list[0].status === 'sent' ? list : undefined;
    });
    expect(first[0]).toMatchObject({
      object: 'email',
      kind: 'payment_failed',
      status: 'sent',
      to: 'ada@example.com',
      payment: id,
      customer,
      transport: 'outbox',
      error: null,
      created_at: new Date(T0).toISOString().replace('.000Z', 'Z'),
      sent_at: new Date(T0).toISOString().replace('.000Z', 'Z'),
    });
    // The customer's locale and zone: German number format, Berlin time; the name is escaped in HTML.
    expect(first[0].text).toContain('49,99');
    expect(first[0].text).toContain('€');
    expect(first[0].subject).toBe('Ihre Zahlung an Acme ist fehlgeschlagen');
    expect(first[0].text).toContain('Hallo Ada <Lovelace>,');
    expect(first[0].html).toContain('Ada &lt;Lovelace&gt;');
    expect(first[0].html).not.toContain('<Lovelace>');
    expect(first[0].text).toContain('26. März 2026 um 11:30 (Europe/Berlin)');
    expect(first[0].text).not.toContain('insufficient_funds');
    expect(first[0].text).toContain('Ihre Bank hat die Zahlung abgelehnt, weil das Konto');
    expect(first[0].text).toMatch(new RegExp(`${t.url}/api/update-payment/${id}\\?sig=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+`));

    await advanceClock(api, clock, new Date(T0 + 2 * DAY_MS));
    const afterFirstRetry = await eventually(async () => {
      const list = await emailsOf(id);
      return list.length === 2 && list.every((e: any) => e.status === 'sent') ? list : undefined;
    });
    expect(afterFirstRetry[1]).toMatchObject({ kind: 'retry_reminder', created_at: new Date(T0 + DAY_MS).toISOString().replace('.000Z', 'Z') });
    expect(afterFirstRetry[1].text).toContain('28. März 2026');

    await advanceClock(api, clock, new Date(T0 + 5 * DAY_MS));
    const all = await eventually(async () => {
      const list = await emailsOf(id);
      return list.length === 3 && list.every((e: any) => e.status === 'sent') ? list : undefined;
    });
    expect(all.map((e: any) => e.kind)).toEqual(['payment_failed', 'retry_reminder', 'rescue_failed']);
    expect(all[2].created_at).toBe(new Date(T0 + 3 * DAY_MS).toISOString().replace('.000Z', 'Z'));
    expect(all[2].text).toContain('/update-payment/');
    expect((await api.get(`/v2/payments/${id}`)).body.status).toBe('failed');

    // Nothing more, however far the clock goes.
    await advanceClock(api, clock, new Date(T0 + 20 * DAY_MS));
    expect((await emailsOf(id)).length).toBe(3);
  }, 120_000);

  it('a rescue that recovers ends with a receipt, and no final notice', async () => {
    const now = (await api.get(`/v2/test_clocks/${clock}`)).body.frozen_time * 1000;
    const pay = await api.post('/v2/payments', {
      amount: 1200,
      currency: 'EUR',
      customer,
      payment_method: `pm_card_insufficientFunds_until_${unix(now + 2 * DAY_MS)}`,
      off_session: true,
      auto_rescue: { enabled: true, max_retries: 3, custom_schedule_days: [1, 3, 5] },
    });
    const id = pay.body.id;
    await advanceClock(api, clock, new Date(now + 6 * DAY_MS));
    const all = await eventually(async () => {
      const list = await emailsOf(id);
      return list.length === 2 && list.every((e: any) => e.status === 'sent') ? list : undefined;
    });
    expect(all.map((e: any) => e.kind)).toEqual(['payment_failed', 'payment_recovered']);
    expect(all[1].subject).toMatch(/^Beleg: 12,00\s€ an Acme bezahlt$/);
    expect(all[1].text).not.toContain('/update-payment/');
    expect((await api.get(`/v2/payments/${id}`)).body.status).toBe('succeeded');
  }, 120_000);

  it('a hard decline on the first attempt sends the payment-failed email with its link, in plain words, and only that', async () => {
    const pay = await api.post('/v2/payments', { amount: 800, currency: 'EUR', customer, payment_method: 'pm_card_visa_chargeDeclinedStolenCard', off_session: true, auto_rescue: { enabled: true } });
    expect(pay.body.status).toBe('failed');
    const list = await eventually(async () => {
      const l = await emailsOf(pay.body.id);
      return l.length === 1 && l[0].status === 'sent' ? l : undefined;
    });
    expect(list[0].kind).toBe('payment_failed');
    // Never the decline code, nor the suspicion behind it.
    expect(list[0].text).toContain('Ihre Bank hat die Zahlung abgelehnt.');
    expect(list[0].text).not.toMatch(/stolen/i);
    expect(list[0].text).toContain('/update-payment/');
    await advanceClock(api, clock, new Date((await api.get(`/v2/test_clocks/${clock}`)).body.frozen_time * 1000 + 20 * DAY_MS));
    expect((await emailsOf(pay.body.id)).length).toBe(1);
  });
});
