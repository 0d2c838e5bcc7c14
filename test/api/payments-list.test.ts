import { Rescue, type List, type Payment } from '@rescue/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api-assertions.ts';
import { expectRejected } from '../support/client-assertions.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';

// GET /v2/payments and GET /v2/payments/:id as a merchant reads them through @rescue/client (the
// Plexy SDK's payments.list / retrieve / cancelRescue / retryNow), plus the 4xx of the two rescue
// actions. Real-time payments (no test clock): every planned retry is days away.

let t: TestRescue;
let api: Rescue;
let key: string;
let alice: string;
let bob: string;
/** Oldest first, as created. */
const made: { id: string; status: string; customer: string | null }[] = [];

const KEYS = ['id', 'object', 'amount', 'currency', 'status', 'customer', 'payment_method', 'payment_method_details', 'failure_code', 'failure_message', 'auto_rescue', 'rescue_schedule', 'rescue_history', 'off_session', 'livemode', 'metadata', 'test_clock', 'created_at'];

beforeAll(async () => {
  t = await startTestRescue({ worker: false });
  key = (await t.signup()).testKey;
  api = new Rescue({ apiKey: key, baseUrl: t.url });
  alice = (await api.customers.create({ name: 'Alice' })).id;
  bob = (await api.customers.create({ name: 'Bob' })).id;
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
    const payment = await api.payments.create({
      amount: 1000 + made.length,
      currency: 'EUR',
      ...(customer ? { customer } : {}),
      payment_method,
      ...(rescue ? { auto_rescue: { enabled: true } } : {}),
    });
    made.push({ id: payment.id, status: payment.status, customer });
  }
  expect(made.map((m) => m.status)).toEqual(['succeeded', 'requires_rescue', 'failed', 'failed', 'succeeded', 'requires_rescue', 'succeeded']);
});
afterAll(() => t.close());

const ids = (page: List<Payment>) => page.data.map((p) => p.id);
const newestFirst = () => [...made].reverse();

describe('GET /v2/payments', () => {
  it('lists every payment newest first as {object:"list", data, has_more}', async () => {
    const page = await api.payments.list();
    expect(page).toMatchObject({ object: 'list', url: '/v2/payments', has_more: false });
    expect(ids(page)).toEqual(newestFirst().map((m) => m.id));
    for (const p of page.data) {
      expect(Object.keys(p).sort()).toEqual([...KEYS].sort());
      expect(p.object).toBe('payment');
    }
  });

  it('lists the same payment as GET /v2/payments/:id shows it', async () => {
    const inRescue = made[1]!;
    const one = await api.payments.retrieve(inRescue.id);
    const listed = (await api.payments.list()).data.find((p) => p.id === inRescue.id);
    expect(listed).toEqual(one);
    expect(one).toMatchObject({ status: 'requires_rescue', customer: alice, currency: 'EUR', amount: 1001, failure_code: 'insufficient_funds' });
    expect(one.rescue_schedule!.scheduled_retries.length).toBeGreaterThan(0);
    expect(one.rescue_history).toEqual([{ attempt: 1, attempted_at: one.created_at, result: 'failed', failure_code: 'insufficient_funds' }]);
  });

  it.each([
    ['requires_rescue'],
    ['failed'],
    ['succeeded'],
    ['rescue_cancelled'],
    ['rescue_in_progress'],
  ] as const)('filters by status=%s', async (status) => {
    const page = await api.payments.list({ status });
    expect(ids(page)).toEqual(newestFirst().filter((m) => m.status === status).map((m) => m.id));
    expect(page.data.every((p) => p.status === status)).toBe(true);
  });

  it('filters by customer, and by customer and status together', async () => {
    const forAlice = await api.payments.list({ customer: alice });
    expect(ids(forAlice)).toEqual(newestFirst().filter((m) => m.customer === alice).map((m) => m.id));
    expect(forAlice.data).toHaveLength(3);
    const bobFailed = await api.payments.list({ customer: bob, status: 'failed' });
    expect(ids(bobFailed)).toEqual([made[3]!.id, made[2]!.id]);
    const nobody = await api.payments.list({ customer: 'cus_000000000000000000000000' });
    expect(nobody.data).toEqual([]);
  });

  it('pages with limit and starting_after until has_more is false, without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await api.payments.list({ limit: 3, ...(after ? { starting_after: after } : {}) });
      expect(page.data.length).toBeLessThanOrEqual(3);
      seen.push(...ids(page));
      pages++;
      if (!page.has_more) break;
      expect(page.data).toHaveLength(3);
      after = seen.at(-1)!;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(newestFirst().map((m) => m.id));
    // The client walks the same pages itself.
    const walked: string[] = [];
    for await (const p of api.payments.list({ limit: 3 })) walked.push(p.id);
    expect(walked).toEqual(seen);
  });

  it('pages within a filter', async () => {
    const first = await api.payments.list({ customer: alice, limit: 2 });
    expect(first.has_more).toBe(true);
    const second = await api.payments.list({ customer: alice, limit: 2, starting_after: first.data[1]!.id });
    expect(second.has_more).toBe(false);
    expect([...ids(first), ...ids(second)]).toEqual(newestFirst().filter((m) => m.customer === alice).map((m) => m.id));
    const rescuing = await api.payments.list({ status: 'requires_rescue', limit: 1 });
    expect(rescuing).toMatchObject({ has_more: true });
    expect(ids(rescuing)).toEqual([made[5]!.id]);
  });

  // Values the client's types refuse, sent anyway (as from plain JavaScript).
  it.each([
    [{ status: 'pending' }, 'status'],
    [{ status: '' }, 'status'],
    [{ limit: 0 }, 'limit'],
    [{ limit: 101 }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ state: 'failed' }, 'state'],
  ])('refuses %o with 400 naming %s', async (query, param) => {
    await expectRejected(api.payments.list(query as never), 400, { type: 'invalid_request_error', code: 'parameter_invalid', param });
  });

  it('answers an unknown starting_after with 400 naming starting_after', async () => {
    await expectRejected(api.payments.list({ starting_after: 'pay_000000000000000000000000' }), 400, { code: 'resource_missing', param: 'starting_after' });
  });

  it('answers an unknown payment id with 404', async () => {
    const err = await expectRejected(api.payments.retrieve('pay_000000000000000000000000'), 404, { type: 'invalid_request_error', code: 'resource_missing' });
    expect(err.message).toContain('pay_000000000000000000000000');
  });
});

describe('cancel_rescue and retry_now refusals', () => {
  const act = (action: 'cancel_rescue' | 'retry_now', id: string) => (action === 'cancel_rescue' ? api.payments.cancelRescue(id) : api.payments.retryNow(id));

  it.each([['cancel_rescue'], ['retry_now']] as const)('%s on an unknown payment is a 404', async (action) => {
    await expectRejected(act(action, 'pay_000000000000000000000000'), 404, { code: 'resource_missing' });
  });

  it.each([
    ['cancel_rescue', 0, 'succeeded'],
    ['retry_now', 0, 'succeeded'],
    ['cancel_rescue', 2, 'failed'],
    ['retry_now', 3, 'failed'],
  ] as const)('%s on a payment that is %s is a 409 and changes nothing', async (action, index, status) => {
    const p = made[index]!;
    expect(p.status).toBe(status);
    const before = await api.payments.retrieve(p.id);
    await expectRejected(act(action, p.id), 409, { type: 'invalid_request_error', code: 'payment_not_in_rescue' });
    expect(await api.payments.retrieve(p.id)).toEqual(before);
  });

  it('cancel_rescue refuses an unknown body field (400) and leaves the rescue running', async () => {
    const p = made[5]!;
    // A body the client never sends: over plain HTTP.
    expectError(await t.client(key).post(`/v2/payments/${p.id}/cancel_rescue`, { reason: 'customer asked' }), 400, { param: 'reason' });
    expect((await api.payments.retrieve(p.id)).status).toBe('requires_rescue');
  });
});
