import { randomUUID } from 'node:crypto';
import { pruneIdempotencyKeys } from '../store/idempotency.ts';
import { runJob, workerJobs, type Job, type JobCatalogOptions } from './jobs.ts';

/** How often a worker prunes expired idempotency keys (by its clock). */
export const PRUNE_EVERY_MS = 10 * 60_000;

export interface WorkerOptions extends JobCatalogOptions {
  pollMs: number;
}

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

  constructor(o: WorkerOptions) {
    this.#o = o;
    this.jobs = workerJobs(o);
  }

  start(): void {
    this.#stopped = false;
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

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  async #loop(): Promise<void> {
    try {
      while (!this.#stopped && (await this.runOnce()) > 0) {
        // keep going while there is work
      }
    } catch (err) {
      this.#o.log.error({ err }, 'worker round failed');
    }
  }

  /** One round; returns how much its jobs moved (attempts, clocks, deliveries, emails, …). */
  async runOnce(): Promise<number> {
    let moved = 0;
    for (const job of this.jobs) moved += await runJob(this.#o.db, this.#o.clock, job, this.id);
    await this.#upkeep();
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
