import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIST } from '../../src/api/dashboard-static.ts';
import type { Db } from '../../src/store/db.ts';
import { ENGINES } from '../support/databases.ts';
import { describeRequest, fixedHostileRequests, requestArbitrary, send, stripeStyleProblem, type FuzzReply, type FuzzRequest, type FuzzWorld } from '../support/fuzz.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';

// Every route of the app, as Fastify registered it (so a new route cannot escape), gets the same
// fixed hostile requests and then seeded random ones (test/support/fuzz.ts): NUL and lone surrogates
// in paths, queries, bodies and keys; dates past any calendar; huge numbers; deep nesting; wrong
// types; bodies over the cap. No answer may be a 5xx; every JSON 4xx is a Stripe-style error; and a
// refused request writes nothing: each table's row count is the same before and after it.

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 5);

// Tables a refusal writes by design: a refused request's answer is kept under its Idempotency-Key
// (replayed, as Stripe does), and tries are counted for the throttles (sign-in lockout, invalid keys).
const WRITTEN_BY_REFUSALS = new Set(['idempotency_keys', 'dashboard_sign_in_failures', 'rate_limit_counters']);
// Refusals that are outcomes (a hand-off blocked by a hard decline was recorded, then refused).
const OUTCOME_CODES = ['recovery_blocked', 'recovery_duplicate'];

async function tablesOf(db: Db): Promise<string[]> {
  const rows = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  return rows.rows.map((r) => r.table_name).filter((t) => !WRITTEN_BY_REFUSALS.has(t) && !t.startsWith('kysely_') && !t.startsWith('schema_'));
}

async function rowCounts(db: Db, tables: string[]): Promise<Record<string, number>> {
  const select = tables.map((t) => `(select count(*) from "${t}")::int as "${t}"`).join(', ');
  const row = (await sql.raw<Record<string, number>>(`select ${select}`).execute(db)).rows[0]!;
  return row;
}

describe.each(ENGINES)('hostile input on every route (%s)', (engine) => {
  let t: TestRescue;
  let world: FuzzWorld;
  let tables: string[];
  const dashboardBuilt = existsSync(join(DASHBOARD_DIST, 'index.html'));

  beforeAll(async () => {
    // No worker: the database changes only through the requests under test. Gateways that do not
    // answer give up quickly, so a fuzzed http gateway URL costs little. No per-key limit: a run of
    // 429s would hide the routes behind them (throttles have their own tests).
    t = await startTestRescue({ engine, worker: false, env: { RESCUE_HTTP_GATEWAY_TIMEOUT_MS: '300', RESCUE_WEBHOOK_TIMEOUT_MS: '300', RESCUE_RATE_LIMIT_PER_KEY: '0' } });
    const account = await t.signup();
    const api = t.client(account.testKey);
    const customer = (await api.post('/v2/customers', { email: 'ada@example.com', name: 'Ada' })).body;
    const payment = (await api.post('/v2/payments', { amount: 4999, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', customer: customer.id, auto_rescue: { enabled: true } })).body;
    const clock = (await api.post('/v2/test_clocks', { frozen_time: 1774434600 })).body;
    const endpoint = (await api.post('/v2/webhook_endpoints', { url: 'https://example.com/hook', enabled_events: ['*'] })).body;
    const event = (await api.get('/v2/events?limit=1')).body.data[0];
    const hand = (await api.post('/api/recovery/execute', { paymentMethodToken: 'pm_card_chargeDeclinedInsufficientFunds', amount: 1000, currency: 'USD' })).body;
    world = { keys: { test: account.testKey, live: account.liveKey }, ids: [customer.id, payment.id, clock.id, endpoint.id, event?.id, hand.recoveryId].filter((x): x is string => typeof x === 'string') };
    expect(world.ids.length).toBeGreaterThanOrEqual(5);
    tables = await tablesOf(t.rescue.db);
  });
  afterAll(async () => {
    await t?.close();
  });

  // Row counts after the last request that could write; null when a read came between (reads are
  // not counted, and a write they made would then be seen by the next check, not blamed on it).
  let counts: Record<string, number> | null = null;

  /** Sends one request and states what must hold of the answer; returns a failure or null. */
  async function check(r: FuzzRequest): Promise<string | null> {
    const writes = r.method !== 'GET' && r.method !== 'HEAD';
    const before = writes ? (counts ?? (await rowCounts(t.rescue.db, tables))) : null;
    const reply: FuzzReply = await send(t.url, r);
    counts = writes ? await rowCounts(t.rescue.db, tables) : null;
    const fail = (why: string) => `${why}: ${reply.status} ${reply.text.slice(0, 300)}\n  for ${describeRequest(r)}`;
    const notBuilt = !dashboardBuilt && reply.status === 503 && r.path.startsWith('/dashboard/') && reply.text.includes('The dashboard is not built');
    if (reply.status >= 500 && !notBuilt) return fail('a server error');
    if (reply.status < 400) return null;
    // A HEAD answer has the status and headers of its GET, and no body to check.
    const style = r.method === 'HEAD' ? null : stripeStyleProblem(reply);
    if (style) return fail(`not a Stripe-style error (${style})`);
    const code = reply.contentType.startsWith('application/json') && r.method !== 'HEAD' ? JSON.parse(reply.text).error?.code : null;
    if (!before || !counts || OUTCOME_CODES.includes(code)) return null;
    const after = counts;
    const changed = tables.filter((tb) => before[tb] !== after[tb]);
    if (changed.length) return fail(`a refused request wrote rows (${changed.map((tb) => `${tb} ${before[tb]}→${after[tb]}`).join(', ')})`);
    return null;
  }

  it('enumerates the routes from Fastify, and every one survives the fixed hostile requests and seeded random ones', async () => {
    const routes = t.rescue.routes;
    // Every route declared with defineRoute is in Fastify's table, and so are those that are not.
    expect(routes.length).toBeGreaterThan(60);
    for (const r of ['POST /v2/payments', 'GET /v2/payments/:id', 'POST /update-payment/:token', 'POST /api/stripe/webhook', 'POST /dashboard/api/session', 'GET /dashboard/*', 'HEAD /v2/customers']) {
      expect(routes.map((x) => `${x.method} ${x.url}`)).toContain(r);
    }
    const failures: string[] = [];
    let sent = 0;
    for (const route of routes) {
      for (const r of fixedHostileRequests(route, world)) {
        sent++;
        const failure = await check(r);
        if (failure) failures.push(failure);
      }
      // HEAD runs its GET's handler: the fixed requests are enough for it.
      if (route.method === 'HEAD') continue;
      // Seeded: a failure names the seed and the shrunk request; FUZZ_SEED replays it.
      const result = await fc.check(
        fc.asyncProperty(requestArbitrary(route, world), async (r) => {
          sent++;
          const failure = await check(r);
          if (failure) throw new Error(failure);
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
      if (result.failed) failures.push(`${route.method} ${route.url} (seed ${SEED}): ${String((result.errorInstance as Error)?.message ?? result.errorInstance)}`);
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
    expect(sent).toBeGreaterThan(routes.filter((r) => r.method !== 'HEAD').length * RUNS_PER_ROUTE);
  }, 120_000);
});
