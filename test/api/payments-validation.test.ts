import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, expectError, rawRequest } from '../support/api-assertions.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// POST /v2/payments, field by field, against the seed's "Configuration Options" table. Every refused
// request must leave no payment behind.

let t: TestRescue;
let api: Client;
let key: string;
let accepted = 0;

const BASE = { amount: 4999, currency: 'USD', payment_method: 'pm_card_visa' };

beforeAll(async () => {
  t = await startTestRescue({ worker: false });
  key = (await t.signup()).testKey;
  api = t.client(key);
});
afterAll(() => t.close());

async function paymentCount(): Promise<number> {
  const res = await api.get('/v2/payments?limit=100');
  expect(res.status).toBe(200);
  return res.body.data.length;
}

async function expectRefused(body: unknown, status: number, param: string | null, code?: string) {
  const res = await api.post('/v2/payments', body);
  expectError(res, status, { type: 'invalid_request_error', param, ...(code ? { code } : {}) });
  expect(await paymentCount()).toBe(accepted);
  return res;
}

async function expectAccepted(body: unknown) {
  const res = await api.post('/v2/payments', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  accepted++;
  return res.body;
}

describe('amount', () => {
  it.each([
    ['negative', -100],
    ['zero', 0],
    ['not an integer', 49.99],
    ['a string', '4999'],
    ['null', null],
    ['a boolean', true],
    ['over 99,999,999', 100_000_000],
  ])('refuses an amount that is %s (400 amount)', async (_name, amount) => {
    await expectRefused({ ...BASE, amount }, 400, 'amount', 'parameter_invalid');
  });

  it('refuses a missing amount as parameter_missing', async () => {
    const { amount: _, ...rest } = BASE;
    await expectRefused(rest, 400, 'amount', 'parameter_missing');
  });

  it('accepts 1 and 99,999,999 minor units', async () => {
    expect((await expectAccepted({ ...BASE, amount: 1 })).amount).toBe(1);
    expect((await expectAccepted({ ...BASE, amount: 99_999_999 })).amount).toBe(99_999_999);
  });
});

describe('currency', () => {
  it.each([['XYZ'], ['US'], ['dollars'], [''], [840], [null]])('refuses currency %j (400 currency)', async (currency) => {
    await expectRefused({ ...BASE, currency }, 400, 'currency');
  });

  it('refuses a missing currency', async () => {
    const { currency: _, ...rest } = BASE;
    await expectRefused(rest, 400, 'currency', 'parameter_missing');
  });

  it('accepts ISO 4217 codes in any case and answers them upper-case', async () => {
    expect((await expectAccepted({ ...BASE, currency: 'usd' })).currency).toBe('USD');
    expect((await expectAccepted({ ...BASE, currency: 'jpy', amount: 500 })).currency).toBe('JPY');
    expect((await expectAccepted({ ...BASE, currency: 'KWD' })).currency).toBe('KWD');
  });
});

describe('other top-level fields', () => {
  it.each([
    ['a missing payment_method', { payment_method: undefined }, 'payment_method'],
    ['an empty payment_method', { payment_method: '' }, 'payment_method'],
    ['off_session that is not a boolean', { off_session: 'yes' }, 'off_session'],
    ['metadata that is not an object', { metadata: ['sub_1'] }, 'metadata'],
    ['a metadata value that is not a string', { metadata: { subscription_id: 42 } }, 'metadata[subscription_id]'],
    ['auto_rescue that is not an object', { auto_rescue: true }, 'auto_rescue'],
    ['a customer that is not a string', { customer: 123 }, 'customer'],
    ['an unknown field', { description: 'Gold plan' }, 'description'],
    ['an unknown field that looks like a typo', { offsession: true }, 'offsession'],
  ])('refuses %s (400 naming it)', async (_name, change, param) => {
    await expectRefused({ ...BASE, ...change }, 400, param);
  });

  it('refuses a customer id that is not a plain token (400 naming customer), and writes nothing', async () => {
    const res = await expectRefused({ ...BASE, customer: 'cus abc/123' }, 400, 'customer');
    expect(res.body.error.message).toContain('customer id');
  });
});

describe('auto_rescue', () => {
  const ar = (auto_rescue: Record<string, unknown>) => ({ ...BASE, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true, ...auto_rescue } });

  it.each([
    ['max_retries 0', { max_retries: 0 }, 'auto_rescue[max_retries]'],
    ['max_retries 9', { max_retries: 9 }, 'auto_rescue[max_retries]'],
    ['max_retries 2.5', { max_retries: 2.5 }, 'auto_rescue[max_retries]'],
    ['max_retries "4"', { max_retries: '4' }, 'auto_rescue[max_retries]'],
    ['retry_window_days 6', { retry_window_days: 6 }, 'auto_rescue[retry_window_days]'],
    ['retry_window_days 31', { retry_window_days: 31 }, 'auto_rescue[retry_window_days]'],
    ['retry_schedule "weekly"', { retry_schedule: 'weekly' }, 'auto_rescue[retry_schedule]'],
    ['enabled "true"', { enabled: 'true' }, 'auto_rescue[enabled]'],
    ['notify_customer 1', { notify_customer: 1 }, 'auto_rescue[notify_customer]'],
    ['check_account_updater "no"', { check_account_updater: 'no' }, 'auto_rescue[check_account_updater]'],
    ['an unknown option', { retry_hours: 3 }, 'auto_rescue[retry_hours]'],
    ['custom days not ascending', { retry_schedule: 'custom', custom_schedule_days: [1, 3, 2] }, 'auto_rescue[custom_schedule_days][2]'],
    ['a repeated custom day', { retry_schedule: 'custom', custom_schedule_days: [1, 1] }, 'auto_rescue[custom_schedule_days][1]'],
    ['custom day 0', { retry_schedule: 'custom', custom_schedule_days: [0, 2] }, 'auto_rescue[custom_schedule_days][0]'],
    ['a fractional custom day', { retry_schedule: 'custom', custom_schedule_days: [1, 2.5] }, 'auto_rescue[custom_schedule_days][1]'],
    ['custom day 31 (beyond the longest window)', { retry_schedule: 'custom', custom_schedule_days: [1, 31] }, 'auto_rescue[custom_schedule_days][1]'],
    ['no custom days at all', { retry_schedule: 'custom', custom_schedule_days: [] }, 'auto_rescue[custom_schedule_days]'],
    ['custom days that are not an array', { retry_schedule: 'custom', custom_schedule_days: '1,3,7' }, 'auto_rescue[custom_schedule_days]'],
    ['a custom day beyond an explicit window', { retry_schedule: 'custom', custom_schedule_days: [1, 5, 10], retry_window_days: 7 }, 'auto_rescue[custom_schedule_days][2]'],
    ['retry_schedule custom without days', { retry_schedule: 'custom' }, 'auto_rescue[custom_schedule_days]'],
    ['custom days with retry_schedule automatic', { retry_schedule: 'automatic', custom_schedule_days: [1, 3] }, 'auto_rescue[custom_schedule_days]'],
    ['more custom days than max_retries', { custom_schedule_days: [1, 2, 3], max_retries: 2 }, 'auto_rescue[custom_schedule_days]'],
  ])('refuses %s (400 naming the nested param)', async (_name, options, param) => {
    await expectRefused(ar(options), 400, param, 'parameter_invalid');
  });

  it('accepts the seed\'s per-payment example as written', async () => {
    const p = await expectAccepted({
      amount: 4999,
      currency: 'USD',
      payment_method: 'pm_card_visa_abc123',
      off_session: true,
      auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 },
      metadata: { subscription_id: 'sub_xyz789' },
    });
    expect(p).toMatchObject({ status: 'succeeded', amount: 4999, currency: 'USD', off_session: true, metadata: { subscription_id: 'sub_xyz789' }, auto_rescue: { enabled: true, status: 'not_needed', max_retries: 4 } });
  });

  it('accepts the seed\'s custom example with no window: five retries on days 1, 2, 5, 10, 15', async () => {
    const start = Date.parse('2026-03-25T10:30:00Z');
    const clock = (await api.post('/v2/test_clocks', { frozen_time: start / 1000 })).body;
    const customer = (await api.post('/v2/customers', { test_clock: clock.id })).body;
    const p = await expectAccepted({
      amount: 4999,
      currency: 'USD',
      customer: customer.id,
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      off_session: true,
      auto_rescue: { enabled: true, retry_schedule: 'custom', custom_schedule_days: [1, 2, 5, 10, 15], max_retries: 5 },
    });
    expect(p.status).toBe('requires_rescue');
    expect(p.auto_rescue).toMatchObject({ enabled: true, status: 'active', attempts_made: 1, max_retries: 5 });
    const retries = p.rescue_schedule.scheduled_retries;
    expect(retries.map((r: any) => r.retry_number)).toEqual([1, 2, 3, 4, 5]);
    expect(retries.map((r: any) => (Date.parse(r.scheduled_at) - start) / DAY_MS)).toEqual([1, 2, 5, 10, 15]);
    expect(p.rescue_schedule.next_retry_at).toBe(retries[0].scheduled_at);
    // The window stretches to the last day so the fifth retry is inside it.
    expect(Date.parse(p.auto_rescue.retry_window_ends_at)).toBeGreaterThanOrEqual(start + 15 * DAY_MS);
  });

  it('accepts a custom day equal to an explicit window, and days alone (count = days)', async () => {
    const p = await expectAccepted(ar({ retry_schedule: 'custom', custom_schedule_days: [1, 3, 7], retry_window_days: 7 }));
    expect(p.status).toBe('requires_rescue');
    expect(p.rescue_schedule.scheduled_retries).toHaveLength(3);
    const q = await expectAccepted(ar({ custom_schedule_days: [2, 4] }));
    expect(q.auto_rescue.max_retries).toBe(2);
    expect(q.rescue_schedule.scheduled_retries).toHaveLength(2);
  });

  it('accepts the range ends: 1 and 8 retries, 7 and 30 days', async () => {
    for (const options of [{ max_retries: 1, retry_window_days: 7 }, { max_retries: 8, retry_window_days: 30 }]) {
      const p = await expectAccepted(ar(options));
      expect(p.status).toBe('requires_rescue');
      expect(p.auto_rescue.max_retries).toBe(options.max_retries);
      expect(p.rescue_schedule.scheduled_retries.length).toBeLessThanOrEqual(options.max_retries);
      const window = Date.parse(p.auto_rescue.retry_window_ends_at) - Date.parse(p.created_at);
      expect(window).toBe(options.retry_window_days * DAY_MS);
    }
  });
});

describe('bodies that are not a payment', () => {
  const post = (body: string | undefined, contentType?: string) =>
    rawRequest(t.url, 'POST', '/v2/payments', { headers: { authorization: `Bearer ${key}`, ...(contentType ? { 'content-type': contentType } : {}) }, body });

  it.each([
    ['truncated JSON', '{"amount": 4999, "currency": "USD"'],
    ['single-quoted JSON', "{'amount': 4999}"],
    ['a trailing comma', '{"amount": 4999,}'],
    ['form encoding sent as JSON', 'amount=4999&currency=USD'],
  ])('answers %s with 400 invalid_json', async (_name, body) => {
    expectError(await post(body, 'application/json'), 400, { type: 'invalid_request_error', code: 'invalid_json' });
    expect(await paymentCount()).toBe(accepted);
  });

  it.each([
    ['a JSON array', '[{"amount": 4999}]'],
    ['a JSON string', '"pay me"'],
    ['JSON null', 'null'],
  ])('answers %s with a 400 JSON error', async (_name, body) => {
    const res = await post(body, 'application/json');
    expectError(res, 400, { type: 'invalid_request_error' });
    expect(await paymentCount()).toBe(accepted);
  });

  it('answers an empty body as missing parameters, not a crash', async () => {
    expectError(await post('', 'application/json'), 400, { code: 'parameter_missing', param: 'amount' });
    expectError(await post(undefined), 400, { code: 'parameter_missing', param: 'amount' });
  });

  it('answers a non-JSON content type with 415 and a JSON error, never a 500', async () => {
    const res = await post('amount=4999&currency=USD', 'application/x-www-form-urlencoded');
    expectError(res, 415, { type: 'invalid_request_error', code: 'unsupported_media_type' });
  });

  it('answers a body over 1 MiB with 413 and a JSON error', async () => {
    const res = await post(JSON.stringify({ amount: 4999, currency: 'USD', payment_method: 'pm_card_visa', metadata: { big: 'x'.repeat(1_100_000) } }), 'application/json');
    expectError(res, 413, { type: 'invalid_request_error', code: 'payload_too_large' });
  });

  it('left no payment behind for any refused request', async () => {
    const all = (await api.get('/v2/payments?limit=100')).body.data;
    expect(all).toHaveLength(accepted);
    expect(accepted).toBeGreaterThan(5);
  });
});
