import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { dueRetrainChecks, RETRAIN_CLAIM_MS, runRetrainCheck, watchRealtimeAccounts, type RetrainPolicy } from '../predict/retrain-schedule.ts';
import { expiredAttempts, ensureCardLeaseRows, REALTIME_CANDIDATES, realtimeAttempts, releaseCardLeases } from '../store/attempts.ts';
import type { Db } from '../store/db.ts';
import { dueEmails } from '../store/emails.ts';
import { claimDue, type ClaimSpec } from '../store/job-claims.ts';
import { dueBackfills } from '../store/stripe.ts';
import { advancingClocks } from '../store/test-clocks.ts';
import { dueDeliveries } from '../store/webhook-deliveries.ts';
import type { StripeSettings } from '../stripe/client.ts';
import type { Keyring } from '../stripe/crypto.ts';
import { importBackfill } from '../stripe/backfill.ts';
import { handBack } from '../stripe/handback.ts';
import { dueHandbacks } from '../store/stripe-handbacks.ts';
import type { LinkSettings } from './dunning-render.ts';
import { emailClaim, failInterrupted, sendClaimed, type EmailTransport } from './dunning-send.ts';
import { runPreDunning } from './pre-dunning.ts';

const PRE_DUNNING_EVERY_MS = 60_000;
import { runAttempts, type GatewayResolver } from './run-attempts.ts';
import { advanceClock } from './test-clock-advance.ts';
import { deliverClaimed, deliveryClaim, type WebhookDeliveryOptions } from './webhook-delivery.ts';

// The worker's job catalog. Every job is a queue table claimed through the one claim/lease
// implementation (store/job-claims.ts: FOR UPDATE SKIP LOCKED, a lease, at least once): it declares
// what it claims (a ClaimSpec: table, due condition, order, the columns that mark a claim), how many
// rows one claim takes, how long the lease lasts, and what it does with a claimed batch. A worker
// round runs the catalog in order (engine/worker.ts); each job claims again while its claims come
// back full, up to `perRound`, so no job starves the others.

export interface JobContext {
  workerId: string;
  /** Wall time of the claim. */
  now: Date;
  /** Aborted when the worker stops: send nothing new, hand back what was not started (engine/worker.ts). */
  stopping: AbortSignal;
}

export interface Job<R = unknown> {
  name: string;
  claim: ClaimSpec<R>;
  /** Rows one claim takes. */
  batch: number;
  /** Rows one round claims at most. */
  perRound: number;
  /** How long a claim is held; past it the rows are due again (their worker died). */
  leaseMs: number;
  /** Once a round, before claiming: upkeep that is not a claim. */
  before?(now: Date): Promise<void>;
  /** Works a claimed batch; returns how much it moved (0 when nothing changed). */
  run(rows: R[], ctx: JobContext): Promise<number>;
}

/** One job for one round: claim, run, and claim again while claims come back full (and the worker is not stopping). */
export async function runJob(db: Db, clock: Clock, job: Job, workerId: string, stopping: AbortSignal): Promise<number> {
  if (job.before) await job.before(clock.now());
  let taken = 0;
  let moved = 0;
  while (taken < job.perRound && !stopping.aborted) {
    const now = clock.now();
    const rows = await claimDue(db, job.claim, { workerId, now, leaseUntil: new Date(now.getTime() + job.leaseMs), limit: Math.min(job.batch, job.perRound - taken) });
    if (rows.length === 0) break;
    taken += rows.length;
    moved += await job.run(rows, { workerId, now, stopping });
    if (rows.length < job.batch) break;
  }
  return moved;
}

export interface JobCatalogOptions {
  db: Db;
  clock: Clock;
  gatewayFor: GatewayResolver;
  log: Logger;
  /** Attempts (and at most webhook deliveries, emails) one round claims. */
  batchSize: number;
  /** Attempts one batch of a test clock's advance runs. */
  clockBatchSize: number;
  leaseMs: number;
  webhooks: WebhookDeliveryOptions;
  /** Scheduled retraining of each account's retry model (real time here, test clocks as they advance). */
  retrain?: RetrainPolicy;
  /** The Stripe backfill (needs the keyring that decrypts Stripe tokens). */
  backfill?: { ring: Keyring; stripe: StripeSettings };
  /** Dunning emails: the outbox or SMTP. */
  emails?: { transport: EmailTransport; fromAddress: string; links: () => Promise<LinkSettings> };
}

/** The catalog, in the order a round runs it. */
export function workerJobs(o: JobCatalogOptions): Job[] {
  const { db, clock, log } = o;
  const deps = { db, gatewayFor: o.gatewayFor, log };
  const jobs: Job[] = [];
  // A real-time claim chooses among the earliest REALTIME_CANDIDATES × batch due attempts, and the
  // round's upkeep gives exactly those attempts' cards their lease rows: a round's work follows the
  // batch, not the backlog (one claim a round: perRound is the batch).
  const candidates = REALTIME_CANDIDATES * o.batchSize;
  jobs.push(
    job({
      // Attempts left processing by a worker that died: reconciled under their original idempotency key.
      name: 'attempts.reconcile',
      claim: expiredAttempts,
      batch: o.batchSize,
      perRound: o.batchSize,
      leaseMs: o.leaseMs,
      async run(stale, { now, stopping }) {
        log.warn({ count: stale.length }, 'reconciling attempts left processing by a stopped worker');
        await runAttempts({ ...deps, stopping }, stale, (a) => (a.test_clock ? (a.attempted_at ?? a.planned_at) : now));
        return stale.length;
      },
    }),
    job({
      // Due real-time attempts, one per card, each card leased to one worker while it is charged.
      name: 'attempts',
      claim: realtimeAttempts({ candidates }),
      batch: o.batchSize,
      perRound: o.batchSize,
      leaseMs: o.leaseMs,
      before: (now) => ensureCardLeaseRows(db, { dueBy: now, wallNow: now, candidates }),
      async run(due, { workerId, now, stopping }) {
        try {
          const summary = await runAttempts({ ...deps, stopping }, due, () => now);
          log.info({ worker: workerId, ...summary }, 'ran due attempts');
        } finally {
          await releaseCardLeases(db, workerId);
        }
        if (o.retrain) await watchRealtimeAccounts(db, due.filter((a) => a.number > 1), now);
        return due.length;
      },
    }),
  );
  const retrain = o.retrain;
  if (retrain && retrain.periodMs > 0) {
    jobs.push(
      job({
        // An account's scheduled retraining check (real time); test clocks retrain as they advance.
        name: 'retraining',
        claim: dueRetrainChecks,
        batch: 1,
        perRound: 1,
        leaseMs: RETRAIN_CLAIM_MS,
        run: async ([row], { now }) => runRetrainCheck(db, retrain, row!, now),
      }),
    );
  }
  jobs.push(
    job({
      // Test clocks asked to advance: each is moved to its target, then `ready`.
      name: 'test-clocks',
      claim: advancingClocks,
      batch: 1,
      perRound: Number.POSITIVE_INFINITY,
      leaseMs: o.leaseMs,
      run: async ([clockRow], { workerId, stopping }) =>
        advanceClock({ db, gatewayFor: o.gatewayFor, log, stopping, wallClock: clock, workerId, batchSize: o.clockBatchSize, leaseMs: o.leaseMs, retrain: o.retrain }, clockRow!),
    }),
    job({
      name: 'webhook-deliveries',
      claim: dueDeliveries,
      ...deliveryClaim({ concurrency: o.webhooks.concurrency, timeoutMs: o.webhooks.timeoutMs, leaseMs: o.leaseMs }),
      perRound: o.batchSize,
      run: (claimed, { workerId, stopping }) => deliverClaimed({ ...o.webhooks, db, clock, log, workerId, stopping }, claimed),
    }),
  );
  const backfill = o.backfill;
  if (backfill) {
    jobs.push(
      job({
        // One object type of one account's Stripe import at a time; the cursor survives a crash.
        name: 'stripe-backfill',
        claim: dueBackfills,
        batch: 1,
        perRound: 1,
        leaseMs: o.leaseMs,
        run: async ([row], { workerId, now }) => importBackfill({ db, clock, log, leaseMs: o.leaseMs, ...backfill }, workerId, row!, now),
      }),
      job({
        // Invoices Rescue let go of get auto_advance back (Stripe's retries and dunning resume);
        // retried with backoff while Stripe is unreachable (stripe/handback.ts).
        name: 'stripe-handbacks',
        claim: dueHandbacks,
        batch: 10,
        perRound: 50,
        leaseMs: o.leaseMs,
        async run(rows, { workerId }) {
          let moved = 0;
          for (const row of rows) if ((await handBack({ db, ...backfill }, row, workerId, clock.now())) !== 'retry') moved++;
          return moved;
        },
      }),
    );
  }
  const emails = o.emails;
  if (emails) {
    // Pre-dunning checks (engine/pre-dunning.ts) at most once a minute: they read every new paid payment.
    let preDunnedAt = -Infinity;
    const preDunning = async (now: Date) => {
      if (now.getTime() - preDunnedAt < PRE_DUNNING_EVERY_MS) return;
      preDunnedAt = now.getTime();
      await runPreDunning({ db, clock, gatewayFor: o.gatewayFor });
    };
    jobs.push(
      job({
        name: 'emails',
        claim: dueEmails,
        ...emailClaim(emails.transport, o.leaseMs),
        perRound: o.batchSize,
        before: async (now) => {
          await failInterrupted({ db, log }, now);
          await preDunning(now);
        },
        run: (claimed, { workerId }) => sendClaimed({ db, clock, log, workerId, ...emails }, claimed),
      }),
    );
  }
  return jobs;
}

function job<R>(j: Job<R>): Job {
  return j as unknown as Job;
}
