import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { buildApp } from './api/app.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { Worker } from './engine/worker.ts';
import { gatewayResolver } from './gateways/resolve.ts';
import { openDb, type Db } from './store/db.ts';
import { migrate } from './store/migrate.ts';

// The composition root: the only place that reads settings and wires the parts together.

export interface Rescue {
  db: Db;
  url: string | null;
  worker: Worker | null;
  close(): Promise<void>;
}

export interface StartOptions {
  api: boolean;
  worker: boolean;
  clock?: Clock;
}

export async function startRescue(config: Config, o: StartOptions): Promise<Rescue> {
  const log = pino({ level: config.LOG_LEVEL });
  const clock = o.clock ?? systemClock;
  const db = await openDb(config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.RESCUE_DATA_DIR });
  await migrate(db);
  const gatewayFor = gatewayResolver(db, { httpTimeoutMs: config.RESCUE_HTTP_GATEWAY_TIMEOUT_MS, wallClock: clock });
  const leaseMs = config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000;
  const worker = o.worker ? new Worker({ db, clock, gatewayFor, log, batchSize: config.RESCUE_WORKER_BATCH, clockBatchSize: config.RESCUE_CLOCK_BATCH, pollMs: config.RESCUE_WORKER_POLL_MS, leaseMs }) : null;
  let url: string | null = null;
  let app: ReturnType<typeof buildApp> | null = null;
  if (o.api) {
    app = buildApp({ db, clock, config, log, gatewayFor, wakeWorker: () => worker?.wake(), processId: `api_${randomUUID().slice(0, 8)}` });
    await app.listen({ port: config.PORT, host: config.HOST });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    url = config.RESCUE_PUBLIC_URL ?? `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  }
  worker?.start();
  return {
    db,
    url,
    worker,
    async close() {
      await worker?.stop();
      await app?.close();
      await db.destroy();
    },
  };
}
