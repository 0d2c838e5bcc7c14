import { randomUUID } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { createLogger } from './log.ts';
import { buildApp, routeTableOf, type RouteEntry } from './api/app.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { STOP_GRACE_MS, Worker } from './engine/worker.ts';
import { buildHealthApp } from './api/health.ts';
import { closeGracefully } from './api/shutdown.ts';
import type { FastifyInstance } from 'fastify';
import { egressGuard, type EgressGuard, type Resolver } from './egress/egress-guard.ts';
import type { WebhookDeliveryOptions } from './engine/webhook-delivery.ts';
import { gatewayResolver } from './gateways/resolve.ts';
import type { GatewayResolver } from './engine/run-attempts.ts';
import { openDb, type Db } from './store/db.ts';
import { migrate } from './store/migrate.ts';
import { keyringFrom } from './stripe/crypto.ts';
import { linkSignerSource } from './engine/dunning-links.ts';
import { emailTransport } from './engine/dunning-send.ts';

// The composition root: the only place that reads settings and wires the parts together.

export interface Rescue {
  db: Db;
  url: string | null;
  /** A worker's health server (StartOptions.healthPort), when it has one. */
  healthUrl: string | null;
  worker: Worker | null;
  /** The gateways the engine charges through (a backtest drives the engine with them). */
  gatewayFor: GatewayResolver;
  /** Every route the API serves (empty without the API). */
  routes: readonly RouteEntry[];
  /**
   * Graceful stop (engine/worker.ts, api/shutdown.ts): stop accepting and claiming, finish what is in
   * flight for at most `graceMs`, then close the database.
   */
  close(o?: { graceMs?: number }): Promise<void>;
}

export interface StartOptions {
  api: boolean;
  worker: boolean;
  /** The engine's time (scheduling, leases, webhook retry backoff); the wall clock by default. */
  clock?: Clock;
  /** Jitter for webhook retry delays, in [0, 1); Math.random by default. */
  random?: () => number;
  /** Where log lines go; stdout by default (a test captures them to grep for secrets). */
  logDestination?: DestinationStream;
  /** A worker without the API: serve GET /health and /ready on this port (0: any free port). */
  healthPort?: number | undefined;
  /** How outbound requests resolve host names (dns.lookup by default; tests inject names). */
  resolveHost?: Resolver;
  /** Check every API answer against its documented schema, and fail the request if it differs (tests). */
  validateResponses?: boolean;
}

/** The egress guard every request to a merchant's URL goes through, with the operator's rules per mode. */
export function egressFor(config: Config, resolve?: Resolver): EgressGuard {
  return egressGuard({ allowPrivate: { test: config.RESCUE_TEST_PRIVATE_ADDRESSES, live: config.RESCUE_LIVE_GATEWAY_PRIVATE_ADDRESSES }, resolve });
}

/**
 * How the worker delivers webhooks. Signature timestamps always come from the wall clock: receivers
 * check them against their own, whatever clock schedules the engine.
 */
export function webhookDeliveryOptions(config: Config, o: { random?: () => number; egress?: EgressGuard } = {}): WebhookDeliveryOptions {
  return {
    timeoutMs: config.RESCUE_WEBHOOK_TIMEOUT_MS,
    concurrency: config.RESCUE_WEBHOOK_CONCURRENCY,
    signingClock: systemClock,
    random: o.random ?? Math.random,
    // Checked again at each delivery, on the address connected to: the host's address may have changed since the endpoint was saved.
    egress: o.egress ?? egressFor(config),
  };
}

/**
 * Where customers and merchants reach this Rescue: RESCUE_PUBLIC_URL, else the address the API
 * listens on. A worker alone (no API) uses RESCUE_PUBLIC_URL or http://HOST:PORT for the links it
 * puts in emails, so set RESCUE_PUBLIC_URL on workers.
 */
function publicUrlOf(config: Config, listening: string | null, port: number = config.PORT): string {
  return listening ?? config.RESCUE_PUBLIC_URL ?? `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
}

export async function startRescue(config: Config, o: StartOptions): Promise<Rescue> {
  const log = createLogger(config.LOG_LEVEL, o.logDestination);
  const clock = o.clock ?? systemClock;
  const db = await openDb(config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.RESCUE_DATA_DIR });
  await migrate(db);
  // Secrets at rest (Stripe tokens) need RESCUE_ENCRYPTION_KEY; without it Stripe stays unavailable.
  const ring = keyringFrom(config.RESCUE_ENCRYPTION_KEY, config.RESCUE_ENCRYPTION_OLD_KEYS);
  const egress = egressFor(config, o.resolveHost);
  const gatewayFor = gatewayResolver(db, { httpTimeoutMs: config.RESCUE_HTTP_GATEWAY_TIMEOUT_MS, wallClock: clock, egress, stripe: { ring, stripe: config } });
  const leaseMs = config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000;
  // Dunning emails: into the outbox, or through SMTP when RESCUE_SMTP_URL is set (engine/dunning-send.ts).
  const signer = linkSignerSource(db, ring, clock);
  const links = async () => ({ signer: await signer(), publicUrl: publicUrlOf(config, url), linkDays: config.RESCUE_UPDATE_LINK_DAYS });
  // The API sends too: GET /api/cron/dunning runs a round for installations without a worker.
  const transport = o.worker || o.api ? emailTransport(config.RESCUE_SMTP_URL, config.RESCUE_SMTP_TIMEOUT_MS) : null;
  // Several loops in one process coordinate through the database exactly as separate processes do;
  // they overlap one loop's database round trips with another's work.
  const workers = o.worker
    ? Array.from({ length: config.RESCUE_WORKER_LOOPS }, () => new Worker({ db, clock, gatewayFor, log, batchSize: config.RESCUE_WORKER_BATCH, clockBatchSize: config.RESCUE_CLOCK_BATCH, pollMs: config.RESCUE_WORKER_POLL_MS, leaseMs, webhooks: webhookDeliveryOptions(config, { random: o.random, egress }), backfill: ring ? { ring, stripe: config } : undefined, emails: transport && o.worker ? { transport, fromAddress: config.RESCUE_EMAIL_FROM, links } : undefined, retrain: { periodMs: config.RESCUE_RETRAIN_PERIOD_DAYS * 86_400_000, minNewRetries: config.RESCUE_RETRAIN_MIN_NEW_RETRIES } }))
    : [];
  const worker = workers[0] ?? null;
  let url: string | null = null;
  let healthUrl: string | null = null;
  let app: FastifyInstance | null = null;
  if (o.api) {
    app = buildApp({ db, clock, config, log, gatewayFor, wakeWorker: () => workers.forEach((w) => w.wake()), processId: `api_${randomUUID().slice(0, 8)}`, links, egress, emails: { transport: transport!, fromAddress: config.RESCUE_EMAIL_FROM }, validateResponses: o.validateResponses ?? false });
    await app.listen({ port: config.PORT, host: config.HOST });
    url = publicUrlOf(config, null, portOf(app, config.PORT));
  } else if (o.healthPort !== undefined) {
    app = buildHealthApp(db, log);
    await app.listen({ port: o.healthPort, host: config.HOST });
    healthUrl = publicUrlOf(config, null, portOf(app, o.healthPort));
  }
  for (const w of workers) w.start();
  let closing: Promise<void> | null = null;
  return {
    db,
    url,
    healthUrl,
    worker,
    gatewayFor,
    routes: app && url ? routeTableOf(app) : [],
    close(c = {}) {
      // Both at once and both bounded: the API stops accepting while the workers stop claiming.
      const graceMs = c.graceMs ?? STOP_GRACE_MS;
      closing ??= (async () => {
        await Promise.all([...workers.map((w) => w.stop({ graceMs })), app ? closeGracefully(app, graceMs) : null]);
        if (transport?.kind === 'smtp') transport.close();
        await db.destroy();
      })();
      return closing;
    },
  };
}

function portOf(app: FastifyInstance, fallback: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : fallback;
}
