import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api-assertions.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// GET /v2/payments and GET /v2/payments/:id as a merchant reads them, plus the 4xx of the two
// rescue actions. Real-time payments (no test clock): every planned retry is days away.

let t: TestRescue;
let api: Client;
let alice: string;
let bob: string;
/** Oldest first, as created. */
const made: { id: string; status: string; customer: string | null }[] = [];

const KEYS = ['id', 'object', 'amount', 'currency', 'status', 'customer', 'payment_method', 'payment_method_details', 'failure_code', 'failure_message', 'auto_rescue', 'rescue_schedule', 'rescue_history', 'off_session', 'livemode', 'metadata', 'test_clock', 'created_at'];

beforeAll(async () => {
  t = await startTestRescue({ worker: false });
  api = t.client((await t.signup()).testKey);
  alice = (await api.post('/v2/customers', { name: 'Alice' })).body.id;
  bob = (await api.post('/v2/customers', { name: 'Bob' })).body.id;
  const plan: [string | null, string, boolean][] = [
    [alice, 'pm_card_visa', false], // succeeded
    [alice, 'pm_card_chargeDeclinedInsufficientFunds', true], // requires_rescue
    [bob, 'pm_card_chargeDeclinedStolenCard', true], // failed (hard)
    [bob, 'pm_card_chargeDeclinedInsufficientFunds', false], // failed (Auto Rescue off)
    [null, 'pm_card_mastercard', false], // succeeded, no customer
    [alice, 'pm_card_chargeDeclinedInsufficientFunds', true], // requires_rescue
    [bob, 'pm_card_visa', false], // succeeded
  ];
  for (const [customer, payment_method, rescue] of plan) {
    const res = await api.post('/v2/payments', {
      amount: 1000 + made.length,
      currency: 'EUR',
      ...(customer ? { customer } : {}),
      payment_method,
      ...(rescue ? { auto_rescue: { enabled: true } } : {}),
    });
    expect(res.status).toBe(201);
    made.push({ id: res.body.id, status: res.body.status, customer });
  }
  expect(made.map((m) => m.status)).toEqual(['succeeded', 'requires_rescue', 'failed', 'failed', 'succeeded', 'requires_rescue', 'succeeded']);
});
afterAll(() => t.close());

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((p) => p.id);
const newestFirst = () => [...made].reverse();

describe('GET /v2/payments', () => {
  it('lists every payment newest first as {object:"list", data, has_more}', async () => {
    const res = await api.get('/v2/payments');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'list', url: '/v2/payments', has_more: false });
    expect(ids(res)).toEqual(newestFirst().map((m) => m.id));
    for (const p of res.body.data) {
      expect(Object.keys(p).sort()).toEqual([...KEYS].sort());
      expect(p.object).toBe('payment');
    }
  });

  it('lists the same payment as GET /v2/payments/:id shows it', async () => {
    const inRescue = made[1]!;
    const one = await api.get(`/v2/payments/${inRescue.id}`);
    expect(one.status).toBe(200);
    const listed = (await api.get('/v2/payments')).body.data.find((p: any) => p.id === inRescue.id);
    expect(listed).toEqual(one.body);
    expect(one.body).toMatchObject({ status: 'requires_rescue', customer: alice, currency: 'EUR', amount: 1001, failure_code: 'insufficient_funds' });
    expect(one.body.rescue_schedule.scheduled_retries.length).toBeGreaterThan(0);
    expect(one.body.rescue_history).toEqual([{ attempt: 1, attempted_at: one.body.created_at, result: 'failed', failure_code: 'insufficient_funds' }]);
  });

  it.each([
    ['requires_rescue'],
    ['failed'],
    ['succeeded'],
    ['rescue_cancelled'],
    ['rescue_in_progress'],
  ])('filters by status=%s', async (status) => {
    const res = await api.get(`/v2/payments?status=${status}`);
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(newestFirst().filter((m) => m.status === status).map((m) => m.id));
    expect(res.body.data.every((p: any) => p.status === status)).toBe(true);
  });

  it('filters by customer, and by customer and status together', async () => {
    const forAlice = await api.get(`/v2/payments?customer=${alice}`);
    expect(ids(forAlice)).toEqual(newestFirst().filter((m) => m.customer === alice).map((m) => m.id));
    expect(forAlice.body.data).toHaveLength(3);
    const bobFailed = await api.get(`/v2/payments?customer=${bob}&status=failed`);
    expect(ids(bobFailed)).toEqual([made[3]!.id, made[2]!.id]);
    const nobody = await api.get('/v2/payments?customer=cus_000000000000000000000000');
    expect(nobody.status).toBe(200);
    expect(nobody.body.data).toEqual([]);
  });

  it('pages with limit and starting_after until has_more is false, without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res = await api.get(`/v2/payments?limit=3${after ? `&starting_after=${after}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...ids(res));
      pages++;
      if (!res.body.has_more) break;
      expect(res.body.data).toHaveLength(3);
      after = seen.at(-1)!;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(newestFirst().map((m) => m.id));
  });

  it('pages within a filter', async () => {
    const first = await api.get(`/v2/payments?customer=${alice}&limit=2`);
    expect(first.body.has_more).toBe(true);
    const second = await api.get(`/v2/payments?customer=${alice}&limit=2&starting_after=${first.body.data[1].id}`);
    expect(second.body.has_more).toBe(false);
    expect([...ids(first), ...ids(second)]).toEqual(newestFirst().filter((m) => m.customer === alice).map((m) => m.id));
    const rescuing = await api.get(`/v2/payments?status=requires_rescue&limit=1`);
    expect(rescuing.body).toMatchObject({ has_more: true });
    expect(ids(rescuing)).toEqual([made[5]!.id]);
  });

  it.each([['status=pending', 'status'], ['status=', 'status'], ['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=ten', 'limit'], ['state=failed', 'state']])('refuses ?%s with 400 naming %s', async (q, param) => {
    expectError(await api.get(`/v2/payments?${q}`), 400, { type: 'invalid_request_error', code: 'parameter_invalid', param });
  });

  it('answers an unknown starting_after with 400 naming starting_after', async () => {
    expectError(await api.get('/v2/payments?starting_after=pay_000000000000000000000000'), 400, { code: 'resource_missing', param: 'starting_after' });
  });

  it('answers an unknown payment id with 404', async () => {
    const res = await api.get('/v2/payments/pay_000000000000000000000000');
    expectError(res, 404, { type: 'invalid_request_error', code: 'resource_missing' });
    expect(res.body.error.message).toContain('pay_000000000000000000000000');
  });
});

describe('cancel_rescue and retry_now refusals', () => {
  it.each([['cancel_rescue'], ['retry_now']])('%s on an unknown payment is a 404', async (action) => {
    expectError(await api.post(`/v2/payments/pay_000000000000000000000000/${action}`), 404, { code: 'resource_missing' });
  });

  it.each([
    ['cancel_rescue', 0, 'succeeded'],
    ['retry_now', 0, 'succeeded'],
    ['cancel_rescue', 2, 'failed'],
    ['retry_now', 3, 'failed'],
  ])('%s on a payment that is %s is a 409 and changes nothing', async (action, index, status) => {
    const p = made[index as number]!;
    expect(p.status).toBe(status);
    const before = (await api.get(`/v2/payments/${p.id}`)).body;
    expectError(await api.post(`/v2/payments/${p.id}/${action}`), 409, { type: 'invalid_request_error', code: 'payment_not_in_rescue' });
    expect((await api.get(`/v2/payments/${p.id}`)).body).toEqual(before);
  });

  it('cancel_rescue refuses an unknown body field (400) and leaves the rescue running', async () => {
    const p = made[5]!;
    expectError(await api.post(`/v2/payments/${p.id}/cancel_rescue`, { reason: 'customer asked' }), 400, { param: 'reason' });
    expect((await api.get(`/v2/payments/${p.id}`)).body.status).toBe('requires_rescue');
  });
});
