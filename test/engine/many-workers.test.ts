import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

// DESIGN.md invariant 2 under contention: several `rescue worker` processes on one Postgres claim
// due attempts with FOR UPDATE SKIP LOCKED; every attempt runs exactly once. Triggers added to this
// test's own database log every claim and every call into the sandbox network's ledger, so a
// second run of an attempt shows up even though the ledger itself would dedupe it.

const PAYMENTS = 200;
const WORKERS = 3;

async function inParallel<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

describe('many workers on one Postgres (postgres)', () => {
  let t: TestRescue;
  let api: Client;
  let db: pg.Client;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    t = await startTestRescue({ engine: 'postgres', worker: false });
    db = new pg.Client({ connectionString: t.databaseUrl! });
    await db.connect();
    await db.query(`
      create table test_charge_calls (idempotency_key text not null, called_at timestamptz not null default clock_timestamp());
      create function test_log_charge() returns trigger language plpgsql as $$
        begin insert into test_charge_calls (idempotency_key) values (new.idempotency_key); return new; end $$;
      -- BEFORE ROW triggers fire for every row offered, including those ON CONFLICT DO NOTHING drops.
      create trigger test_log_charge before insert on sandbox_charges for each row execute function test_log_charge();

      create table test_attempt_claims (attempt_id text not null, claimed_by text, claimed_at timestamptz not null default clock_timestamp());
      create function test_log_claim() returns trigger language plpgsql as $$
        begin insert into test_attempt_claims (attempt_id, claimed_by) values (new.id, new.claimed_by); return new; end $$;
      -- A claim is any update that hands an attempt to a worker: planned → processing, or a
      -- processing attempt taken over by another worker (which would also run it).
      create trigger test_log_claim after update on attempts for each row
        when (new.status = 'processing' and (old.status <> 'processing' or old.claimed_by is distinct from new.claimed_by))
        execute function test_log_claim();
    `);
    api = t.client((await t.signup()).testKey);
  });

  afterAll(async () => {
    for (const w of workers) await w.kill();
    await db?.end();
    await t?.close();
  });

  it(`${WORKERS} worker processes run ${PAYMENTS} due retries, each exactly once`, async () => {
    // Failing payments on distinct simulated cards (so no card network limit holds a retry back).
    const created = await inParallel(PAYMENTS, 8, async (i) => {
      const res = await api.post('/v2/payments', {
        amount: 1000 + i,
        currency: 'USD',
        payment_method: `pm_sim_mw${i}_declined`,
        off_session: true,
        auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 },
        metadata: { subscription_id: `sub_${i}` },
      });
      expect(res.status).toBe(201);
      return res.body;
    });
    const inRescue = created.filter((p) => p.status === 'requires_rescue');
    expect(inRescue.length).toBeGreaterThan(PAYMENTS / 2);

    const env = { RESCUE_WORKER_BATCH: '5', RESCUE_WORKER_POLL_MS: '20' };
    for (let i = 0; i < WORKERS; i++) workers.push(spawnWorker(t.databaseUrl!, env));
    const workerIds = await Promise.all(workers.map((w) => w.id));

    // Test-only time travel: every planned retry is due now, with all workers already polling.
    const due = await db.query(`update attempts set planned_at = now() where status = 'planned' returning id`);
    expect(due.rowCount).toBe(inRescue.length);
    const dueIds = due.rows.map((r) => r.id as string);

    const started = performance.now();
    await eventually(async () => {
      const { rows } = await db.query(`select count(*)::int as n from attempts where status = 'processing' or (status = 'planned' and planned_at <= now())`);
      return rows[0].n === 0 ? true : undefined;
    }, 20_000);
    const seconds = (performance.now() - started) / 1000;
    console.log(`${WORKERS} workers ran ${dueIds.length} due attempts in ${seconds.toFixed(2)} s`);

    // Every due attempt was claimed exactly once, ran, and finished.
    const claims = (await db.query(`select attempt_id, claimed_by from test_attempt_claims`)).rows;
    const claimsPer = new Map<string, number>();
    for (const c of claims) claimsPer.set(c.attempt_id, (claimsPer.get(c.attempt_id) ?? 0) + 1);
    expect([...claimsPer.values()].every((n) => n === 1)).toBe(true);
    expect([...claimsPer.keys()].sort()).toEqual([...dueIds].sort());
    const ran = (await db.query(`select id, status, attempted_at, claimed_by, idempotency_key from attempts where id = any($1)`, [dueIds])).rows;
    expect(ran).toHaveLength(dueIds.length);
    expect(ran.every((a) => (a.status === 'succeeded' || a.status === 'failed') && a.attempted_at instanceof Date)).toBe(true);
    expect(ran.every((a) => workerIds.includes(a.claimed_by))).toBe(true);
    // The work was really shared.
    expect(new Set(ran.map((a) => a.claimed_by)).size).toBeGreaterThanOrEqual(2);

    // Across all attempts (first attempts run by the API included): keys are unique, and the card
    // network was called once per executed attempt and holds exactly one charge per key.
    const executed = (await db.query(`select id, idempotency_key, attempted_at from attempts where attempted_at is not null`)).rows;
    expect(executed.length).toBe(PAYMENTS + dueIds.length);
    const dupKeys = await db.query(`select idempotency_key from attempts group by account_id, idempotency_key having count(*) > 1`);
    expect(dupKeys.rows).toEqual([]);
    const calls = (await db.query(`select idempotency_key, count(*)::int as n from test_charge_calls group by idempotency_key`)).rows;
    expect(calls.every((c) => c.n === 1)).toBe(true);
    const charges = (await db.query(`select idempotency_key, created_at from sandbox_charges`)).rows;
    expect(charges.length).toBe(executed.length);
    expect(calls.length).toBe(executed.length);
    const chargeAt = new Map(charges.map((c) => [c.idempotency_key as string, (c.created_at as Date).getTime()]));
    expect(executed.every((a) => chargeAt.get(a.idempotency_key) === (a.attempted_at as Date).getTime())).toBe(true);

    // Payment by payment: at most one approved attempt, and succeeded exactly when there is one.
    const perPayment = (
      await db.query(`
        select p.id, p.status, count(*) filter (where a.status = 'succeeded')::int as won,
               count(*) filter (where a.status = 'processing')::int as running
        from payments p join attempts a on a.payment_id = p.id group by p.id, p.status`)
    ).rows;
    expect(perPayment).toHaveLength(PAYMENTS);
    for (const p of perPayment) {
      expect(p.won).toBeLessThanOrEqual(1);
      expect(p.running).toBe(0);
      expect(p.status === 'succeeded').toBe(p.won === 1);
    }
    expect(perPayment.some((p) => p.won === 1)).toBe(true);
  });
});
