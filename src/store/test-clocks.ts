import { sql } from 'kysely';
import { RescueError, missingResource } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Db } from './db.ts';
import { claimDue, type ClaimSpec } from './job-claims.ts';
import type { TestClockRow } from './schema.ts';

export async function createTestClock(db: Db, accountId: string, input: { frozenTime: Date; name: string | null; now: Date }): Promise<TestClockRow> {
  return db
    .insertInto('test_clocks')
    .values({ id: newId('clock'), account_id: accountId, name: input.name, frozen_time: input.frozenTime, target_time: input.frozenTime, status: 'ready', claimed_by: null, lease_expires_at: null, created_at: input.now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getTestClock(db: Db, accountId: string, id: string): Promise<TestClockRow> {
  const row = await db.selectFrom('test_clocks').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  if (!row) throw missingResource('test_clock', id);
  return row;
}

/** Newest first; `startingAfter` (a clock id of this account) continues after that clock. */
export async function listTestClocks(db: Db, accountId: string, limit: number, startingAfter?: string): Promise<TestClockRow[]> {
  let query = db.selectFrom('test_clocks').selectAll().where('account_id', '=', accountId);
  if (startingAfter) {
    const cursor = await db.selectFrom('test_clocks').select('seq').where('account_id', '=', accountId).where('id', '=', startingAfter).executeTakeFirst();
    if (!cursor) throw missingResource('test_clock', startingAfter, 'starting_after');
    query = query.where('seq', '<', cursor.seq);
  }
  return query.orderBy('seq', 'desc').limit(limit).execute();
}

/** Starts an advance; the worker moves the clock through every due attempt to `to`. */
export async function requestAdvance(db: Db, accountId: string, id: string, to: Date): Promise<TestClockRow> {
  return db.transaction().execute(async (tx) => {
    const clock = await tx.selectFrom('test_clocks').selectAll().where('account_id', '=', accountId).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!clock) throw missingResource('test_clock', id);
    if (clock.status === 'advancing') throw new RescueError('test_clock_advancing', `Test clock ${id} is already advancing; wait until its status is ready.`);
    if (to.getTime() < clock.frozen_time.getTime()) {
      throw new RescueError('test_clock_in_past', 'frozen_time must be at or after the clock\'s current frozen_time.', 'frozen_time');
    }
    return tx.updateTable('test_clocks').set({ status: 'advancing', target_time: to }).where('id', '=', id).where('account_id', '=', accountId).returningAll().executeTakeFirstOrThrow();
  });
}

/**
 * Clocks asked to advance, oldest first. Reentrant: the worker moving a clock renews its lease as it
 * goes (moveClock); once a lease has run out another worker takes the clock over. Done, the clock is
 * `ready` again and no longer due.
 */
export const advancingClocks: ClaimSpec<TestClockRow> = {
  table: 'test_clocks',
  key: ['id'],
  due: () => sql`t.status = 'advancing'`,
  order: sql`t.seq`,
  lease: { kind: 'holder', claimedBy: 'claimed_by', expiresAt: 'lease_expires_at', reentrant: true },
};

export async function claimAdvancingClock(db: Db, workerId: string, wallNow: Date, leaseUntil: Date): Promise<TestClockRow | null> {
  const [clock] = await claimDue(db, advancingClocks, { workerId, now: wallNow, leaseUntil, limit: 1 });
  return clock ?? null;
}

export async function earliestDueOnClock(db: Db, clockId: string, until: Date): Promise<Date | null> {
  const row = await db
    .selectFrom('attempts')
    .select((eb) => eb.fn.min('planned_at').as('at'))
    .where('test_clock', '=', clockId)
    .where('status', '=', 'planned')
    .where('planned_at', '<=', until)
    .executeTakeFirst();
  return (row?.at as Date | null | undefined) ?? null;
}

/**
 * Moves a clock the caller holds; false when another worker has taken it over (our lease ran out),
 * in which case the caller must stop: the clock is no longer its to move.
 */
export async function moveClock(db: Db, clockId: string, workerId: string, to: Date, done: boolean, leaseUntil: Date | null): Promise<boolean> {
  const result = await db
    .updateTable('test_clocks')
    .set(done ? { frozen_time: to, status: 'ready', claimed_by: null, lease_expires_at: null } : { frozen_time: to, lease_expires_at: leaseUntil })
    .where('id', '=', clockId)
    .where('claimed_by', '=', workerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Hands an advancing clock back: still advancing, unclaimed, and free for any worker from `freeAt`
 * on (now by default: a stopping worker between batches).
 */
export async function releaseClock(db: Db, clockId: string, workerId: string, freeAt: Date | null = null): Promise<void> {
  await db.updateTable('test_clocks').set({ claimed_by: null, lease_expires_at: freeAt }).where('id', '=', clockId).where('claimed_by', '=', workerId).execute();
}

/** Whether an attempt of the clock is still processing (claimed by a worker that has not written its outcome). */
export async function clockHasUnsettledAttempts(db: Db, clockId: string): Promise<boolean> {
  const row = await db.selectFrom('attempts').select('id').where('test_clock', '=', clockId).where('status', '=', 'processing').limit(1).executeTakeFirst();
  return row !== undefined;
}
