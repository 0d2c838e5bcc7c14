import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { systemClock } from '../src/clock.ts';
import { rescueCancelled } from '../src/domain/events.ts';
import { insertEvents } from '../src/store/events.ts';
import { spawnWorker, type WorkerProcess } from '../test/support/workers.ts';
import { benchRescue, seconds, table } from './support.ts';

// Webhook deliveries per second from `rescue worker` processes on Postgres to a local receiver
// (node:http on 127.0.0.1 answering 204 at once), with one worker and with two. The workers are up
// and idle before the events are committed, all at once, so the time is delivery only.

export interface WebhookBenchResult {
  workers: number;
  deliveries: number;
  received: number;
  ms: number;
}

async function scenario(workers: number, events: number): Promise<WebhookBenchResult> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const b = await benchRescue('postgres', {}, { worker: false });
  const procs: WorkerProcess[] = [];
  try {
    const { port } = server.address() as AddressInfo;
    await b.post('/v2/webhook_endpoints', { url: `http://127.0.0.1:${port}/hooks`, enabled_events: ['*'] });
    for (let i = 0; i < workers; i++) procs.push(spawnWorker(b.databaseUrl!, { LOG_LEVEL: 'warn', RESCUE_WORKER_POLL_MS: '20' }));
    await Promise.all(procs.map((p) => p.id));
    const now = systemClock.now();
    const batch = Array.from({ length: events }, (_, i) => ({
      ...rescueCancelled({ id: `pay_bench${i}`, customer: null, amount: 1000 + i, currency: 'USD' }, 2),
      accountId: b.accountId,
      livemode: false,
      createdAt: now,
    }));
    await b.rescue.db.transaction().execute((tx) => insertEvents(tx, batch));
    const t0 = performance.now();
    for (;;) {
      const left = await sql<{ n: number }>`select count(*)::int8 as n from webhook_deliveries where status <> 'succeeded'`.execute(b.rescue.db);
      if (Number(left.rows[0]!.n) === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const ms = performance.now() - t0;
    const done = await sql<{ n: number }>`select count(*)::int8 as n from webhook_deliveries where status = 'succeeded'`.execute(b.rescue.db);
    return { workers, deliveries: Number(done.rows[0]!.n), received, ms };
  } finally {
    for (const p of procs) await p.kill();
    await b.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function runWebhookDeliveryBench(events: number): Promise<string> {
  const results = [await scenario(1, events), await scenario(2, events)];
  const perSec = (r: WebhookBenchResult) => r.deliveries / (r.ms / 1000);
  return table(
    results.map((r) => ({
      'worker processes': r.workers,
      deliveries: r.deliveries,
      'requests received': r.received,
      seconds: seconds(r.ms),
      'deliveries/s': perSec(r).toFixed(0),
      'vs one worker': `${(perSec(r) / perSec(results[0]!)).toFixed(2)}×`,
    })),
  );
}
