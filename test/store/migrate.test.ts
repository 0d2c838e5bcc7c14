import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.ts';
import { ENGINES } from '../support/databases.ts';
import { openEmptyDb, type StoreDb } from '../support/fixtures.ts';

const MIGRATIONS = readdirSync(join(import.meta.dirname, '../../src/store/migrations'))
  .filter((f) => f.endsWith('.sql'))
  .sort();

// The tables the store's queries rely on; later migrations may add more.
const TABLES = ['accounts', 'api_keys', 'account_settings', 'test_clocks', 'customers', 'payments', 'rescues', 'attempts', 'idempotency_keys', 'sandbox_charges', 'card_leases', 'events', 'webhook_endpoints', 'webhook_deliveries', 'recoveries', 'rescue_payment_methods', 'pulses', 'models', 'payment_method_risk', 'stripe_connections', 'stripe_events', 'stripe_customers', 'stripe_invoices', 'stripe_charges', 'stripe_subscriptions', 'stripe_card_updates', 'stripe_backfills', 'stripe_payment_intents', 'dashboard_sessions', 'rate_limit_counters', 'emails', 'instance_secrets', 'payment_method_updates'];

async function tables(s: StoreDb): Promise<string[]> {
  const rows = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(s.db);
  return rows.rows.map((r) => r.table_name);
}

describe.each(ENGINES)('migrate (%s)', (engine) => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openEmptyDb(engine);
  });
  afterAll(() => s.close());

  it('applies every migration to an empty database, then nothing on a second run', async () => {
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    expect(await tables(s)).toEqual([]);

    const first = await migrate(s.db);
    expect(first).toEqual(MIGRATIONS);
    const created = await tables(s);
    expect(created).toEqual(expect.arrayContaining([...TABLES, 'schema_migrations']));

    const recorded = await s.db
      .selectFrom('schema_migrations' as never)
      .select(['version' as never, 'applied_at' as never])
      .orderBy('version' as never)
      .execute();
    expect(recorded.map((r: any) => r.version)).toEqual(MIGRATIONS);
    for (const r of recorded as any[]) expect(r.applied_at).toBeInstanceOf(Date);

    const second = await migrate(s.db);
    expect(second).toEqual([]);
    const after = await sql<{ n: number }>`select count(*)::int as n from schema_migrations`.execute(s.db);
    expect(after.rows[0]!.n).toBe(MIGRATIONS.length);
    expect(await tables(s)).toEqual(created);
  });

  it('releases its advisory lock when done', async () => {
    await migrate(s.db);
    // pg_locks is server-wide: count only this database's advisory locks (other suites share the server).
    const locks = await sql<{ n: number }>`
      select count(*)::int as n from pg_locks
      where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`.execute(s.db);
    expect(locks.rows[0]!.n).toBe(0);
    // And another pool (another process) can take the same lock path without waiting.
    const other = await s.another();
    expect(await migrate(other)).toEqual([]);
  });
});

describe('migrate concurrently (postgres)', () => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openEmptyDb('postgres');
  });
  afterAll(() => s.close());

  it('two processes migrating the same empty database at once both succeed and apply each file once', async () => {
    // Two pools, as an `api` and a `worker` process starting together would have.
    const other = await s.another();
    const third = await s.another();
    const results = await Promise.all([migrate(s.db), migrate(other), migrate(third)]);
    // Exactly one of them applied the migrations; the others found them done.
    expect(results.flat().sort()).toEqual(MIGRATIONS);
    expect(results.filter((r) => r.length > 0)).toHaveLength(1);
    const recorded = await sql<{ version: string }>`select version from schema_migrations order by version`.execute(s.db);
    expect(recorded.rows.map((r) => r.version)).toEqual(MIGRATIONS);
    expect(await tables(s)).toContain('attempts');
  });
});
