import { sql } from 'kysely';
import { generatePopulation } from '../src/gateways/sandbox/population.ts';
import { benchRescue, inLanes, seconds, table, type Engine } from './support.ts';

// How long a test clock takes to advance 30 days over N rescues (the path backtests and the
// recovery benchmark use). Baseline: the same engine running one attempt per transaction
// (RESCUE_CLOCK_BATCH=1), as a naive worker would; compared per attempt.

const DAY = 86_400_000;
const TIMEZONES = ['America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Asia/Tokyo'];

export interface AdvanceResult {
  scenario: string;
  engine: Engine;
  rescues: number;
  retries: number;
  recovered: number;
  advanceMs: number;
}

export async function advanceScenario(scenario: string, engine: Engine, rescues: number, clockBatch: number): Promise<AdvanceResult> {
  const b = await benchRescue(engine, { RESCUE_CLOCK_BATCH: String(clockBatch) }, { worker: true });
  try {
    const start = new Date('2026-03-25T10:30:00Z');
    const clock = await b.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000, name: scenario });
    const customers: string[] = [];
    for (const tz of TIMEZONES) customers.push((await b.post('/v2/customers', { timezone: tz, test_clock: clock.id })).id);
    const tokens = generatePopulation(rescues, `bench${rescues}`, { declined: true });
    await inLanes(tokens, 8, async (token, i) => {
      await b.post('/v2/payments', {
        amount: 1000 + (i % 50) * 100,
        currency: 'USD',
        customer: customers[i % customers.length],
        payment_method: token,
        off_session: true,
        auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 21 },
        metadata: { subscription_id: `sub_${i}` },
      });
    });
    const t0 = performance.now();
    await b.post(`/v2/test_clocks/${clock.id}/advance`, { frozen_time: (start.getTime() + 30 * DAY) / 1000 });
    for (;;) {
      const c = await b.get(`/v2/test_clocks/${clock.id}`);
      if (c.status === 'ready') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const advanceMs = performance.now() - t0;
    const counts = await sql<{ retries: number; recovered: number }>`
      select (select count(*) from attempts where number > 1 and status in ('succeeded', 'failed'))::int8 as retries,
             (select count(*) from rescues where status = 'recovered')::int8 as recovered`.execute(b.rescue.db);
    const row = counts.rows[0]!;
    return { scenario, engine, rescues, retries: row.retries, recovered: row.recovered, advanceMs };
  } finally {
    await b.close();
  }
}

export function advanceRows(results: AdvanceResult[]) {
  const baseline = results.find((r) => r.scenario === 'baseline');
  const perSec = (r: AdvanceResult) => r.retries / (r.advanceMs / 1000);
  return results.map((r) => ({
    scenario: r.scenario,
    engine: r.engine,
    rescues: r.rescues,
    'retries run': r.retries,
    recovered: `${((100 * r.recovered) / r.rescues).toFixed(1)}%`,
    'advance 30 d (s)': seconds(r.advanceMs),
    'retries/s': perSec(r).toFixed(0),
    'vs baseline': baseline ? `${(perSec(r) / perSec(baseline)).toFixed(1)}×` : '-',
  }));
}

export async function runClockAdvanceBench(rescues: number, engines: Engine[]): Promise<string> {
  const results: AdvanceResult[] = [];
  for (const engine of engines) {
    results.push(await advanceScenario('baseline', engine, Math.min(1000, rescues), 1));
    results.push(await advanceScenario('batched', engine, rescues, 2000));
  }
  return table(advanceRows(results));
}
