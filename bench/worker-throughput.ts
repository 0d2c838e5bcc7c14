import { sql } from 'kysely';
import { Worker } from '../src/engine/worker.ts';
import { gatewayResolver } from '../src/gateways/resolve.ts';
import { systemClock } from '../src/clock.ts';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { egressFor, webhookDeliveryOptions } from '../src/server.ts';
import { benchRescue, inLanes, seconds, table, type Engine } from './support.ts';

// Attempts per second one real-time worker runs on Postgres: N due retries on the sandbox gateway.
// Baseline: the same worker claiming one attempt per round (RESCUE_WORKER_BATCH=1).

export async function throughputScenario(scenario: string, engine: Engine, attempts: number, batch: number) {
  const b = await benchRescue(engine, {}, { worker: false });
  try {
    await inLanes(Array.from({ length: attempts }, (_, i) => i), 8, async (i) => {
      await b.post('/v2/payments', {
        amount: 2000,
        currency: 'USD',
        payment_method: `pm_sim_tp${i}_declined`,
        auto_rescue: { enabled: true },
      });
    });
    await sql`update attempts set planned_at = now() - interval '1 second' where status = 'planned'`.execute(b.rescue.db);
    const due = Number((await sql<{ n: number }>`select count(*)::int8 as n from attempts where status = 'planned'`.execute(b.rescue.db)).rows[0]!.n);
    const log = pino({ level: 'warn' });
    const worker = new Worker({
      db: b.rescue.db,
      clock: systemClock,
      gatewayFor: gatewayResolver(b.rescue.db, { httpTimeoutMs: 10_000, wallClock: systemClock, egress: egressFor(loadConfig({})) }),
      log,
      batchSize: batch,
      clockBatchSize: batch,
      pollMs: 1000,
      leaseMs: 60_000,
      webhooks: webhookDeliveryOptions(loadConfig({})),
    });
    const t0 = performance.now();
    while ((await worker.runOnce()) > 0) {
      // until nothing is due
    }
    const ms = performance.now() - t0;
    return { scenario, engine, due, ms };
  } finally {
    await b.close();
  }
}

export async function runWorkerThroughputBench(attempts: number, engines: Engine[]): Promise<string> {
  const results: Awaited<ReturnType<typeof throughputScenario>>[] = [];
  for (const engine of engines) {
    results.push(await throughputScenario('baseline (batch 1)', engine, Math.min(1000, attempts), 1));
    results.push(await throughputScenario('batch 200', engine, attempts, 200));
  }
  const perSec = (r: (typeof results)[number]): number => r.due / (r.ms / 1000);
  return table(
    results.map((r) => {
      const base = results.find((x) => x.engine === r.engine && x.scenario.startsWith('baseline'))!;
      return { scenario: r.scenario, engine: r.engine, 'attempts run': r.due, seconds: seconds(r.ms), 'attempts/s': perSec(r).toFixed(0), 'vs baseline': `${(perSec(r) / perSec(base)).toFixed(1)}×` };
    }),
  );
}
