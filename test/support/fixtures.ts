import { sql, type Insertable } from 'kysely';
import pg from 'pg';
import { newId } from '../../src/ids.ts';
import { insertCustomer } from '../../src/store/customers.ts';
import { openDb, type Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { insertPayments, type Scope } from '../../src/store/payments.ts';
import type { AttemptRow, AttemptsTable, CustomerRow, PaymentRow, PaymentsTable, RescuesTable, TestClockRow } from '../../src/store/schema.ts';
import { createTestClock } from '../../src/store/test-clocks.ts';
import { POSTGRES_ADMIN_URL, createPostgresDatabase, type Engine } from './databases.ts';

// Store-level fixtures: a migrated database on either engine, and rows built directly through the
// store functions (no API, no engine), so store tests control every column they assert on.

export const T0 = new Date('2026-03-01T12:00:00Z');
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export const at = (ms: number) => new Date(T0.getTime() + ms);

export interface StoreDb {
  engine: Engine;
  db: Db;
  /** Postgres only: a connection string, to open more pools (other "processes") on the same database. */
  url: string | null;
  /** Opens another pool on the same database (Postgres), or returns the same Db (PGlite is one connection). */
  another(): Promise<Db>;
  close(): Promise<void>;
}

/** A fresh database on the engine: PGlite in memory or a new Postgres database. */
export async function openEmptyDb(engine: Engine): Promise<StoreDb> {
  if (engine === 'pglite') {
    const db = await openDb({ kind: 'pglite', dataDir: null });
    return { engine, db, url: null, another: async () => db, close: () => db.destroy() };
  }
  const pgdb = await createPostgresDatabase();
  const db = await openDb({ kind: 'postgres', url: pgdb.url });
  const extra: Db[] = [];
  return {
    engine,
    db,
    url: pgdb.url,
    async another() {
      const d = await openDb({ kind: 'postgres', url: pgdb.url });
      extra.push(d);
      return d;
    },
    async close() {
      for (const d of extra) await d.destroy();
      await db.destroy();
      await waitForDisconnect(pgdb.url);
      await pgdb.drop();
    },
  };
}

/**
 * pg's Pool.end() resolves before its sockets have closed; dropping the database `with (force)` at
 * that moment kills the closing backends and the pool surfaces an unhandled FATAL 57P01. Wait until
 * the server has no session on the database left.
 */
async function waitForDisconnect(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const r = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
      if (r.rows[0]!.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await admin.end();
  }
}

/** A fresh, migrated database. */
export async function openStoreDb(engine: Engine): Promise<StoreDb> {
  const s = await openEmptyDb(engine);
  await migrate(s.db);
  return s;
}

let emailSeq = 0;

/** An account row inserted directly (no scrypt), for tests that only need a tenant to exist. */
export async function makeAccount(db: Db, o: { email?: string; businessName?: string } = {}): Promise<{ id: string; test: Scope; live: Scope }> {
  const id = newId('acct');
  await db
    .insertInto('accounts')
    .values({
      id,
      email: o.email ?? `fixture${++emailSeq}-${id.slice(-8).toLowerCase()}@example.com`,
      password_hash: 'scrypt$fixture$fixture',
      business_name: o.businessName ?? 'Fixture Co',
      created_at: T0,
    })
    .execute();
  return { id, test: { accountId: id, livemode: false }, live: { accountId: id, livemode: true } };
}

export async function makeCustomer(db: Db, scope: Scope, o: { testClock?: string | null; email?: string } = {}): Promise<CustomerRow> {
  return insertCustomer(db, scope, {
    email: o.email ?? 'ada@example.com',
    name: 'Ada',
    timezone: 'America/New_York',
    locale: 'en',
    metadata: { source: 'fixture' },
    testClock: o.testClock ?? null,
    createdAt: T0,
  });
}

export async function makeClock(db: Db, accountId: string, frozenTime: Date = T0): Promise<TestClockRow> {
  return createTestClock(db, accountId, { frozenTime, name: 'fixture', now: T0 });
}

export function paymentValues(scope: Scope, o: Partial<Insertable<PaymentsTable>> = {}): Insertable<PaymentsTable> {
  return {
    id: newId('pay'),
    account_id: scope.accountId,
    livemode: scope.livemode,
    customer_id: null,
    payment_method: 'pm_card_visa',
    amount: 4999,
    currency: 'USD',
    off_session: true,
    status: 'requires_rescue',
    failure_code: 'insufficient_funds',
    failure_message: 'The card has insufficient funds.',
    metadata: JSON.stringify({}),
    test_clock: null,
    idempotency_key: null,
    rescue_policy: null,
    created_at: T0,
    updated_at: T0,
    ...o,
  };
}

export function attemptValues(
  payment: { id: string; account_id: string; livemode: boolean; test_clock: string | null },
  o: Partial<Insertable<AttemptsTable>> = {},
): Insertable<AttemptsTable> {
  const id = o.id ?? newId('att');
  return {
    id,
    account_id: payment.account_id,
    livemode: payment.livemode,
    payment_id: payment.id,
    number: 1,
    status: 'planned',
    planned_at: T0,
    claimed_by: null,
    lease_expires_at: null,
    attempted_at: null,
    idempotency_key: `rescue_${id}`,
    decline_code: null,
    decline_category: null,
    advice_code: null,
    failure_message: null,
    transaction_id: null,
    card_fingerprint: 'fp_fixture',
    card_brand: 'visa',
    test_clock: payment.test_clock,
    predicted_p: null,
    ...o,
  };
}

export function rescueValues(payment: { id: string; account_id: string }, o: Partial<Insertable<RescuesTable>> = {}): Insertable<RescuesTable> {
  return {
    payment_id: payment.id,
    account_id: payment.account_id,
    status: 'active',
    max_retries: 4,
    retry_window_days: 14,
    window_ends_at: at(14 * DAY),
    retry_schedule: 'automatic',
    custom_schedule_days: null,
    notify_customer: false,
    check_account_updater: false,
    schedule: JSON.stringify([]),
    end_reason: null,
    started_at: T0,
    ended_at: null,
    ...o,
  };
}

export interface PaymentFixture {
  payment: PaymentRow;
  attempts: AttemptRow[];
}

/**
 * A payment with its first attempt (failed, unless `first` says otherwise) and, when `retries` is
 * given, retries numbered 2, 3… (planned at T0 unless overridden). Optionally with an active rescue row.
 */
export async function makePayment(
  db: Db,
  scope: Scope,
  o: {
    payment?: Partial<Insertable<PaymentsTable>>;
    first?: Partial<Insertable<AttemptsTable>>;
    retries?: Array<Partial<Insertable<AttemptsTable>>>;
    rescue?: boolean;
  } = {},
): Promise<PaymentFixture> {
  const values = paymentValues(scope, o.payment);
  const shape = { id: values.id, account_id: values.account_id, livemode: values.livemode, test_clock: values.test_clock ?? null };
  const [first] = await insertPayments(db, [{
    payment: values,
    firstAttempt: attemptValues(shape, { status: 'failed', attempted_at: T0, decline_code: 'insufficient_funds', decline_category: 'soft', ...o.first }),
  }]);
  const attempts = [first!];
  let number = 2;
  for (const r of o.retries ?? []) {
    attempts.push(await db.insertInto('attempts').values(attemptValues(shape, { number: number++, ...r })).returningAll().executeTakeFirstOrThrow());
  }
  if (o.rescue) await db.insertInto('rescues').values(rescueValues(shape)).execute();
  const payment = await db.selectFrom('payments').selectAll().where('id', '=', values.id).executeTakeFirstOrThrow();
  return { payment, attempts };
}

/**
 * Many payments in rescue at once, each with its failed first attempt and one retry (number 2) built
 * from `retry(i)`, inserted in a few set-based statements. Returns the retries, in order.
 */
export async function makeDueRetries(
  db: Db,
  scope: Scope,
  count: number,
  retry: (i: number) => Partial<Insertable<AttemptsTable>>,
  o: { testClock?: string | null } = {},
): Promise<AttemptRow[]> {
  const payments = Array.from({ length: count }, () => paymentValues(scope, { test_clock: o.testClock ?? null }));
  const shapes = payments.map((p) => ({ id: p.id!, account_id: p.account_id, livemode: p.livemode, test_clock: p.test_clock ?? null }));
  await db.insertInto('payments').values(payments).execute();
  await db.insertInto('rescues').values(shapes.map((p) => rescueValues(p))).execute();
  await db
    .insertInto('attempts')
    .values(shapes.map((p) => attemptValues(p, { status: 'failed', attempted_at: T0, decline_code: 'insufficient_funds', decline_category: 'soft' })))
    .execute();
  const retries = shapes.map((p, i) => attemptValues(p, { number: 2, ...retry(i) }));
  const rows = await db.insertInto('attempts').values(retries).returningAll().execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return retries.map((r) => byId.get(r.id!)!);
}

export async function attemptById(db: Db, id: string): Promise<AttemptRow> {
  return db.selectFrom('attempts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function paymentById(db: Db, id: string): Promise<PaymentRow> {
  return db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Postgres: waits until `n` sessions on this database are blocked on a lock (to line up a race). */
export async function waitForLockWaiters(db: Db, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
    if (r.rows[0]!.n >= n) return;
    if (performance.now() > deadline) throw new Error(`expected ${n} sessions waiting on a lock, saw ${r.rows[0]!.n}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * claimDueAttempts and reclaimExpiredAttempts work across accounts (they are the worker's queue), so
 * a test asserting on "everything due" first retires the work other tests in the same database left.
 */
export async function retireOpenAttempts(db: Db): Promise<void> {
  await db.updateTable('attempts').set({ status: 'cancelled', claimed_by: null, lease_expires_at: null }).where('status', 'in', ['planned', 'processing']).execute();
}
