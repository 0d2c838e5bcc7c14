import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startTestRescue } from '../support/harness.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

// DESIGN.md invariant 1 across processes: three workers draining 60 due retries that all charge ONE
// Visa card must together stay within Visa's 20 merchant-initiated reattempts per card in 30 days.
describe('per-card network limits hold across workers', () => {
  const workers: WorkerProcess[] = [];
  let cleanup: () => Promise<void> = async () => {};
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await cleanup();
  });

  it('60 due retries on one Visa card, 3 workers: at most 20 reattempts, the rest wait or end', async () => {
    const t = await startTestRescue({ engine: 'postgres', worker: false });
    const db = new pg.Client({ connectionString: t.databaseUrl! });
    await db.connect();
    cleanup = async () => {
      await db.end();
      await t.close();
    };
    const api = t.client((await t.signup()).testKey);
    for (let i = 0; i < 60; i++) {
      const r = await api.post('/v2/payments', { amount: 1000 + i, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true } });
      expect(r.body.status).toBe('requires_rescue');
    }
    for (let i = 0; i < 3; i++) workers.push(spawnWorker(t.databaseUrl!, { RESCUE_WORKER_BATCH: '5', RESCUE_WORKER_POLL_MS: '20' }));
    await Promise.all(workers.map((w) => w.id));
    await db.query(`update attempts set planned_at = now() where status = 'planned'`);
    await eventually(async () => {
      const { rows } = await db.query(`select count(*)::int as n from attempts where status = 'processing' or (status = 'planned' and planned_at <= now())`);
      return rows[0].n === 0 ? true : undefined;
    }, 20_000);
    const { rows } = await db.query(`
      select count(*) filter (where number > 1 and attempted_at is not null)::int as reattempts,
             count(distinct claimed_by) filter (where number > 1 and attempted_at is not null)::int as workers,
             (select count(*) from rescues where end_reason = 'network_rule')::int as blocked
      from attempts`);
    expect(rows[0].reattempts).toBe(20);
    expect(rows[0].workers).toBeGreaterThanOrEqual(2);
    // The card's next allowed reattempt is 30 days out, past these rescues' 14-day windows: the
    // other 40 rescues end on the network rule instead of charging.
    expect(rows[0].blocked).toBe(40);
  });
});
