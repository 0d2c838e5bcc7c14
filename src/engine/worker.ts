import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { claimDueRealtimeAttempts, reclaimExpiredAttempts, releaseCardLeases } from '../store/attempts.ts';
import type { Db } from '../store/db.ts';
import { retrainDueRealtime, watchRealtimeAccounts, type RetrainPolicy } from '../predict/retrain-schedule.ts';
import { runAttempts, type GatewayResolver } from './run-attempts.ts';
import { advanceClocks } from './test-clock-advance.ts';
import { deliverDueWebhooks, type WebhookDeliveryOptions } from './webhook-delivery.ts';

export interface WorkerOptions {
  db: Db;
  clock: Clock;
  gatewayFor: GatewayResolver;
  log: Logger;
  batchSize: number;
  clockBatchSize: number;
  pollMs: number;
  leaseMs: number;
  webhooks: WebhookDeliveryOptions;
  /** Further jobs run each round (the Stripe backfill); each returns how much it moved. */
  jobs?: readonly ((workerId: string) => Promise<number>)[];
  /** Scheduled retraining of each account's retry model (real time here, test clocks as they advance). */
  retrain?: RetrainPolicy;
}

// The worker: reconcile attempts whose worker died, run due real-time attempts, move test clocks
// that were asked to advance, deliver due webhooks. Many workers may run against one Postgres; they meet only in rows
// claimed with FOR UPDATE SKIP LOCKED.
export class Worker {
  readonly id = `wrk_${randomUUID().slice(0, 8)}`;
  #o: WorkerOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(o: WorkerOptions) {
    this.#o = o;
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

  /** One round; returns how many attempts, clocks or webhook deliveries it moved. */
  async runOnce(): Promise<number> {
    const { db, clock, batchSize } = this.#o;
    const now = clock.now();
    const leaseUntil = new Date(now.getTime() + this.#o.leaseMs);
    const deps = { db, gatewayFor: this.#o.gatewayFor, log: this.#o.log };
    let moved = 0;
    const stale = await reclaimExpiredAttempts(db, { workerId: this.id, wallNow: now, leaseUntil, limit: batchSize });
    if (stale.length) {
      this.#o.log.warn({ count: stale.length }, 'reconciling attempts left processing by a stopped worker');
      await runAttempts(deps, stale, (a) => (a.test_clock ? (a.attempted_at ?? a.planned_at) : now));
      moved += stale.length;
    }
    const due = await claimDueRealtimeAttempts(db, { workerId: this.id, limit: batchSize, dueBy: now, wallNow: now, leaseUntil });
    if (due.length) {
      try {
        const summary = await runAttempts(deps, due, () => now);
        this.#o.log.info({ worker: this.id, ...summary }, 'ran due attempts');
      } finally {
        await releaseCardLeases(db, this.id);
      }
      if (this.#o.retrain) await watchRealtimeAccounts(db, due.filter((a) => a.number > 1), now);
      moved += due.length;
    }
    if (this.#o.retrain) await retrainDueRealtime(db, this.#o.retrain, now);
    moved += await advanceClocks({ db, gatewayFor: this.#o.gatewayFor, log: this.#o.log, wallClock: clock, workerId: this.id, batchSize: this.#o.clockBatchSize, leaseMs: this.#o.leaseMs, retrain: this.#o.retrain });
    moved += await deliverDueWebhooks({ ...this.#o.webhooks, db, clock, log: this.#o.log, workerId: this.id, leaseMs: this.#o.leaseMs, maxPerRound: batchSize });
    for (const job of this.#o.jobs ?? []) moved += await job(this.id);
    return moved;
  }
}
