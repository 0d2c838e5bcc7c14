import { randomUUID } from 'node:crypto';
import { pruneIdempotencyKeys } from '../store/idempotency.ts';
import { endClaims } from '../store/job-claims.ts';
import { runJob, workerJobs, type Job, type JobCatalogOptions } from './jobs.ts';

/** How often a worker prunes expired idempotency keys (by its clock). */
export const PRUNE_EVERY_MS = 10 * 60_000;

export interface WorkerOptions extends JobCatalogOptions {
  pollMs: number;
}

/** How long a stopping worker waits for calls in flight by default: inside a platform's 10 s budget with room to exit. */
export const STOP_GRACE_MS = 8000;

// The worker: each round runs the job catalog (engine/jobs.ts) in order — reconcile attempts whose
// worker died, run due real-time attempts, retrain, move test clocks that were asked to advance,
// deliver due webhooks, import from Stripe, send emails. Many workers may run against one Postgres;
// they meet only in rows claimed with FOR UPDATE SKIP LOCKED under a lease (store/job-claims.ts).
export class Worker {
  readonly id = `wrk_${randomUUID().slice(0, 8)}`;
  #o: WorkerOptions;
  readonly jobs: readonly Job[];
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #prunedAt = Number.NEGATIVE_INFINITY;
  #stopping = new AbortController();
  #abandoned = false;

  constructor(o: WorkerOptions) {
    this.#o = o;
    this.jobs = workerJobs(o);
  }

  start(): void {
    this.#stopped = false;
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    this.wake();
  }

  /** Run a round now (new work arrived); rounds never overlap. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#running = this.#loop().finally(() => {
      this.#running = null;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.wake();
      } else {
        this.#timer = setTimeout(() => this.wake(), this.#o.pollMs);
      }
    });
  }

  /**
   * Stops claiming; work claimed and not yet started (attempts not sent to their gateway, webhooks not
   * sent, a test clock between batches) is handed back for another worker to take at once; calls in
   * flight are awaited for at most `graceMs`. Past it, every lease this worker still holds ends now,
   * as if it had died: its attempts in flight stay `processing` and the next worker reconciles them
   * under their idempotency keys (never a new key). Resolves true when the round finished in time.
   */
  async stop(o: { graceMs?: number } = {}): Promise<boolean> {
    this.#stopped = true;
    this.#stopping.abort();
    if (this.#timer) clearTimeout(this.#timer);
    const running = this.#running;
    if (!running) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), o.graceMs ?? STOP_GRACE_MS)));
    const finished = await Promise.race([running.then(() => true as const), late]).finally(() => clearTimeout(timer));
    if (finished) return true;
    this.#abandoned = true;
    const now = this.#o.clock.now();
    const tables = new Set<string>();
    let ended = 0;
    for (const job of this.jobs) {
      if (tables.has(job.claim.table)) continue;
      tables.add(job.claim.table);
      ended += await endClaims(this.#o.db, job.claim, this.id, now).catch(() => 0);
    }
    this.#o.log.warn({ worker: this.id, leasesEnded: ended, graceMs: o.graceMs ?? STOP_GRACE_MS }, 'stopped with calls still in flight: their leases end now and the next worker reconciles them');
    return false;
  }

  async #loop(): Promise<void> {
    try {
      while (!this.#stopped && (await this.#round(this.#stopping.signal)) > 0) {
        // keep going while there is work
      }
    } catch (err) {
      // Once abandoned, the database may be closed under the round: its failure is expected.
      if (!this.#abandoned) this.#o.log.error({ err }, 'worker round failed');
    }
  }

  /**
   * One round; returns how much its jobs moved (attempts, clocks, deliveries, emails, …). Called by
   * hand (tests drive rounds themselves, the worker stopped), a round runs whole.
   */
  runOnce(): Promise<number> {
    return this.#round(new AbortController().signal);
  }

  async #round(stopping: AbortSignal): Promise<number> {
    let moved = 0;
    for (const job of this.jobs) {
      if (stopping.aborted) break;
      moved += await runJob(this.#o.db, this.#o.clock, job, this.id, stopping);
    }
    if (!stopping.aborted) await this.#upkeep();
    return moved;
  }

  /** Housekeeping that is not a job: no claim, safe for any number of workers at once. */
  async #upkeep(): Promise<void> {
    const now = this.#o.clock.now();
    if (now.getTime() - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = now.getTime();
    while ((await pruneIdempotencyKeys(this.#o.db, now)) > 0) {
      // until every expired key is gone
    }
  }
}
