import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../support/databases.ts';
import { eventually, request } from '../support/harness.ts';
import { startMerchant, type ChargeCall, type Merchant } from '../support/merchant.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { spawnRescue, spawnWorker, type WorkerProcess } from '../support/workers.ts';

// The chaos run (issue 11): three `rescue worker` processes and a `rescue api` process on one
// Postgres run 200 rescues on test clocks through the merchant's own signed gateway (a real HTTP
// server that charges at most once per Idempotency-Key and records every call), while workers are
// SIGKILLed at seeded moments — counted in charge calls, not in time — and restarted, and the API
// is SIGKILLed and restarted once, between the clocks' advances. Afterwards: no charge under a key
// that is not its attempt's own (so no charge twice), every rescue finished in a state its charges
// explain, and every event delivered to a real webhook receiver at least once.

const SEED = 11;
const PAYMENTS = 200;
const CLOCKS = 4;
const WORKERS = 3;
const KILLS = 6;
const DAY = 86_400;
const T0 = 1_780_000_000; // 2026-05-28, a test clock's start

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The merchant's bank decides by payment and retry, the same however often it is asked. */
function approves(payment: string, retry: number): boolean {
  let h = 2166136261 ^ SEED;
  for (const ch of `${payment}:${retry}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return retry > 0 && ((h >>> 0) % 100) < 30;
}

const keyOf = (c: ChargeCall) => String(c.headers['idempotency-key']);

describe(`chaos: ${WORKERS} workers, ${PAYMENTS} rescues on test clocks, ${KILLS} worker SIGKILLs and an API restart (postgres)`, () => {
  let pgdb: { url: string; drop: () => Promise<void> };
  let db: pg.Client;
  let merchant: Merchant;
  let receiver: Receiver;
  const processes: WorkerProcess[] = [];

  beforeAll(async () => {
    pgdb = await createPostgresDatabase();
    db = new pg.Client({ connectionString: pgdb.url });
    await db.connect();
    merchant = await startMerchant((call) => {
      const ok = approves(call.body.payment, call.body.retry_number);
      const charge = ok ? ({ status: 'succeeded', transaction_id: `txn_${call.body.attempt_id}` } as const) : ({ status: 'failed', decline_code: 'insufficient_funds' } as const);
      // Retries take a moment to answer, so kills land on charges in flight.
      return call.body.retry_number > 0 ? { charge, deliver: { delayMs: 10 } } : { charge };
    });
    receiver = await startReceiver();
  });

  afterAll(async () => {
    for (const p of processes) await p.kill();
    await db?.end();
    await merchant?.close();
    await receiver?.close();
    await pgdb?.drop();
  });

  it('no key charged twice, every rescue in a correct state, every event delivered at least once', async () => {
    const random = prng(SEED);
    const started = performance.now();
    let api = spawnRescue('api', pgdb.url, { LOG_LEVEL: 'warn' });
    processes.push(api);
    const base = (await api.up).url!.replace(/\/$/, '');
    const port = new URL(base).port;
    const signup = await request(base, 'POST', '/signup', undefined, { email: 'chaos@example.com', password: 'correct horse battery', business_name: 'Chaos' });
    expect(signup.status).toBe(201);
    const key: string = signup.body.api_keys.test;
    const accountId: string = signup.body.account.id;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await request(base, method, path, key, body);
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    await call('POST', '/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret });
    const endpoint = await call('POST', '/v2/webhook_endpoints', { url: receiver.url('/hooks'), enabled_events: ['*'] });
    receiver.secrets('/hooks', [endpoint.secret]);

    // 200 payments on 4 test clocks; each first charge (run by the API) is declined: 200 rescues.
    const clocks: string[] = [];
    for (let c = 0; c < CLOCKS; c++) clocks.push((await call('POST', '/v2/test_clocks', { frozen_time: T0, name: `chaos ${c}` })).id);
    // One customer per clock (a payment lives on its customer's clock), each payment on its own card.
    const customers: string[] = [];
    for (let c = 0; c < CLOCKS; c++) customers.push((await call('POST', '/v2/customers', { email: `c${c}@example.com`, name: `Customer ${c}`, timezone: 'UTC', test_clock: clocks[c] })).id);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < PAYMENTS) {
          const i = next++;
          const payment = await call('POST', '/v2/payments', {
            amount: 1000 + i,
            currency: 'USD',
            customer: customers[i % CLOCKS],
            payment_method: `pm_chaos_${i}`,
            off_session: true,
            auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 },
            metadata: { subscription_id: `sub_${i}` },
          });
          // `processing`: the merchant's answer was lost on the way (a reset keep-alive connection on
          // a loaded machine); the attempt is asked again under its key as the clock advances.
          expect(['requires_rescue', 'processing'], JSON.stringify(payment)).toContain(payment.status);
        }
      }),
    );

    const env = { LOG_LEVEL: 'warn', RESCUE_ATTEMPT_LEASE_SECONDS: '2', RESCUE_WEBHOOK_TIMEOUT_MS: '1000', RESCUE_WORKER_BATCH: '10', RESCUE_CLOCK_BATCH: '10', RESCUE_WORKER_POLL_MS: '50' };
    const workers: WorkerProcess[] = [];
    const startWorker = (slot: number) => {
      const w = spawnWorker(pgdb.url, env);
      processes.push(w);
      workers[slot] = w;
      return w.id;
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => startWorker(i)));
    console.log(`chaos: ${PAYMENTS} payments created and workers up after ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // The chaos: workers SIGKILLed at seeded moments counted in retry calls (each payment gets at
    // least one retry, so every moment below comes), each replaced at once by a new process.
    const retryCalls = () => merchant.calls.filter((c) => c.body?.retry_number > 0).length;
    // Spaced by 10–30 retry calls, so each kill meets work that its predecessor's replacement took up.
    const killAt: number[] = [];
    for (let i = 0, at = 5; i < KILLS; i++, at += 10 + Math.floor(random() * 20)) killAt.push(at);
    expect(killAt[KILLS - 1]).toBeLessThan(PAYMENTS);
    const reached = (n: number) => eventually(async () => (retryCalls() >= n ? true : undefined), 60_000);
    const kills: { at: number; worker: number }[] = [];
    const chaos = (async () => {
      for (const at of killAt) {
        await reached(at);
        const slot = Math.floor(random() * WORKERS);
        await workers[slot]!.kill();
        kills.push({ at: retryCalls(), worker: slot });
        // Not awaited: the next kill may hit it while it is still starting, as chaos may.
        void startWorker(slot).catch(() => {});
      }
    })();

    // The clocks move in two steps; between them the API is SIGKILLed and restarted on its port, and
    // the second step is asked of the new process.
    const advanceAll = async (to: number) => {
      for (const id of clocks) await call('POST', `/v2/test_clocks/${id}/advance`, { frozen_time: to });
      await eventually(async () => {
        const { rows } = await db.query(`select count(*)::int as n from test_clocks where status <> 'ready' or frozen_time <> to_timestamp($1)`, [to]);
        return rows[0].n === 0 ? true : undefined;
      }, 90_000);
    };
    await advanceAll(T0 + 9 * DAY);
    const apiRestartAt = retryCalls();
    console.log(`chaos: first step done after ${((performance.now() - started) / 1000).toFixed(1)} s, ${apiRestartAt} retry calls, kills so far at ${kills.map((k) => k.at).join(', ')}`);
    await api.kill();
    api = spawnRescue('api', pgdb.url, { LOG_LEVEL: 'warn', PORT: port });
    processes.push(api);
    expect((await api.up).url!.replace(/\/$/, '')).toBe(base);
    await advanceAll(T0 + 30 * DAY);
    await chaos;
    expect(kills).toHaveLength(KILLS);

    // Done: every clock at its target and ready, nothing in flight, every webhook delivered.
    await eventually(async () => {
      const { rows } = await db.query(`
        select (select count(*)::int from test_clocks where status <> 'ready' or frozen_time <> to_timestamp($1)) as clocks,
               (select count(*)::int from attempts where status in ('processing', 'planned')) as attempts,
               (select count(*)::int from webhook_deliveries where status <> 'succeeded') as deliveries`, [T0 + 30 * DAY]);
      return rows[0].clocks === 0 && rows[0].attempts === 0 && rows[0].deliveries === 0 ? true : undefined;
    }, 90_000).catch(async (err) => {
      const { rows } = await db.query(`select status, count(*)::int from attempts group by status`);
      const stuck = await db.query(`select a.id, a.status, a.number, a.planned_at, a.attempted_at, a.gateway_errors, a.claimed_by, a.lease_expires_at, c.status as clock_status, c.frozen_time
        from attempts a join test_clocks c on c.id = a.test_clock where a.status in ('planned', 'processing') limit 5`);
      throw new Error(`${(err as Error).message}: attempts ${JSON.stringify(rows)}; left: ${JSON.stringify(stuck.rows)}`);
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(`chaos: ${PAYMENTS} rescues, ${merchant.calls.length} charge calls, ${kills.length} worker kills at retry calls ${kills.map((k) => k.at).join(', ')}, API restarted at ${apiRestartAt}, ${receiver.deliveries.length} webhook requests, ${seconds.toFixed(1)} s`);

    // 1. No key charged twice: every call for an attempt carries that attempt's one key, and every
    //    charge in the merchant's ledger is an executed attempt's, with the outcome Rescue recorded.
    const attempts = (await db.query(`select id, payment_id, number, status, idempotency_key from attempts where account_id = $1`, [accountId])).rows;
    const byKey = new Map(attempts.map((a) => [a.idempotency_key as string, a]));
    expect(byKey.size).toBe(attempts.length);
    const keysOfAttempt = new Map<string, Set<string>>();
    for (const c of merchant.calls) {
      expect(c.signatureError).toBeNull();
      const set = keysOfAttempt.get(c.body.attempt_id) ?? new Set<string>();
      set.add(keyOf(c));
      keysOfAttempt.set(c.body.attempt_id, set);
      expect(byKey.get(keyOf(c))?.id).toBe(c.body.attempt_id);
    }
    expect([...keysOfAttempt.values()].every((keys) => keys.size === 1)).toBe(true);
    for (const [k, answer] of merchant.ledger) expect(byKey.get(k)?.status).toBe(answer.status);
    const executed = attempts.filter((a) => a.status === 'succeeded' || a.status === 'failed');
    expect(executed.every((a) => merchant.ledger.has(a.idempotency_key))).toBe(true);
    expect(merchant.ledger.size).toBe(executed.length);
    const replays = merchant.calls.filter((c) => c.replayed).length;

    // 2. Every rescue finished, in the state its charges explain.
    const rescues = (
      await db.query(
        `select p.id, p.status, r.status as rescue_status, r.retries_made,
                count(a.*) filter (where a.status = 'succeeded')::int as won,
                count(a.*) filter (where a.number > 1 and a.status in ('succeeded', 'failed'))::int as retries
         from payments p join rescues r on r.payment_id = p.id and r.account_id = p.account_id
         join attempts a on a.payment_id = p.id and a.account_id = p.account_id
         where p.account_id = $1 group by p.id, p.status, r.status, r.retries_made`,
        [accountId],
      )
    ).rows;
    expect(rescues).toHaveLength(PAYMENTS);
    for (const r of rescues) {
      const charged = [...merchant.ledger].filter(([k, a]) => byKey.get(k)!.payment_id === r.id && a.status === 'succeeded');
      expect(r.won).toBe(charged.length);
      expect(r.won).toBeLessThanOrEqual(1);
      expect(r.status).toBe(r.won === 1 ? 'succeeded' : 'failed');
      expect(r.rescue_status).toBe(r.won === 1 ? 'recovered' : 'exhausted');
      expect(r.retries_made).toBe(r.retries);
    }
    expect(rescues.some((r) => r.status === 'succeeded') && rescues.some((r) => r.status === 'failed')).toBe(true);

    // 3. Every event since the endpoint was created reached the receiver, signed, at least once.
    const events = (await db.query(`select id from events where account_id = $1 and livemode = false`, [accountId])).rows.map((e) => e.id as string);
    expect(events.length).toBeGreaterThan(PAYMENTS * 2);
    const delivered = new Set(receiver.at('/hooks').filter((d) => d.verifiedBy.length > 0 && d.answered === 200).map((d) => String(d.headers['webhook-id'])));
    expect(events.filter((id) => !delivered.has(id))).toEqual([]);
    console.log(`chaos: ${replays} charge calls answered from the merchant's ledger (reconciled under their keys), ${receiver.deliveries.length - delivered.size} webhook duplicates`);
  }, 180_000);
});
