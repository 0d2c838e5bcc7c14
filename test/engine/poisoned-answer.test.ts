import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateways/gateway.ts';
import { runAttempts, type GatewayResolver } from '../../src/engine/run-attempts.ts';
import { claimDueRealtimeAttempts } from '../../src/store/attempts.ts';
import type { Worker } from '../../src/engine/worker.ts';
import { ENGINES } from '../support/databases.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type ChargeCall, type Decision, type Merchant } from '../support/merchant.ts';
import { shiftedClock } from '../support/webhook-receiver.ts';

// One tenant's poisoned gateway answer (NUL, a lone surrogate, an oversized body) must never hold up
// another tenant's attempts in the same worker batch. Account A's merchant poisons its answers;
// account B's due retries are claimed in the same real-time batch (the engine's clock is moved past
// every retry at once, and the test runs the worker's rounds itself, so one round is one batch).
// B is recovered in that round, charged once per key; A's attempts are "unknown" and re-asked later
// under the same idempotency key. Then, behind the edge: answers that reach the batch write
// unchecked fail only their own attempts.

const MINUTE = 60_000;
const LEASE_SECONDS = 120;

const keyOf = (c: ChargeCall) => String(c.headers['idempotency-key']);
const succeeded = (c: ChargeCall): Decision => ({ charge: { status: 'succeeded', transaction_id: `txn_${c.body.attempt_id}` } });
const firstDeclines = (then: (c: ChargeCall) => Decision) => (c: ChargeCall): Decision =>
  c.body.retry_number === 0 ? { charge: { status: 'failed', decline_code: 'insufficient_funds', message: 'Not enough money' } } : then(c);

/** What A's merchant answers to a retry, per token: each answer is poisoned in one way. */
const POISONS: Record<string, unknown> = {
  pm_a_nul_transaction: { status: 'succeeded', transaction_id: 'txn_\u0000' },
  pm_a_nul_decline_code: { status: 'failed', decline_code: 'insufficient\u0000funds' },
  pm_a_nul_message: { status: 'failed', decline_code: 'weird_code', message: 'no\u0000money' },
  pm_a_surrogate_message: { status: 'failed', decline_code: 'weird_code', message: 'broken \ud800 text' },
  pm_a_surrogate_transaction: { status: 'succeeded', transaction_id: 'txn_\udc00' },
  pm_a_nul_new_card: { status: 'failed', decline_code: 'expired_card', updated_payment_method: 'pm_\u0000new' },
  pm_a_overlong_code: { status: 'failed', decline_code: 'x'.repeat(5000) },
  // Well-formed but for its size: without the byte cap it would read as a success.
  pm_a_oversized: { status: 'succeeded', transaction_id: 'txn_big', padding: 'x'.repeat(200 * 1024) },
};
const B_TOKENS = ['pm_b_1', 'pm_b_2', 'pm_b_3', 'pm_b_4', 'pm_b_5', 'pm_b_6'];

describe.each(ENGINES)('a poisoned gateway answer stays with its account (%s)', (engine) => {
  const clock = shiftedClock();
  let t: TestRescue;
  let worker: Worker;
  let merchantA: Merchant;
  let merchantB: Merchant;
  let a: { accountId: string; api: Client };
  let b: { accountId: string; api: Client };

  beforeAll(async () => {
    // The merchants live on the engine's (shifted) clock, so its signature timestamps are fresh to them.
    merchantA = await startMerchant(firstDeclines((c) => (POISONS[c.body.payment_method] ? { charge: POISONS[c.body.payment_method] as never } : succeeded(c))), { clock });
    merchantB = await startMerchant(firstDeclines(succeeded), { clock });
    t = await startTestRescue({ engine, clock, env: { RESCUE_HTTP_GATEWAY_TIMEOUT_MS: '10000', RESCUE_ATTEMPT_LEASE_SECONDS: String(LEASE_SECONDS), LOG_LEVEL: 'error' } });
    // The test runs the worker's rounds itself: one round, one claim, one batch.
    worker = t.rescue.worker!;
    await worker.stop();
    const account = async (m: Merchant) => {
      const s = await t.signup();
      const api = t.client(s.testKey);
      expect((await api.post('/v2/settings/gateway', { type: 'http', url: m.url, secret: m.secret })).status).toBe(200);
      return { accountId: s.accountId, api };
    };
    [a, b] = await Promise.all([account(merchantA), account(merchantB)]);
  });
  afterAll(async () => {
    await t?.close();
    await merchantA?.close();
    await merchantB?.close();
  });

  /** A real-time payment whose first charge declines; its one retry is a day later. */
  async function declined(api: Client, token: string) {
    const res = await api.post('/v2/payments', { amount: 1999, currency: 'USD', payment_method: token, off_session: true, auto_rescue: { enabled: true, custom_schedule_days: [1] } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'requires_rescue', failure_code: 'insufficient_funds' });
    return res.body as { id: string; rescue_schedule: { next_retry_at: string } };
  }

  /** Moves the engine's clock just past every given payment's next retry. */
  function moveClockPast(payments: { rescue_schedule: { next_retry_at: string } }[]): number {
    const due = Math.max(...payments.map((p) => Date.parse(p.rescue_schedule.next_retry_at)));
    clock.advance(due + 1000 - clock.now().getTime());
    return due;
  }

  const attemptsOf = (paymentIds: string[]) => t.rescue.db.selectFrom('attempts').selectAll().where('payment_id', 'in', paymentIds).orderBy('number').execute();
  const paymentOf = async (api: Client, id: string) => (await api.get(`/v2/payments/${id}`)).body;

  it('recovers B on time in the batch where A\'s merchant answers NUL, lone surrogates, overlong and oversized answers; A is unknown, re-asked under the same key', async () => {
    const [aPayments, bPayments] = await Promise.all([Promise.all(Object.keys(POISONS).map((token) => declined(a.api, token))), Promise.all(B_TOKENS.map((token) => declined(b.api, token)))]);
    const due = moveClockPast([...aPayments, ...bPayments]);

    // One round: every retry of both accounts is claimed in one batch.
    const roundAt = clock.now().getTime();
    expect(await worker.runOnce()).toBeGreaterThanOrEqual(aPayments.length + bPayments.length);

    // B: recovered in that round, at the round's time, each retry charged once under its own key.
    for (const p of bPayments) {
      const after = await paymentOf(b.api, p.id);
      expect(after.status, p.id).toBe('succeeded');
      expect(after.auto_rescue.status).toBe('recovered');
      const retry = after.rescue_history.at(-1);
      expect(retry.result).toBe('succeeded');
      expect(Date.parse(retry.attempted_at)).toBeGreaterThanOrEqual(Date.parse(p.rescue_schedule.next_retry_at));
      // At the round's time; the engine's clock is the wall clock shifted, and a busy VM's wall clock
      // was once seen 1 ms behind between two reads, so a few ms either way is the same round.
      expect(Date.parse(retry.attempted_at)).toBeGreaterThanOrEqual(roundAt - 50);
      expect(Date.parse(retry.attempted_at)).toBeLessThan(due + MINUTE);
      const calls = merchantB.calls.filter((c) => c.body?.payment === p.id);
      expect(calls.map((c) => c.body.retry_number)).toEqual([0, 1]);
      expect(new Set(calls.map(keyOf)).size).toBe(2);
    }

    // A: every poisoned answer is "unknown": nothing stored from it, the retry planned again.
    const aIds = aPayments.map((p) => p.id);
    const keys = new Map<string, string>();
    for (const att of (await attemptsOf(aIds)).filter((x) => x.number === 2)) {
      expect(att.status, att.payment_id).toBe('planned');
      expect(att.gateway_errors).toBe(1);
      expect(att.transaction_id).toBeNull();
      expect(att.failure_message).toMatch(/^merchant gateway answer /);
      keys.set(att.payment_id, att.idempotency_key);
    }
    expect([...keys.keys()].sort()).toEqual([...aIds].sort());
    for (const p of aPayments) {
      const after = await paymentOf(a.api, p.id);
      expect(['requires_rescue', 'rescue_in_progress']).toContain(after.status);
      expect(after.auto_rescue.status).toBe('active');
      expect(after.rescue_history).toHaveLength(1);
      expect(after.payment_method).toBe(merchantA.calls.find((c) => c.body?.payment === p.id)!.body.payment_method);
    }
    const oversized = (await attemptsOf([aPayments[Object.keys(POISONS).indexOf('pm_a_oversized')]!.id])).find((x) => x.number === 2)!;
    expect(oversized.failure_message).toMatch(/larger than 65536 bytes/);

    // A minute later the same attempts are asked again, under the same keys; B is not charged again.
    const bCalls = merchantB.calls.length;
    clock.advance(MINUTE + 1000);
    await worker.runOnce();
    for (const p of aPayments) {
      const calls = merchantA.calls.filter((c) => c.body?.payment === p.id);
      expect(calls.map((c) => c.body.retry_number)).toEqual([0, 1, 1]);
      expect(keyOf(calls[1]!)).toBe(keys.get(p.id));
      expect(keyOf(calls[2]!)).toBe(keys.get(p.id));
      expect(calls[2]!.replayed).toBe(true);
    }
    expect(merchantB.calls.length).toBe(bCalls);
    for (const p of bPayments) expect((await paymentOf(b.api, p.id)).status).toBe('succeeded');
  });

  it('behind the edge, an answer the database refuses fails only its own attempt: the rest of the batch is written, and the attempt is reconciled under its key', async () => {
    const aTokens = ['pm_a2_nul_txn', 'pm_a2_nul_code', 'pm_a2_surrogate', 'pm_a2_clean'];
    const [aPayments, bPayments] = await Promise.all([Promise.all(aTokens.map((token) => declined(a.api, token))), Promise.all(['pm_b2_1', 'pm_b2_2', 'pm_b2_3'].map((token) => declined(b.api, token)))]);
    moveClockPast([...aPayments, ...bPayments]);

    // A gateway that hands its answer over unchecked (as a buggy adapter would) for account A.
    const unchecked: Gateway = {
      type: 'http',
      async charge(requests) {
        return requests.map((r) => {
          switch (r.paymentMethod) {
            case 'pm_a2_nul_txn': return { status: 'succeeded' as const, transactionId: 'txn_\u0000' };
            case 'pm_a2_nul_code': return { status: 'failed' as const, declineCode: 'nul\u0000code', message: '', adviceCode: null };
            case 'pm_a2_surrogate': return { status: 'failed' as const, declineCode: 'weird_code', message: 'lone \ud800', adviceCode: null };
            default: return { status: 'succeeded' as const, transactionId: `txn_${r.attemptId}` };
          }
        });
      },
      describeCard: () => ({ brand: 'unknown', funding: 'unknown', country: null, last4: null, expMonth: null, expYear: null, fingerprint: 'x' }),
      accountUpdater: () => null,
    };
    const gatewayFor: GatewayResolver = async (accountId, livemode, gateway) => (accountId === a.accountId ? unchecked : t.rescue.gatewayFor(accountId, livemode, gateway));
    const warnings: { obj: any; msg: string }[] = [];
    const now = clock.now();
    const claimed = await claimDueRealtimeAttempts(t.rescue.db, { workerId: 'wrk_poison', limit: 100, dueBy: now, wallNow: now, leaseUntil: new Date(now.getTime() + LEASE_SECONDS * 1000) });
    const ours = new Set([...aPayments, ...bPayments].map((p) => p.id));
    const batch = claimed.filter((x) => ours.has(x.payment_id));
    expect(batch).toHaveLength(aPayments.length + bPayments.length);
    expect(new Set(batch.map((x) => x.account_id))).toEqual(new Set([a.accountId, b.accountId]));

    await runAttempts({ db: t.rescue.db, gatewayFor, log: { warn: (obj, msg) => warnings.push({ obj, msg }) } }, claimed, () => now);

    // B's attempts and A's clean one are written; the three A's attempts the database refused are not.
    for (const p of bPayments) expect((await paymentOf(b.api, p.id)).status, p.id).toBe('succeeded');
    const [nulTxn, nulCode, surrogate, clean] = aPayments;
    expect((await paymentOf(a.api, clean!.id)).status).toBe('succeeded');
    const refused = [nulTxn!, nulCode!, surrogate!].map((p) => p.id);
    const left = (await attemptsOf(refused)).filter((x) => x.number === 2);
    expect(left).toHaveLength(3);
    for (const att of left) {
      // Claimed and unanswered: reconciled under this key when the lease ends.
      expect(att.status).toBe('processing');
      expect(att.claimed_by).toBe('wrk_poison');
      expect(att.transaction_id).toBeNull();
      expect(att.decline_code).toBeNull();
    }
    // Reported once, naming the refused attempts only.
    expect(warnings).toHaveLength(1);
    expect([...warnings[0]!.obj.attempts].sort()).toEqual(left.map((x) => x.id).sort());
    expect(warnings[0]!.obj.accounts).toEqual([a.accountId]);

    // The lease ends: the worker reconciles them through A's real gateway under the same keys, and
    // the merchant (which had not heard of them) charges each once.
    const keys = new Map(left.map((x) => [x.payment_id, x.idempotency_key]));
    clock.advance(LEASE_SECONDS * 1000 + 1000);
    await worker.runOnce();
    for (const id of refused) {
      expect((await paymentOf(a.api, id)).status, id).toBe('succeeded');
      const retries = merchantA.calls.filter((c) => c.body?.payment === id && c.body.retry_number === 1);
      expect(retries.map(keyOf)).toEqual([keys.get(id)]);
    }
    const stored = (await attemptsOf(refused)).filter((x) => x.number === 2);
    expect(stored.map((x) => x.idempotency_key).sort()).toEqual([...keys.values()].sort());
    expect(stored.every((x) => x.status === 'succeeded')).toBe(true);
  });
});
