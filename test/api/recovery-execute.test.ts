import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api-assertions.ts';
import { request, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// POST /api/recovery/execute and GET /api/recovery/:id against a real server and the sandbox card
// network: every answer the seed names (200 / 202 / 403 / 409), each reached by real inputs, with
// the exact keys of each body; and a 400 for each kind of bad input.

let t: TestRescue;
let api: Client;
let key: string;
beforeAll(async () => {
  t = await startTestRescue({ worker: false });
  key = (await t.signup()).testKey;
  api = t.client(key);
});
afterAll(() => t.close());

let n = 0;
const handOff = (over: Record<string, unknown> = {}) => ({
  paymentMethodToken: 'pm_card_visa',
  amount: 4999,
  currency: 'USD',
  originalDeclineCode: 'insufficient_funds',
  cardOrigin: 'US',
  idempotencyKey: `order_${++n}_recovery`,
  ...over,
});
const execute = (body: unknown) => api.post('/api/recovery/execute', body);
const RECOVERY_KEYS = [
  'id', 'object', 'status', 'amount', 'currency', 'originalDeclineCode', 'declineCategory', 'lastDeclineCode', 'paymentMethodType', 'cardOrigin',
  'idempotencyKey', 'transactionId', 'attempts', 'maxRetries', 'nextRetryAt', 'scheduledRetries', 'retryWindowEndsAt', 'endReason', 'endedAt',
  'experimentGroup', 'prediction', 'paymentMethods', 'history', 'payment', 'customer', 'metadata', 'livemode', 'createdAt',
].sort();

describe('the four answers', () => {
  it('200: an issuer outage is retried within the request and recovered', async () => {
    const res = await execute(handOff({ originalDeclineCode: 'issuer_unavailable', metadata: { order: '42' } }));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['attempts', 'message', 'recovered', 'recovery', 'recoveryId', 'success', 'transactionId']);
    expect(res.body).toMatchObject({ success: true, recovered: true, transactionId: expect.stringMatching(/^txn_sbx_/), recoveryId: expect.stringMatching(/^rec_/), attempts: 2 });
    const r = res.body.recovery;
    expect(Object.keys(r).sort()).toEqual(RECOVERY_KEYS);
    expect(r).toMatchObject({ status: 'recovered', amount: 4999, currency: 'USD', originalDeclineCode: 'issuer_unavailable', cardOrigin: 'US', transactionId: res.body.transactionId, metadata: { order: '42' } });
    expect(r.history).toEqual([
      expect.objectContaining({ attempt: 1, result: 'failed', declineCode: 'issuer_unavailable', chargedBy: 'merchant' }),
      expect.objectContaining({ attempt: 2, result: 'succeeded', declineCode: null, chargedBy: 'rescue' }),
    ]);
    expect((await api.get(`/api/recovery/${r.id}`)).body).toEqual({ success: true, ...r });
  });

  it('a network timeout and a gateway error are immediate too; a processing error waits 24 h (the Plexy table)', async () => {
    expect((await execute(handOff({ originalDeclineCode: 'network_timeout' }))).status).toBe(200);
    expect((await execute(handOff({ originalDeclineCode: 'gateway_error' }))).status).toBe(200);
    const processing = await execute(handOff({ originalDeclineCode: 'processing_error' }));
    expect(processing.status).toBe(202);
    expect(processing.body.recovery.history).toHaveLength(1);
    const gap = Date.parse(processing.body.nextRetryAt) - Date.parse(processing.body.recovery.createdAt);
    expect(gap).toBeGreaterThanOrEqual(24 * 3_600_000);
  });

  it('202: an immediate retry that fails again falls through to the schedule, and the retry counted', async () => {
    const res = await execute(handOff({ paymentMethodToken: 'pm_card_chargeDeclinedIssuerUnavailable', originalDeclineCode: 'issuer_unavailable' }));
    expect(res.status).toBe(202);
    expect(res.body.recovery.history.map((h: any) => h.result)).toEqual(['failed', 'failed']);
    expect(res.body.recovery.attempts).toBe(2);
    expect(res.body.recovery.scheduledRetries.map((s: any) => s.retryNumber)[0]).toBe(2);
  });

  it('202: a soft decline is queued with recoveryId and nextRetryAt', async () => {
    const res = await execute(handOff({ paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds' }));
    expect(res.status).toBe(202);
    expect(Object.keys(res.body).sort()).toEqual(['message', 'nextRetryAt', 'queued', 'recovery', 'recoveryId', 'recoveryScore', 'success']);
    expect(res.body).toMatchObject({ success: false, queued: true, recoveryId: expect.stringMatching(/^rec_/), nextRetryAt: expect.stringMatching(/Z$/) });
    expect(res.body.nextRetryAt).toBe(res.body.recovery.scheduledRetries[0].scheduledAt);
    expect(res.body.message).toContain(res.body.nextRetryAt);
    expect(res.body.recovery).toMatchObject({ status: 'queued', attempts: 1, maxRetries: 4, history: [expect.objectContaining({ attempt: 1, result: 'failed', chargedBy: 'merchant' })] });
    // The same payment through the Plexy API.
    const payment = (await api.get(`/v2/payments/${res.body.recovery.payment}`)).body;
    expect(payment).toMatchObject({ status: 'requires_rescue', failure_code: 'insufficient_funds', auto_rescue: { enabled: true, status: 'active', attempts_made: 1 } });
    expect(payment.rescue_schedule.next_retry_at).toBe(res.body.nextRetryAt);
  });

  it('Auto Rescue always applies to hand-offs, with the account\'s budget', async () => {
    const set = await api.post('/v2/settings/auto_rescue', { enabled: false, max_retries: 6, retry_window_days: 21 });
    expect(set.status).toBe(200);
    const res = await execute(handOff({ originalDeclineCode: 'do_not_honor' }));
    expect(res.status).toBe(202);
    expect(res.body.recovery).toMatchObject({ maxRetries: 6 });
    expect(Date.parse(res.body.recovery.retryWindowEndsAt) - Date.parse(res.body.recovery.createdAt)).toBe(21 * 86_400_000);
    await api.post('/v2/settings/auto_rescue', { max_retries: 4, retry_window_days: 14 });
  });

  it('403: a hard decline is blocked and never retried', async () => {
    const res = await execute(handOff({ paymentMethodToken: 'pm_card_visa_chargeDeclinedLostCard', originalDeclineCode: 'lost_card', fallbackPaymentMethodTokens: ['pm_card_mastercard'] }));
    expectBlocked(res, 'hard_decline');
    expect(res.body.declineCode).toBe('lost_card');
    // Fallbacks are for recoverable declines: a lost card ends the recovery.
    expect(res.body.recovery.paymentMethods.map((m: any) => m.status)).toEqual(['exhausted', 'unused']);
    expect(res.body.recovery.history).toHaveLength(1);
  });

  it('403: a card over its network retry limit (Visa category 1 within 30 days) is blocked', async () => {
    // The same card (test card 9979, whatever the suffix) declined as stolen, then handed over again.
    expectBlocked(await execute(handOff({ paymentMethodToken: 'pm_card_visa_chargeDeclinedStolenCard_a', originalDeclineCode: 'stolen_card' })), 'hard_decline');
    const again = await execute(handOff({ paymentMethodToken: 'pm_card_visa_chargeDeclinedStolenCard_b', originalDeclineCode: 'insufficient_funds' }));
    expectBlocked(again, 'network_rule');
    expect(again.body.error.message).toContain('network');
    const events = (await api.get(`/v2/events?object=${again.body.recovery.payment}`)).body.data;
    expect(events.map((e: any) => [e.type, e.data.reason])).toEqual([['recovery.blocked', 'network_rule']]);
    // With a fallback, the hand-off starts on the fallback instead.
    const withFallback = await execute(handOff({ paymentMethodToken: 'pm_card_visa_chargeDeclinedStolenCard_c', originalDeclineCode: 'insufficient_funds', fallbackPaymentMethodTokens: ['pm_card_mastercard_x'] }));
    expect(withFallback.status).toBe(202);
    expect(withFallback.body.recovery.paymentMethods.map((m: any) => [m.last4, m.status])).toEqual([['9979', 'exhausted'], ['4444', 'active']]);
  });

  it('409: an idempotencyKey already used answers with the first hand-off\'s outcome', async () => {
    const first = await execute(handOff({ idempotencyKey: 'order_dup_recovery', originalDeclineCode: 'issuer_unavailable' }));
    expect(first.status).toBe(200);
    const again = await execute(handOff({ idempotencyKey: 'order_dup_recovery', originalDeclineCode: 'issuer_unavailable' }));
    expect(again.status).toBe(409);
    expect(Object.keys(again.body).sort()).toEqual(['duplicate', 'error', 'existingTransactionId', 'recovery', 'recoveryId', 'status', 'success']);
    expect(again.body).toMatchObject({ success: false, duplicate: true, existingTransactionId: first.body.transactionId, recoveryId: first.body.recoveryId, status: 'recovered' });
    expect(again.body.error).toEqual({ type: 'idempotency_error', code: 'recovery_duplicate', message: expect.stringContaining('order_dup_recovery'), param: 'idempotencyKey' });
    // Whatever else the request says: the key names the hand-off.
    expect((await execute(handOff({ idempotencyKey: 'order_dup_recovery', amount: 1 }))).status).toBe(409);
    // Concurrent duplicates: exactly one hand-off.
    const racing = await Promise.all([1, 2, 3].map(() => execute(handOff({ idempotencyKey: 'order_race_recovery' }))));
    expect(racing.map((r) => r.status).sort()).toEqual([202, 409, 409]);
    expect(new Set(racing.map((r) => r.body.recoveryId)).size).toBe(1);
  });

  it('answers the seed\'s X-API-KEY header, and replays an Idempotency-Key header', async () => {
    const res = await request(t.url, 'POST', '/api/recovery/execute', undefined, handOff(), { 'X-API-KEY': key });
    expect(res.status).toBe(202);
    const body = handOff();
    const a = await api.post('/api/recovery/execute', body, { 'Idempotency-Key': 'hdr-1' });
    const b = await api.post('/api/recovery/execute', body, { 'Idempotency-Key': 'hdr-1' });
    expect(b.status).toBe(a.status);
    expect(b.body).toEqual(a.body);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
  });

  it('GET /api/recovery/:id is 404 for an unknown id and for another account\'s recovery', async () => {
    const mine = (await execute(handOff())).body.recoveryId;
    expectError(await api.get('/api/recovery/rec_nope'), 404, { code: 'resource_missing' });
    const other = t.client((await t.signup()).testKey);
    expectError(await other.get(`/api/recovery/${mine}`), 404, { code: 'resource_missing' });
    expectError(await request(t.url, 'GET', `/api/recovery/${mine}`), 401, { type: 'authentication_error' });
  });

  it('live mode refuses a hand-off until a gateway is set', async () => {
    const live = t.client((await t.signup()).liveKey);
    expectError(await live.post('/api/recovery/execute', handOff()), 400, { code: 'gateway_not_configured' });
  });
});

describe('a hand-off plans its first schedule like a /v2/payments payment', () => {
  const START = new Date('2026-04-07T15:00:00Z');
  async function accountWith(learned: boolean) {
    const keys = await t.signup();
    const a = t.client(keys.testKey);
    expect((await a.post('/v2/settings/auto_rescue', { learned })).status).toBe(200);
    const clock = (await a.post('/v2/test_clocks', { frozen_time: START.getTime() / 1000 })).body.id;
    const customer = (await a.post('/v2/customers', { timezone: 'America/New_York', test_clock: clock })).body.id;
    return { a, accountId: keys.accountId, customer };
  }
  const planned = (a: Client, paymentId: string) => a.get(`/v2/payments/${paymentId}`).then((r) => r.body.rescue_schedule.scheduled_retries as any[]);

  it('with auto_rescue.learned (the default) each planned retry carries predicted_p and reason, as a payment\'s does', async () => {
    const { a, accountId, customer } = await accountWith(true);
    const res = await a.post('/api/recovery/execute', handOff({ paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds', customer }));
    expect(res.status).toBe(202);
    const handOffRetries = await planned(a, res.body.recovery.payment);
    // The same decline through /v2/payments on the same customer and clock.
    const pay = await a.post('/v2/payments', { amount: 4999, currency: 'USD', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
    expect(pay.status).toBe(201);
    const paymentRetries = pay.body.rescue_schedule.scheduled_retries as any[];
    for (const retries of [handOffRetries, paymentRetries]) {
      expect(retries.length).toBeGreaterThan(0);
      for (const r of retries) {
        expect(Object.keys(r).sort()).toEqual(['predicted_p', 'reason', 'retry_number', 'scheduled_at']);
        expect(r.predicted_p).toBeGreaterThanOrEqual(0);
        expect(r.predicted_p).toBeLessThanOrEqual(1);
        expect(r.reason).toMatch(/insufficient funds/);
      }
    }
    // The hand-off's next attempt stores the plan's probability, and the Revtain view shows the same instants.
    const row = await t.rescue.db.selectFrom('attempts').select(['predicted_p', 'planned_at'])
      .where('account_id', '=', accountId).where('payment_id', '=', res.body.recovery.payment).where('number', '=', 2).executeTakeFirstOrThrow();
    expect(row.predicted_p).toBeCloseTo(handOffRetries[0].predicted_p, 3);
    expect(row.planned_at.getTime()).toBe(Date.parse(handOffRetries[0].scheduled_at));
    expect(res.body.recovery.scheduledRetries.map((r: any) => r.scheduledAt)).toEqual(handOffRetries.map((r) => r.scheduled_at));
  });

  it('with auto_rescue.learned off it plans with the rule-based schedule (no prediction fields), as a payment does', async () => {
    const { a, customer } = await accountWith(false);
    const res = await a.post('/api/recovery/execute', handOff({ paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds', customer }));
    expect(res.status).toBe(202);
    const retries = await planned(a, res.body.recovery.payment);
    expect(retries.length).toBeGreaterThan(0);
    for (const r of retries) expect(Object.keys(r).sort()).toEqual(['retry_number', 'scheduled_at']);
  });
});

describe('bad input is a 400 naming the field, and records nothing', () => {
  it.each([
    ['a missing token', { paymentMethodToken: undefined }, 'parameter_missing', 'paymentMethodToken'],
    ['an empty token', { paymentMethodToken: '' }, 'parameter_invalid', 'paymentMethodToken'],
    ['amount 0', { amount: 0 }, 'parameter_invalid', 'amount'],
    ['a negative amount', { amount: -100 }, 'parameter_invalid', 'amount'],
    ['a fractional amount', { amount: 10.5 }, 'parameter_invalid', 'amount'],
    ['a missing amount', { amount: undefined }, 'parameter_missing', 'amount'],
    ['an unknown currency', { currency: 'XYZ' }, 'parameter_invalid', 'currency'],
    ['a missing currency', { currency: undefined }, 'parameter_missing', 'currency'],
    ['six fallbacks', { fallbackPaymentMethodTokens: ['pm_a', 'pm_b', 'pm_c', 'pm_d', 'pm_e', 'pm_f'] }, 'parameter_invalid', 'fallbackPaymentMethodTokens'],
    ['an unknown paymentMethodType', { paymentMethodType: 'bitcoin' }, 'parameter_invalid', 'paymentMethodType'],
    ['an unknown fallback paymentMethodType', { fallbackPaymentMethodTokens: [{ token: 'pm_b', paymentMethodType: 'cash' }] }, 'parameter_invalid', 'fallbackPaymentMethodTokens[0]'],
    ['a fallback equal to the primary', { fallbackPaymentMethodTokens: ['pm_card_visa'] }, 'parameter_invalid', 'fallbackPaymentMethodTokens[0]'],
    ['a fallback that is the same card', { fallbackPaymentMethodTokens: ['pm_card_visa_backup'] }, 'parameter_invalid', 'fallbackPaymentMethodTokens[0]'],
    ['a cardOrigin that is not a country code', { cardOrigin: 'USA' }, 'parameter_invalid', 'cardOrigin'],
    ['an unknown parameter', { retries: 3 }, 'parameter_invalid', 'retries'],
    ['an unknown gateway', { gateway: 'nope' }, 'resource_missing', 'gateway'],
    ['a malformed gateway name', { gateway: 'Not A Name' }, 'parameter_invalid', 'gateway'],
    ['an unknown customer', { customer: 'cus_nope' }, 'resource_missing', 'customer'],
    ['an empty idempotencyKey', { idempotencyKey: '' }, 'parameter_invalid', 'idempotencyKey'],
  ])('%s', async (_name, over, code, param) => {
    const before = (await api.get('/v2/payments?limit=100')).body.data.length;
    const res = await execute(handOff(over));
    expectError(res, 400, { type: 'invalid_request_error', code, param });
    expect((await api.get('/v2/payments?limit=100')).body.data.length).toBe(before);
  });

  it('a body that is not JSON', async () => {
    const res = await fetch(`${t.url}/api/recovery/execute`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '{"amount":' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('invalid_json');
  });
});

describe('POST /api/recovery/pulse', () => {
  it('logs an organic success once per transactionId', async () => {
    const first = await api.post('/api/recovery/pulse', { amount: 2500, currency: 'usd', transactionId: 'ch_1' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ success: true, duplicate: false, transactionId: 'ch_1', amount: 2500, currency: 'USD', recordedAt: expect.stringMatching(/Z$/) });
    const again = await api.post('/api/recovery/pulse', { amount: 2500, currency: 'USD', transactionId: 'ch_1' });
    expect(again.body).toEqual({ ...first.body, duplicate: true });
    const conflict = await api.post('/api/recovery/pulse', { amount: 9999, currency: 'USD', transactionId: 'ch_1' });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ success: false, duplicate: true, error: { code: 'pulse_conflict', param: 'transactionId' } });
    const lift = (await api.get('/api/recovery/lift')).body;
    expect(lift.totals.find((c: any) => c.currency === 'USD').organicCount).toBe(1);
  });

  it.each([
    ['a missing transactionId', { amount: 100, currency: 'USD' }, 'transactionId'],
    ['amount 0', { amount: 0, currency: 'USD', transactionId: 'x' }, 'amount'],
    ['an unknown currency', { amount: 100, currency: 'ABC', transactionId: 'x' }, 'currency'],
    ['an unknown parameter', { amount: 100, currency: 'USD', transactionId: 'x', customer: 'c' }, 'customer'],
  ])('%s is a 400', async (_name, body, param) => {
    expectError(await api.post('/api/recovery/pulse', body), 400, { param });
  });
});

function expectBlocked(res: { status: number; body: any }, reason: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(Object.keys(res.body).sort()).toEqual(['blocked', 'declineCode', 'error', 'reason', 'recovery', 'recoveryId', 'success']);
  expect(res.body).toMatchObject({ success: false, blocked: true, reason, recoveryId: expect.stringMatching(/^rec_/) });
  expect(res.body.error).toEqual({ type: 'card_error', code: 'recovery_blocked', message: expect.stringMatching(/^Not retried: /) });
  expect(res.body.recovery).toMatchObject({ status: 'blocked', endReason: reason, nextRetryAt: null });
}
