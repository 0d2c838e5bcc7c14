import type { Clock } from '../clock.ts';
import { retrainOnTestClock, type RetrainPolicy } from '../predict/retrain-schedule.ts';
import { MIN_RETRY_GAP_MS } from '../domain/schedule-policy.ts';
import { claimDueAttempts } from '../store/attempts.ts';
import type { Db } from '../store/db.ts';
import type { TestClockRow } from '../store/schema.ts';
import { clockHasUnsettledAttempts, earliestDueOnClock, moveClock, releaseClock } from '../store/test-clocks.ts';
import { GATEWAY_RETRY_DELAYS_MS } from './outcome.ts';
import { runAttempts, type GatewayResolver, type RunDeps } from './run-attempts.ts';

export interface AdvanceDeps {
  db: Db;
  gatewayFor: GatewayResolver;
  log?: RunDeps['log'];
  /** Aborted when the worker stops: the clock is handed back at the next batch boundary. */
  stopping?: AbortSignal | undefined;
  wallClock: Clock;
  workerId: string;
  batchSize: number;
  leaseMs: number;
  /** Scheduled retraining, judged on each clock's own time at batch boundaries; omitted: none. */
  retrain?: RetrainPolicy;
}

/**
 * Nothing an attempt causes can be due sooner than this after it, so every attempt due before
 * `earliest + HORIZON` can run in one batch without any of them running out of time order.
 */
const HORIZON_MS = Math.min(MIN_RETRY_GAP_MS, GATEWAY_RETRY_DELAYS_MS[0]!);

/** How soon a clock waiting for another worker's unsettled attempt is looked at again. */
const RECHECK_UNSETTLED_MS = 250;

/**
 * Moves a clock this worker claimed (store/test-clocks.ts#advancingClocks) through all work due up
 * to its target, in time order: each attempt runs at its own scheduled time, which becomes its
 * attempted_at. Renews the clock's lease at each batch; done, the clock is `ready`. Returns the
 * attempts it ran plus one for the clock.
 */
export async function advanceClock(d: AdvanceDeps, clock: TestClockRow): Promise<number> {
  let moved = 0;
  const lease = () => new Date(d.wallClock.now().getTime() + d.leaseMs);
  const target = clock.target_time;
  for (;;) {
    const earliest = await earliestDueOnClock(d.db, clock.id, target);
    // A batch boundary: the clock stands at the time its next work is due (or at its target), and
    // its account retrains if that is due on this clock, on the attempts finished by then.
    if (d.retrain) await retrainOnTestClock(d.db, d.retrain, { accountId: clock.account_id, clockId: clock.id, clockTime: earliest ?? target });
    if (!earliest) {
      // An attempt of this clock still processing under a stopped worker's lease is not finished: its
      // reconciliation may plan a retry before the target. The clock stays advancing, handed back for
      // a moment, and is finished once that attempt is settled (found in the chaos test).
      if (await clockHasUnsettledAttempts(d.db, clock.id)) {
        await releaseClock(d.db, clock.id, d.workerId, new Date(d.wallClock.now().getTime() + RECHECK_UNSETTLED_MS));
        break;
      }
      await moveClock(d.db, clock.id, d.workerId, target, true, null);
      break;
    }
    if (d.stopping?.aborted) {
      await releaseClock(d.db, clock.id, d.workerId);
      break;
    }
    const horizon = new Date(Math.min(target.getTime(), earliest.getTime() + HORIZON_MS - 1));
    if (!(await moveClock(d.db, clock.id, d.workerId, earliest, false, lease()))) break;
    const due = await claimDueAttempts(d.db, { workerId: d.workerId, limit: d.batchSize, dueBy: horizon, testClock: clock.id, leaseUntil: lease() });
    await runAttempts(d, due, (a) => a.planned_at);
    moved += due.length;
  }
  return moved + 1;
}
