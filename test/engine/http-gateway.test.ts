import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { chargesFor, startMerchant, type ChargeCall, type Decision, type Merchant } from '../support/merchant.ts';

// The http gateway against a real merchant endpoint (node:http on 127.0.0.1), statuses driven by
// test clocks. The merchant verifies every request with the standardwebhooks library and charges at
// most once per Idempotency-Key, answering a repeated key with the first result (as Stripe does).

const DAY = 86_400_000;
const MINUTE = 60_000;
// Small, yet far above a loopback round trip even on a busy machine, so only the deliberate delays time out.
const TIMEOUT_MS = 1000;

const BODY_KEYS = ['type', 'idempotency_key', 'attempt_id', 'payment', 'customer', 'payment_method', 'amount', 'currency', 'attempted_at', 'retry_number', 'metadata'];

const keyOf = (c: ChargeCall) => String(c.headers['idempotency-key']);
const at = (iso: string) => Date.parse(iso);

describe.each(ENGINES)('http gateway: the merchant\'s own charge endpoint (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  let merchant: Merchant;
  /** Per payment-method token, what the merchant does; unknown tokens succeed. */
  const scripts = new Map<string, (call: ChargeCall) => Decision>();

  beforeAll(async () => {
    merchant = await startMerchant((call) => {
      const script = scripts.get(call.body?.payment_method);
      return script ? script(call) : { charge: { status: 'succeeded', transaction_id: `txn_${keyOf(call)}` } };
    });
    t = await startTestRescue({ engine, env: { RESCUE_HTTP_GATEWAY_TIMEOUT_MS: String(TIMEOUT_MS) } });
    api = t.client((await t.signup()).testKey);
    const gw = await api.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret });
    expect(gw.status).toBe(200);
    expect(gw.body).toMatchObject({ type: 'http', url: merchant.url, secret: merchant.secret });
  });
  afterAll(async () => {
    await t?.close();
    await merchant?.close();
  });

  async function onClock(start: Date, name: string) {
    const clock = await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000, name });
    expect(clock.status).toBe(201);
    const customer = await api.post('/v2/customers', { email: `${name}@example.com`, name: 'Ada', timezone: 'America/New_York', test_clock: clock.body.id });
    expect(customer.status).toBe(201);
    return { clock: clock.body, customer: customer.body };
  }

  const callsOf = (paymentId: string) => merchant.calls.filter((c) => c.body?.payment === paymentId);

  /** Every request Rescue sent was signed, verified, and carried the key in header and body. */
  function expectWellFormed(calls: ChargeCall[]) {
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) {
      expect(c.signatureError).toBeNull();
      expect(c.headers['webhook-id']).toBeTruthy();
      expect(c.headers['webhook-timestamp']).toMatch(/^\d+$/);
      expect(c.headers['webhook-signature']).toMatch(/^v1,/);
      expect(c.headers['idempotency-key']).toBeTruthy();
      expect(c.body.idempotency_key).toBe(keyOf(c));
      expect(Object.keys(c.body)).toEqual(expect.arrayContaining(BODY_KEYS));
      expect(c.body.type).toBe('charge');
    }
  }

  it('sends signed charges; a soft decline goes requires_rescue, a later retry succeeds, each at its scheduled time', async () => {
    const start = new Date('2026-03-25T10:30:00Z');
    const fundsBack = start.getTime() + 5 * DAY;
    const token = 'pm_merchant_nsf_then_ok';
    scripts.set(token, (call) =>
      at(call.body.attempted_at) < fundsBack
        ? { charge: { status: 'failed', decline_code: 'insufficient_funds', message: 'Not enough money' } }
        : { charge: { status: 'succeeded', transaction_id: `txn_${call.body.attempt_id}` } },
    );
    const { clock, customer } = await onClock(start, 'nsf');
    const created = await api.post('/v2/payments', {
      amount: 4999,
      currency: 'usd',
      customer: customer.id,
      payment_method: token,
      off_session: true,
      auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 },
      metadata: { subscription_id: 'sub_xyz789' },
    });
    expect(created.status).toBe(201);
    const p = created.body;
    expect(p).toMatchObject({ status: 'requires_rescue', failure_code: 'insufficient_funds', auto_rescue: { status: 'active', attempts_made: 1 } });
    const firstRetryAt = p.rescue_schedule.scheduled_retries[0].scheduled_at;

    const [first] = callsOf(p.id);
    expectWellFormed([first!]);
    expect(first!.body).toMatchObject({
      type: 'charge',
      payment: p.id,
      customer: { id: customer.id, email: 'nsf@example.com', name: 'Ada', timezone: 'America/New_York' },
      payment_method: token,
      amount: 4999,
      currency: 'USD',
      retry_number: 0,
      metadata: { subscription_id: 'sub_xyz789' },
    });
    expect(first!.body.attempt_id).toMatch(/^att_/);
    expect(at(first!.body.attempted_at)).toBe(start.getTime());

    await advanceClock(api, clock.id, new Date(start.getTime() + 20 * DAY));
    const after = (await api.get(`/v2/payments/${p.id}`)).body;
    expect(after.status).toBe('succeeded');
    expect(after.auto_rescue.status).toBe('recovered');
    const history = after.rescue_history;
    expect(history.length).toBeGreaterThanOrEqual(2);
    expect(history.at(-1).result).toBe('succeeded');
    expect(history.slice(0, -1).every((h: any) => h.result === 'failed' && h.failure_code === 'insufficient_funds')).toBe(true);

    // One request per attempt, each with its own key, sent at the attempt's scheduled clock time.
    const calls = callsOf(p.id);
    expectWellFormed(calls);
    expect(calls).toHaveLength(history.length);
    expect(new Set(calls.map(keyOf)).size).toBe(calls.length);
    calls.forEach((c, i) => {
      expect(c.body.retry_number).toBe(i);
      expect(at(c.body.attempted_at)).toBe(at(history[i].attempted_at));
    });
    expect(at(calls[1]!.body.attempted_at)).toBe(at(firstRetryAt));
    expect(at(calls.at(-1)!.body.attempted_at)).toBeGreaterThanOrEqual(fundsBack);
    expect(calls.slice(0, -1).every((c) => at(c.body.attempted_at) < fundsBack)).toBe(true);
    expect(chargesFor(merchant, p.id).filter((c) => c.answer.status === 'succeeded')).toHaveLength(1);
  });

  it('fails a hard decline from the merchant at once and never retries it', async () => {
    const start = new Date('2026-05-01T12:00:00Z');
    const token = 'pm_merchant_stolen';
    scripts.set(token, () => ({ charge: { status: 'failed', decline_code: 'stolen_card', message: 'Stolen' } }));
    const { clock, customer } = await onClock(start, 'hard');
    const created = await api.post('/v2/payments', { amount: 1500, currency: 'EUR', customer: customer.id, payment_method: token, auto_rescue: { enabled: true } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'failed', failure_code: 'stolen_card', rescue_schedule: null, auto_rescue: { status: 'not_retryable' } });
    await advanceClock(api, clock.id, new Date(start.getTime() + 30 * DAY));
    const after = (await api.get(`/v2/payments/${created.body.id}`)).body;
    expect(after.status).toBe('failed');
    expect(after.rescue_history).toHaveLength(1);
    expect(callsOf(created.body.id)).toHaveLength(1);
  });

  it('re-asks an attempt the merchant answered with 500 under the same key until it answers, and charges once', async () => {
    const start = new Date('2026-06-02T15:00:00Z');
    const token = 'pm_merchant_flaky';
    scripts.set(token, (call) => {
      if (call.body.retry_number === 0) return { charge: { status: 'failed', decline_code: 'insufficient_funds' } };
      // The merchant's endpoint is down for the retry's first two requests, then charges.
      return merchant.callsFor(keyOf(call)).length <= 2 ? { http: 500 } : { charge: { status: 'succeeded', transaction_id: `txn_${call.body.attempt_id}` } };
    });
    const { clock, customer } = await onClock(start, 'flaky');
    const created = await api.post('/v2/payments', { amount: 2500, currency: 'USD', customer: customer.id, payment_method: token, auto_rescue: { enabled: true } });
    expect(created.body.status).toBe('requires_rescue');
    const retryAt = at(created.body.rescue_schedule.next_retry_at);

    // First try of the retry: 500. The payment has no answer yet: it is neither won nor lost.
    await advanceClock(api, clock.id, new Date(retryAt + 30_000));
    const during = (await api.get(`/v2/payments/${created.body.id}`)).body;
    expect(['requires_rescue', 'rescue_in_progress']).toContain(during.status);
    expect(during.rescue_history).toHaveLength(1);
    expect(callsOf(created.body.id)).toHaveLength(2);

    await advanceClock(api, clock.id, new Date(retryAt + 60 * MINUTE));
    const after = (await api.get(`/v2/payments/${created.body.id}`)).body;
    expect(after.status).toBe('succeeded');
    expect(after.rescue_history.map((h: any) => h.result)).toEqual(['failed', 'succeeded']);

    const calls = callsOf(created.body.id);
    expectWellFormed(calls);
    const [firstCall, ...retry] = calls;
    expect(retry).toHaveLength(3);
    // The same attempt, the same key, each request at its own re-ask time (1 min, then 5 min later).
    expect(new Set(retry.map(keyOf)).size).toBe(1);
    expect(keyOf(retry[0]!)).not.toBe(keyOf(firstCall!));
    expect(new Set(retry.map((c) => c.body.attempt_id)).size).toBe(1);
    expect(retry.map((c) => c.body.retry_number)).toEqual([1, 1, 1]);
    expect(retry.map((c) => at(c.body.attempted_at) - retryAt)).toEqual([0, MINUTE, 6 * MINUTE]);
    expect(at(after.rescue_history[1].attempted_at)).toBe(retryAt + 6 * MINUTE);
    expect(chargesFor(merchant, created.body.id).map((c) => c.answer.status)).toEqual(['failed', 'succeeded']);
  });

  it('re-asks a timed-out first attempt under the same key and takes the merchant\'s first result: one charge', async () => {
    const start = new Date('2026-07-07T09:00:00Z');
    const token = 'pm_merchant_slow';
    // The merchant charges at once but its answer comes after Rescue gave up waiting.
    scripts.set(token, (call) => {
      const charge = { status: 'succeeded' as const, transaction_id: `txn_${call.body.attempt_id}` };
      return call.replayed ? { charge } : { charge, deliver: { delayMs: TIMEOUT_MS * 3 } };
    });
    const { clock, customer } = await onClock(start, 'slow');
    const created = await api.post('/v2/payments', { amount: 1200, currency: 'USD', customer: customer.id, payment_method: token, auto_rescue: { enabled: true } });
    expect(created.status).toBe(201);
    // No answer: neither succeeded nor a decline, and no rescue started on a guess.
    expect(created.body.status).toBe('processing');
    expect(created.body.rescue_history).toEqual([]);
    expect(merchant.ledger.get(keyOf(callsOf(created.body.id)[0]!))?.status).toBe('succeeded');

    await advanceClock(api, clock.id, new Date(start.getTime() + 10 * MINUTE));
    const after = (await api.get(`/v2/payments/${created.body.id}`)).body;
    expect(after.status).toBe('succeeded');
    expect(after.rescue_history).toHaveLength(1);
    const calls = callsOf(created.body.id);
    expectWellFormed(calls);
    expect(calls).toHaveLength(2);
    expect(keyOf(calls[1]!)).toBe(keyOf(calls[0]!));
    expect(calls[1]!.replayed).toBe(true);
    expect(at(calls[1]!.body.attempted_at)).toBe(start.getTime() + MINUTE);
    expect(chargesFor(merchant, created.body.id)).toHaveLength(1);
  });

  it('never sends a new key while an attempt is unanswered, even when the merchant never answers', async () => {
    const start = new Date('2026-08-10T08:00:00Z');
    const token = 'pm_merchant_black_hole';
    // The first attempt declines; the retry is charged, but every answer to it is lost.
    scripts.set(token, (call) =>
      call.body.retry_number === 0
        ? { charge: { status: 'failed', decline_code: 'insufficient_funds' } }
        : { charge: { status: 'succeeded', transaction_id: `txn_${call.body.attempt_id}` }, deliver: { http: 503 } },
    );
    const { clock, customer } = await onClock(start, 'blackhole');
    const created = await api.post('/v2/payments', { amount: 3100, currency: 'USD', customer: customer.id, payment_method: token, auto_rescue: { enabled: true, retry_window_days: 14 } });
    expect(created.body.status).toBe('requires_rescue');

    await advanceClock(api, clock.id, new Date(start.getTime() + 30 * DAY));
    const calls = callsOf(created.body.id);
    expectWellFormed(calls);
    const keys = [...new Set(calls.map(keyOf))];
    // The first attempt's key, then the retry's key re-asked over and over: never a third key, so
    // never a second charge.
    expect(keys).toHaveLength(2);
    expect(calls.filter((c) => keyOf(c) === keys[1]).length).toBeGreaterThan(1);
    expect(chargesFor(merchant, created.body.id).filter((c) => c.answer.status === 'succeeded')).toHaveLength(1);
    // Re-asks stop with the rescue window: the work is bounded and the clock came to rest.
    expect(calls.every((c) => at(c.body.attempted_at) <= start.getTime() + 14 * DAY)).toBe(true);
    // Past the window the rescue ends as a technical failure, with no attempt under a new key.
    const after = (await api.get(`/v2/payments/${created.body.id}`)).body;
    expect(after).toMatchObject({ status: 'failed', failure_code: 'gateway_error', auto_rescue: { status: 'exhausted', end_reason: 'window_closed' } });
    expect(after.rescue_history.map((h: any) => h.result)).toEqual(['failed', 'failed']);
  });
});
