import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimDueAttempts, reclaimExpiredAttempts } from '../../src/store/attempts.ts';
import { applyBatch, type AttemptConsequences } from '../../src/store/batch-writes.ts';
import type { Db } from '../../src/store/db.ts';
import type { AttemptRow, PaymentRow } from '../../src/store/schema.ts';
import { ENGINES } from '../support/databases.ts';
import {
  DAY,
  HOUR,
  MINUTE,
  T0,
  at,
  attemptById,
  attemptValues,
  makeAccount,
  makeClock,
  makeDueRetries,
  makePayment,
  openStoreDb,
  paymentById,
  rescueValues,
  retireOpenAttempts,
  type StoreDb,
} from '../support/fixtures.ts';

// The attempt queue (DESIGN.md invariant 2): claiming due attempts, reclaiming dead workers' ones,
// and applying a batch of outcomes. One migrated database per engine for the whole file.

const LEASE = at(5 * MINUTE);
const ids = (rows: readonly AttemptRow[]) => rows.map((r) => r.id);

function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not return within ${ms} ms (blocked on a lock?)`)), ms))]);
}

const ATTEMPTED = at(MINUTE);

/** What a declined retry with budget left writes: the attempt, the payment, the rescue, the next attempt. */
function declinedWithReplan(attempt: AttemptRow, payment: PaymentRow, o: { claimedBy?: string; nextKey?: string } = {}): AttemptConsequences {
  const nextId = `att_next_${attempt.id.slice(4)}`;
  return {
    attempt: {
      id: attempt.id,
      account_id: attempt.account_id,
      claimed_by: o.claimedBy ?? attempt.claimed_by ?? '',
      status: 'failed',
      attempted_at: ATTEMPTED,
      planned_at: attempt.planned_at,
      decline_code: 'insufficient_funds',
      decline_category: 'soft',
      advice_code: null,
      failure_message: 'The card has insufficient funds.',
      transaction_id: null,
      account_updater_checked: false,
      card_was_updated: false,
      gateway_errors: 0,
    },
    payment: { id: payment.id, account_id: payment.account_id, status: 'requires_rescue', failure_code: 'insufficient_funds', failure_message: 'The card has insufficient funds.', payment_method: 'pm_card_visa_2', updated_at: ATTEMPTED },
    rescueInsert: null,
    rescueUpdate: { payment_id: payment.id, account_id: payment.account_id, status: 'active', retries_made: attempt.number - 1, schedule: [{ retry_number: attempt.number, scheduled_at: at(3 * DAY).toISOString() }], end_reason: null, ended_at: null },
    nextAttempt: attemptValues(payment, { id: nextId, number: attempt.number + 1, planned_at: at(3 * DAY), ...(o.nextKey ? { idempotency_key: o.nextKey } : {}) }),
  };
}

/** What an approved retry writes. */
function approved(attempt: AttemptRow, payment: PaymentRow): AttemptConsequences {
  return {
    attempt: { ...declinedWithReplan(attempt, payment).attempt, status: 'succeeded', decline_code: null, decline_category: null, failure_message: null, transaction_id: `txn_${attempt.id}` },
    payment: { id: payment.id, account_id: payment.account_id, status: 'succeeded', failure_code: null, failure_message: null, payment_method: payment.payment_method, updated_at: ATTEMPTED },
    rescueInsert: null,
    rescueUpdate: { payment_id: payment.id, account_id: payment.account_id, status: 'recovered', retries_made: attempt.number - 1, schedule: [], end_reason: 'recovered', ended_at: ATTEMPTED },
    nextAttempt: null,
  };
}

describe.each(ENGINES)('store: attempt queue (%s)', (engine) => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openStoreDb(engine);
  });
  afterAll(() => s?.close());

  describe('claimDueAttempts and reclaimExpiredAttempts', () => {
    let account: Awaited<ReturnType<typeof makeAccount>>;
    beforeAll(async () => {
      account = await makeAccount(s.db);
    });
    // The claim functions are the worker's queue across every account; start each case with it empty.
    beforeEach(() => retireOpenAttempts(s.db));

    /** One payment in rescue with a single planned retry (number 2), optionally on a test clock. */
    async function dueRetry(plannedAt: Date, o: { testClock?: string | null; status?: AttemptRow['status']; claimedBy?: string | null; lease?: Date | null } = {}) {
      const f = await makePayment(s.db, account.test, {
        payment: { test_clock: o.testClock ?? null },
        retries: [{ planned_at: plannedAt, status: o.status ?? 'planned', claimed_by: o.claimedBy ?? null, lease_expires_at: o.lease ?? null }],
        rescue: true,
      });
      return f.attempts[1]!;
    }

    it('claims only planned attempts due by dueBy, and only real-time ones when testClock is null', async () => {
      const clock = await makeClock(s.db, account.id);
      const early = await dueRetry(at(-HOUR));
      const exactlyDue = await dueRetry(T0);
      const future = await dueRetry(at(MINUTE));
      const otherWorker = await dueRetry(at(-HOUR), { status: 'processing', claimedBy: 'someone-else', lease: at(HOUR) });
      const cancelled = await dueRetry(at(-HOUR), { status: 'cancelled' });
      const done = await dueRetry(at(-2 * HOUR), { status: 'failed' });
      const onClock = await dueRetry(at(-HOUR), { testClock: clock.id });

      const claimed = await claimDueAttempts(s.db, { workerId: 'w1', limit: 100, dueBy: T0, testClock: null, leaseUntil: LEASE });
      expect(ids(claimed)).toEqual([early.id, exactlyDue.id]);
      for (const row of claimed) {
        expect(row).toMatchObject({ status: 'processing', claimed_by: 'w1', lease_expires_at: LEASE });
        expect(await attemptById(s.db, row.id)).toMatchObject({ status: 'processing', claimed_by: 'w1', lease_expires_at: LEASE, idempotency_key: row.idempotency_key });
      }
      expect(await attemptById(s.db, future.id)).toMatchObject({ status: 'planned', claimed_by: null, lease_expires_at: null });
      expect(await attemptById(s.db, otherWorker.id)).toMatchObject({ status: 'processing', claimed_by: 'someone-else', lease_expires_at: at(HOUR) });
      expect((await attemptById(s.db, cancelled.id)).status).toBe('cancelled');
      expect((await attemptById(s.db, done.id)).status).toBe('failed');
      expect(await attemptById(s.db, onClock.id)).toMatchObject({ status: 'planned', claimed_by: null });

      // Nothing is claimed twice.
      expect(await claimDueAttempts(s.db, { workerId: 'w2', limit: 100, dueBy: T0, testClock: null, leaseUntil: LEASE })).toEqual([]);

      // A clock's attempts are claimed only through that clock, and only up to dueBy.
      const otherClock = await makeClock(s.db, account.id);
      expect(await claimDueAttempts(s.db, { workerId: 'w1', limit: 100, dueBy: at(HOUR), testClock: otherClock.id, leaseUntil: LEASE })).toEqual([]);
      expect(await claimDueAttempts(s.db, { workerId: 'w1', limit: 100, dueBy: at(-2 * HOUR), testClock: clock.id, leaseUntil: LEASE })).toEqual([]);
      const clockClaim = await claimDueAttempts(s.db, { workerId: 'w3', limit: 100, dueBy: T0, testClock: clock.id, leaseUntil: LEASE });
      expect(ids(clockClaim)).toEqual([onClock.id]);
      expect(clockClaim[0]).toMatchObject({ status: 'processing', claimed_by: 'w3', test_clock: clock.id });

      // Later, the future attempt becomes due.
      expect(ids(await claimDueAttempts(s.db, { workerId: 'w1', limit: 100, dueBy: at(MINUTE), testClock: null, leaseUntil: LEASE }))).toEqual([future.id]);
    });

    it('respects the limit, earliest first', async () => {
      const clock = await makeClock(s.db, account.id);
      const rows = [];
      for (const offset of [4, 1, 3, 0, 2]) rows.push(await dueRetry(at(-offset * MINUTE), { testClock: clock.id }));
      const byTime = [...rows].sort((a, b) => a.planned_at.getTime() - b.planned_at.getTime()).map((r) => r.id);
      const o = { workerId: 'w1', limit: 2, dueBy: T0, testClock: clock.id, leaseUntil: LEASE };
      expect(ids(await claimDueAttempts(s.db, o))).toEqual(byTime.slice(0, 2));
      expect(ids(await claimDueAttempts(s.db, o))).toEqual(byTime.slice(2, 4));
      expect(ids(await claimDueAttempts(s.db, o))).toEqual(byTime.slice(4));
      expect(await claimDueAttempts(s.db, o)).toEqual([]);
    });

    it('moves the payment to rescue_in_progress when it claims a retry, not the first attempt', async () => {
      const clock = await makeClock(s.db, account.id);
      const retry = await makePayment(s.db, account.test, { payment: { test_clock: clock.id }, retries: [{ planned_at: T0 }], rescue: true });
      const first = await makePayment(s.db, account.test, {
        payment: { test_clock: clock.id, status: 'requires_rescue' },
        first: { status: 'planned', attempted_at: null, decline_code: null, decline_category: null, planned_at: T0 },
      });
      const elsewhere = await makePayment(s.db, account.test, { payment: { test_clock: clock.id, status: 'rescue_cancelled' }, retries: [{ planned_at: T0 }] });
      expect(retry.payment.status).toBe('requires_rescue');

      const claimed = await claimDueAttempts(s.db, { workerId: 'w1', limit: 100, dueBy: T0, testClock: clock.id, leaseUntil: LEASE });
      expect(ids(claimed).sort()).toEqual([retry.attempts[1]!.id, first.attempts[0]!.id, elsewhere.attempts[1]!.id].sort());
      expect((await paymentById(s.db, retry.payment.id)).status).toBe('rescue_in_progress');
      expect((await paymentById(s.db, first.payment.id)).status).toBe('requires_rescue');
      // Only a payment waiting for its rescue moves; another status is left alone.
      expect((await paymentById(s.db, elsewhere.payment.id)).status).toBe('rescue_cancelled');
    });

    it('two workers claiming at once get disjoint sets that together cover every due attempt', async () => {
      const clock = await makeClock(s.db, account.id);
      const due = new Set<string>();
      for (const r of await makeDueRetries(s.db, account.test, 30, (i) => ({ planned_at: at(-i * 1000) }), { testClock: clock.id })) due.add(r.id);
      await dueRetry(at(HOUR), { testClock: clock.id }); // not due
      const other = await s.another(); // a second pool on Postgres: really concurrent transactions

      // One shot each, limit above the total.
      const [a, b] = await Promise.all([
        claimDueAttempts(s.db, { workerId: 'wa', limit: 100, dueBy: T0, testClock: clock.id, leaseUntil: LEASE }),
        claimDueAttempts(other, { workerId: 'wb', limit: 100, dueBy: T0, testClock: clock.id, leaseUntil: LEASE }),
      ]);
      const setA = new Set(ids(a));
      expect(ids(b).filter((id) => setA.has(id))).toEqual([]);
      expect(new Set([...ids(a), ...ids(b)])).toEqual(due);
      expect(a.length + b.length).toBe(due.size);
      for (const row of a) expect((await attemptById(s.db, row.id)).claimed_by).toBe('wa');
      for (const row of b) expect((await attemptById(s.db, row.id)).claimed_by).toBe('wb');
    });

    it('workers draining a queue in small batches concurrently never share an attempt', async () => {
      const clock = await makeClock(s.db, account.id);
      const due = new Set<string>();
      for (const r of await makeDueRetries(s.db, account.test, 60, (i) => ({ planned_at: at(-i * 1000) }), { testClock: clock.id })) due.add(r.id);
      const pools = [s.db, await s.another(), await s.another()];
      const drain = async (db: Db, workerId: string) => {
        const got: string[] = [];
        for (;;) {
          const batch = await claimDueAttempts(db, { workerId, limit: 3, dueBy: T0, testClock: clock.id, leaseUntil: LEASE });
          if (batch.length === 0) return got;
          got.push(...ids(batch));
        }
      };
      const results = await Promise.all(pools.map((db, i) => drain(db, `w${i}`)));
      const all = results.flat();
      expect(all.length).toBe(due.size);
      expect(new Set(all)).toEqual(due);
    });

    if (engine === 'postgres') {
      it('skips rows another transaction holds locked instead of waiting for them (SKIP LOCKED)', async () => {
        const clock = await makeClock(s.db, account.id);
        const locked = await dueRetry(at(-HOUR), { testClock: clock.id });
        const free = await dueRetry(at(-MINUTE), { testClock: clock.id });
        const other = await s.another();
        await other.transaction().execute(async (tx) => {
          await sql`select id from attempts where id = ${locked.id} for update`.execute(tx);
          const claimed = await within(5_000, claimDueAttempts(s.db, { workerId: 'w1', limit: 100, dueBy: T0, testClock: clock.id, leaseUntil: LEASE }), 'claimDueAttempts');
          expect(ids(claimed)).toEqual([free.id]);
        });
        // Once the lock is gone, the skipped attempt is claimable.
        expect(ids(await claimDueAttempts(s.db, { workerId: 'w2', limit: 100, dueBy: T0, testClock: clock.id, leaseUntil: LEASE }))).toEqual([locked.id]);
      });
    }

    it('reclaims only processing attempts whose lease expired, under the same idempotency key', async () => {
      const expired = await dueRetry(at(-HOUR), { status: 'processing', claimedBy: 'dead-worker', lease: at(-MINUTE) });
      const live = await dueRetry(at(-HOUR), { status: 'processing', claimedBy: 'live-worker', lease: at(MINUTE) });
      const planned = await dueRetry(at(-HOUR));
      const finished = await dueRetry(at(-HOUR), { status: 'failed', claimedBy: 'dead-worker', lease: at(-MINUTE) });
      const before = await attemptById(s.db, expired.id);

      const reclaimed = await reclaimExpiredAttempts(s.db, { workerId: 'w2', wallNow: T0, leaseUntil: LEASE, limit: 100 });
      expect(ids(reclaimed)).toEqual([expired.id]);
      const after = await attemptById(s.db, expired.id);
      expect(after).toMatchObject({ status: 'processing', claimed_by: 'w2', lease_expires_at: LEASE });
      expect(after.idempotency_key).toBe(before.idempotency_key);
      expect(after.planned_at).toEqual(before.planned_at);
      expect(after.attempted_at).toEqual(before.attempted_at);

      expect(await attemptById(s.db, live.id)).toMatchObject({ status: 'processing', claimed_by: 'live-worker', lease_expires_at: at(MINUTE) });
      expect(await attemptById(s.db, planned.id)).toMatchObject({ status: 'planned', claimed_by: null });
      expect(await attemptById(s.db, finished.id)).toMatchObject({ status: 'failed', claimed_by: 'dead-worker' });

      // Its new lease is live, so nobody takes it again now; the other lease runs out later.
      expect(await reclaimExpiredAttempts(s.db, { workerId: 'w3', wallNow: T0, leaseUntil: LEASE, limit: 100 })).toEqual([]);
      const later = await reclaimExpiredAttempts(s.db, { workerId: 'w3', wallNow: at(2 * MINUTE), leaseUntil: at(10 * MINUTE), limit: 100 });
      expect(ids(later)).toEqual([live.id]);
      expect(later[0]!.idempotency_key).toBe(live.idempotency_key);
    });

    it('two workers reclaiming at once take disjoint sets', async () => {
      const expired = new Set<string>();
      const rows = await makeDueRetries(s.db, account.test, 20, (i) => ({ planned_at: at(-HOUR), status: 'processing', claimed_by: 'dead', lease_expires_at: at(-i * 1000 - 1) }));
      for (const r of rows) expired.add(r.id);
      const other = await s.another();
      const [a, b] = await Promise.all([
        reclaimExpiredAttempts(s.db, { workerId: 'wa', wallNow: T0, leaseUntil: LEASE, limit: 100 }),
        reclaimExpiredAttempts(other, { workerId: 'wb', wallNow: T0, leaseUntil: LEASE, limit: 100 }),
      ]);
      const setA = new Set(ids(a));
      expect(ids(b).filter((id) => setA.has(id))).toEqual([]);
      expect(new Set([...ids(a), ...ids(b)])).toEqual(expired);
    });
  });

  describe('applyBatch', () => {
    let account: Awaited<ReturnType<typeof makeAccount>>;
    beforeAll(async () => {
      account = await makeAccount(s.db);
    });
    beforeEach(() => retireOpenAttempts(s.db));

    /** A payment in rescue whose retry (number 2) is claimed by `worker` on its own test clock. */
    async function claimedRetry(worker: string, lease = at(5 * MINUTE)) {
      const clock = await makeClock(s.db, account.id);
      const f = await makePayment(s.db, account.test, { payment: { test_clock: clock.id }, retries: [{ planned_at: T0 }], rescue: true });
      const [attempt] = await claimDueAttempts(s.db, { workerId: worker, limit: 10, dueBy: T0, testClock: clock.id, leaseUntil: lease });
      expect(attempt?.id).toBe(f.attempts[1]!.id);
      const payment = await paymentById(s.db, f.payment.id);
      expect(payment.status).toBe('rescue_in_progress');
      return { attempt: attempt!, payment };
    }

    async function snapshot(paymentId: string) {
      const payment = await paymentById(s.db, paymentId);
      const rescue = await s.db.selectFrom('rescues').selectAll().where('payment_id', '=', paymentId).executeTakeFirst();
      const attempts = await s.db.selectFrom('attempts').selectAll().where('payment_id', '=', paymentId).orderBy('number').execute();
      return { payment, rescue, attempts };
    }

    it('writes every consequence of an attempt its worker still holds', async () => {
      const { attempt, payment } = await claimedRetry('w1');
      const applied = await applyBatch(s.db, [declinedWithReplan(attempt, payment)]);
      expect([...applied]).toEqual([attempt.id]);

      const after = await snapshot(payment.id);
      expect(after.attempts.map((a) => [a.number, a.status])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'planned']]);
      expect(after.attempts[1]).toMatchObject({ attempted_at: ATTEMPTED, decline_code: 'insufficient_funds', decline_category: 'soft', claimed_by: 'w1', lease_expires_at: null, idempotency_key: attempt.idempotency_key });
      expect(after.attempts[2]).toMatchObject({ planned_at: at(3 * DAY), claimed_by: null });
      expect(after.payment).toMatchObject({ status: 'requires_rescue', failure_code: 'insufficient_funds', payment_method: 'pm_card_visa_2', updated_at: ATTEMPTED });
      expect(after.rescue).toMatchObject({ status: 'active', retries_made: 1, schedule: [{ retry_number: 2, scheduled_at: at(3 * DAY).toISOString() }] });
    });

    it('inserts a new rescue with the first attempt\'s outcome', async () => {
      const clock = await makeClock(s.db, account.id);
      const f = await makePayment(s.db, account.test, {
        payment: { status: 'processing', test_clock: clock.id },
        first: { status: 'processing', attempted_at: null, decline_code: null, decline_category: null, claimed_by: 'api', lease_expires_at: at(MINUTE) },
      });
      const [first] = f.attempts;
      const c = declinedWithReplan(first!, f.payment);
      c.rescueUpdate = null;
      c.rescueInsert = rescueValues(f.payment, { schedule: JSON.stringify([{ retry_number: 1, scheduled_at: at(3 * DAY).toISOString() }]) });
      expect([...(await applyBatch(s.db, [c]))]).toEqual([first!.id]);
      const after = await snapshot(f.payment.id);
      expect(after.rescue).toMatchObject({ status: 'active', max_retries: 4, retries_made: 0 });
      expect(after.attempts.map((a) => [a.number, a.status])).toEqual([[1, 'failed'], [2, 'planned']]);
      expect(after.payment.status).toBe('requires_rescue');
    });

    it('puts an attempt the gateway did not answer back in the queue, same key, unclaimed', async () => {
      const { attempt, payment } = await claimedRetry('w1');
      const c: AttemptConsequences = {
        attempt: { ...declinedWithReplan(attempt, payment).attempt, status: 'planned', attempted_at: null, planned_at: at(MINUTE), decline_code: null, decline_category: null, failure_message: 'timeout', gateway_errors: 1 },
        payment: null,
        rescueInsert: null,
        rescueUpdate: null,
        nextAttempt: null,
      };
      await applyBatch(s.db, [c]);
      expect(await attemptById(s.db, attempt.id)).toMatchObject({ status: 'planned', claimed_by: null, lease_expires_at: null, planned_at: at(MINUTE), gateway_errors: 1, idempotency_key: attempt.idempotency_key });
      const again = await claimDueAttempts(s.db, { workerId: 'w2', limit: 10, dueBy: at(MINUTE), testClock: attempt.test_clock, leaseUntil: at(10 * MINUTE) });
      expect(again.map((a) => [a.id, a.idempotency_key])).toEqual([[attempt.id, attempt.idempotency_key]]);
    });

    it('ignores, whole, the batch of a worker whose claim was taken over', async () => {
      const { attempt, payment } = await claimedRetry('w1', at(MINUTE));
      // w1 stalls past its lease; w2 reclaims the attempt.
      const reclaimed = await reclaimExpiredAttempts(s.db, { workerId: 'w2', wallNow: at(2 * MINUTE), leaseUntil: at(10 * MINUTE), limit: 10 });
      expect(reclaimed.map((a) => a.id)).toEqual([attempt.id]);
      const before = await snapshot(payment.id);

      // w1 wakes up and writes what it saw: nothing of it lands.
      const stale = await applyBatch(s.db, [approved(attempt, payment)]);
      expect(stale.size).toBe(0);
      expect(await snapshot(payment.id)).toEqual(before);
      expect(before.payment.status).toBe('rescue_in_progress');
      expect(before.rescue?.status).toBe('active');

      const staleReplan = await applyBatch(s.db, [declinedWithReplan(attempt, payment, { claimedBy: 'w1' })]);
      expect(staleReplan.size).toBe(0);
      expect(await snapshot(payment.id)).toEqual(before);

      // The current holder's outcome is applied.
      const current = await applyBatch(s.db, [declinedWithReplan(attempt, payment, { claimedBy: 'w2' })]);
      expect([...current]).toEqual([attempt.id]);
      const after = await snapshot(payment.id);
      expect(after.attempts.map((a) => [a.number, a.status])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'planned']]);
      expect(after.attempts[1]!.claimed_by).toBe('w2');

      // A finished attempt is no longer anyone's: replaying the same batch changes nothing.
      const replay = await applyBatch(s.db, [declinedWithReplan(attempt, payment, { claimedBy: 'w2' })]);
      expect(replay.size).toBe(0);
      expect(await snapshot(payment.id)).toEqual(after);
    });

    it('in a mixed batch, applies the attempts still held and drops the others\' consequences', async () => {
      const mine = await claimedRetry('w1');
      const lost = await claimedRetry('w1');
      await s.db.updateTable('attempts').set({ claimed_by: 'w9' }).where('id', '=', lost.attempt.id).execute();
      const lostBefore = await snapshot(lost.payment.id);

      const applied = await applyBatch(s.db, [approved(lost.attempt, lost.payment), approved(mine.attempt, mine.payment)]);
      expect([...applied]).toEqual([mine.attempt.id]);
      expect((await snapshot(mine.payment.id)).payment.status).toBe('succeeded');
      expect((await snapshot(mine.payment.id)).rescue?.status).toBe('recovered');
      expect(await snapshot(lost.payment.id)).toEqual(lostBefore);
    });

    it('is all or nothing per attempt: a failing item undoes only its own consequences, the rest of the batch is written', async () => {
      const a = await claimedRetry('w1');
      const b = await claimedRetry('w1');
      const c = await claimedRetry('w1');
      const beforeA = await snapshot(a.payment.id);
      const beforeB = await snapshot(b.payment.id);
      // b's next attempt reuses the idempotency key of a's first attempt: a unique violation, raised by
      // the last statement of the transaction, after the attempts, payments and rescues were updated.
      // c's answer holds NUL and a lone surrogate, which Postgres refuses in jsonb and text.
      const good = declinedWithReplan(a.attempt, a.payment);
      const bad = declinedWithReplan(b.attempt, b.payment, { nextKey: beforeA.attempts[0]!.idempotency_key });
      const poisoned = approved(c.attempt, c.payment);
      poisoned.attempt.transaction_id = 'txn_\u0000\ud800';
      const beforeC = await snapshot(c.payment.id);

      // Alone, a batch nothing of which can be written fails as a whole, as before.
      await expect(applyBatch(s.db, [bad])).rejects.toMatchObject({ code: '23505' });
      await expect(applyBatch(s.db, [bad, poisoned])).rejects.toBeTruthy();
      expect(await snapshot(b.payment.id)).toEqual(beforeB);
      expect(await snapshot(c.payment.id)).toEqual(beforeC);

      const applied = await applyBatch(s.db, [bad, good, poisoned]);
      expect([...applied]).toEqual([a.attempt.id]);
      expect((await snapshot(a.payment.id)).attempts).toHaveLength(3);
      // b and c: nothing of theirs landed; both are still held by w1, processing under their keys.
      expect(await snapshot(b.payment.id)).toEqual(beforeB);
      expect(await snapshot(c.payment.id)).toEqual(beforeC);
      expect(await s.db.selectFrom('attempts').select('id').where('id', '=', bad.nextAttempt!.id!).execute()).toEqual([]);
      expect(await attemptById(s.db, b.attempt.id)).toMatchObject({ status: 'processing', claimed_by: 'w1', idempotency_key: b.attempt.idempotency_key });
      expect(await attemptById(s.db, c.attempt.id)).toMatchObject({ status: 'processing', claimed_by: 'w1', idempotency_key: c.attempt.idempotency_key });

      const fixed = await applyBatch(s.db, [declinedWithReplan(b.attempt, b.payment), approved(c.attempt, c.payment)]);
      expect([...fixed].sort()).toEqual([b.attempt.id, c.attempt.id].sort());
      expect((await snapshot(b.payment.id)).attempts).toHaveLength(3);
      expect((await snapshot(c.payment.id)).payment.status).toBe('succeeded');
    });

    it('a failing rescue insert also undoes the attempt and payment writes', async () => {
      const { attempt, payment } = await claimedRetry('w1');
      const before = await snapshot(payment.id);
      const c = approved(attempt, payment);
      c.rescueUpdate = null;
      c.rescueInsert = rescueValues(payment); // a rescue already exists for this payment
      await expect(applyBatch(s.db, [c])).rejects.toMatchObject({ code: '23505' });
      expect(await snapshot(payment.id)).toEqual(before);
    });

    it('writes only rows of the attempt\'s own account', async () => {
      const { attempt, payment } = await claimedRetry('w1');
      const other = await makeAccount(s.db);
      const before = await snapshot(payment.id);
      // A result carrying another account id does not match the attempt, so nothing is written.
      const c = approved(attempt, payment);
      c.attempt = { ...c.attempt, account_id: other.id };
      expect((await applyBatch(s.db, [c])).size).toBe(0);
      expect(await snapshot(payment.id)).toEqual(before);
    });
  });
});
