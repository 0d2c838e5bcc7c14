import { sql } from 'kysely';
import type { Db } from '../store/db.ts';
import { claimDue, type ClaimSpec } from '../store/job-claims.ts';
import { MIN_TRAINING_RETRIES, trainRetryTiming, type TrainOutcome } from './train.ts';

// Scheduled retraining of each account's retry-timing model, judged by the account's clock: real
// time for real-time attempts (the worker's round), a test clock's time for attempts on that clock
// (the advance loop, at batch boundaries), so a backtest over months retrains as production would.
// An account retrains when at least `minNewRetries` retries finished since it last did on that clock
// and at most once per `periodMs`; each training sees only the attempts of its clock up to that time,
// and keeps the better model (trainRetryTiming). State: one row of model_retraining per account,
// mode and clock; when nothing is due the cost is one indexed query.

export interface RetrainPolicy {
  /** At most one training per period of the account's clock; 0 turns scheduled retraining off. */
  periodMs: number;
  /** Finished retries since the last training needed to train again. */
  minNewRetries: number;
}

const DAY_MS = 86_400_000;
/** After a look that found too few new retries, look again this much later on the same clock. */
const RECHECK_MS = DAY_MS;
/** A worker that claimed a real-time check owns it this long. */
export const RETRAIN_CLAIM_MS = 10 * 60_000;

interface State { last_trained_at: Date | null; check_after: Date }

type Scope = { accountId: string; livemode: boolean; clock: string };

const REALTIME = '';

/** Makes sure the accounts whose real-time retries just ran are watched (a no-op once they are). */
export async function watchRealtimeAccounts(db: Db, scopes: readonly { account_id: string; livemode: boolean }[], now: Date): Promise<void> {
  const seen = new Set<string>();
  for (const s of scopes) {
    const key = `${s.account_id}|${s.livemode}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await sql`insert into model_retraining (account_id, livemode, kind, clock, last_trained_at, check_after)
      values (${s.account_id}, ${s.livemode}, 'retry_timing', ${REALTIME}, null, ${now}) on conflict do nothing`.execute(db);
  }
}

export interface RetrainCheck { account_id: string; livemode: boolean; last_trained_at: Date | null }

/**
 * Real-time accounts whose check is due (one indexed query when none is). The due time is the lease:
 * a claim moves check_after past CLAIM_MS, and a check finished writes the next one.
 */
export const dueRetrainChecks: ClaimSpec<RetrainCheck> = {
  table: 'model_retraining',
  key: ['account_id', 'livemode', 'kind', 'clock'],
  due: () => sql`t.clock = ${REALTIME}`,
  order: sql`t.check_after`,
  lease: { kind: 'postpone', column: 'check_after' },
};

/** Retrains a claimed real-time account if enough new retries finished. Returns 1 when it trained. */
export async function runRetrainCheck(db: Db, policy: RetrainPolicy, row: RetrainCheck, now: Date): Promise<number> {
  const out = await check(db, policy, { accountId: row.account_id, livemode: row.livemode, clock: REALTIME }, row.last_trained_at, now);
  return out ? 1 : 0;
}

/** The worker's round for one account: claims one due real-time check and runs it. Returns 1 when it trained. */
export async function retrainDueRealtime(db: Db, policy: RetrainPolicy, now: Date): Promise<number> {
  if (policy.periodMs <= 0) return 0;
  const [row] = await claimDue(db, dueRetrainChecks, { workerId: '', now, leaseUntil: new Date(now.getTime() + RETRAIN_CLAIM_MS), limit: 1 });
  return row ? runRetrainCheck(db, policy, row, now) : 0;
}

/**
 * The advance loop, at a batch boundary of a test clock at `clockTime`: retrains the clock's account
 * when it is due on that clock. The caller holds the clock's lease, so no other worker races it.
 */
export async function retrainOnTestClock(db: Db, policy: RetrainPolicy, o: { accountId: string; clockId: string; clockTime: Date }): Promise<TrainOutcome | null> {
  if (policy.periodMs <= 0) return null;
  const scope = { accountId: o.accountId, livemode: false, clock: o.clockId };
  const state = (await sql<State>`select last_trained_at, check_after from model_retraining
    where account_id = ${o.accountId} and livemode = false and kind = 'retry_timing' and clock = ${o.clockId}`.execute(db)).rows[0];
  if (state && state.check_after > o.clockTime) return null;
  return check(db, policy, scope, state?.last_trained_at ?? null, o.clockTime);
}

async function check(db: Db, policy: RetrainPolicy, s: Scope, lastTrainedAt: Date | null, now: Date): Promise<TrainOutcome | null> {
  const notBefore = lastTrainedAt ? new Date(lastTrainedAt.getTime() + policy.periodMs) : null;
  if (notBefore && notBefore > now) {
    await save(db, s, lastTrainedAt, notBefore);
    return null;
  }
  const onClock = s.clock === REALTIME ? sql`test_clock is null` : sql`test_clock = ${s.clock}`;
  const since = lastTrainedAt ?? new Date(0);
  const counted = await sql<{ n: string | number }>`select count(*) as n from attempts
    where account_id = ${s.accountId} and livemode = ${s.livemode} and number > 1 and status in ('succeeded', 'failed')
      and attempted_at > ${since} and attempted_at <= ${now} and ${onClock}`.execute(db);
  const fresh = Number(counted.rows[0]?.n ?? 0);
  const recheck = new Date(now.getTime() + Math.min(RECHECK_MS, policy.periodMs));
  if (fresh < Math.max(1, policy.minNewRetries)) {
    await save(db, s, lastTrainedAt, recheck);
    return null;
  }
  const out = await trainRetryTiming(db, { accountId: s.accountId, livemode: s.livemode, now, testClock: s.clock === REALTIME ? null : s.clock, minExamples: MIN_TRAINING_RETRIES });
  if (out.status === 'skipped') {
    await save(db, s, lastTrainedAt, recheck);
    return null;
  }
  await save(db, s, now, new Date(now.getTime() + policy.periodMs));
  return out;
}

async function save(db: Db, s: Scope, lastTrainedAt: Date | null, checkAfter: Date): Promise<void> {
  await sql`insert into model_retraining (account_id, livemode, kind, clock, last_trained_at, check_after)
    values (${s.accountId}, ${s.livemode}, 'retry_timing', ${s.clock}, ${lastTrainedAt}, ${checkAfter})
    on conflict (account_id, livemode, kind, clock) do update set last_trained_at = excluded.last_trained_at, check_after = excluded.check_after`.execute(db);
}
