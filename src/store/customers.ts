import { missingResource, RescueError } from '../errors.ts';
import { isUniqueViolation } from './accounts.ts';
import { newId } from '../ids.ts';
import type { Db } from './db.ts';
import type { CustomerRow } from './schema.ts';
import type { Scope } from './payments.ts';

export interface NewCustomer {
  /** The merchant's own id; a generated cus_… when absent. */
  id?: string | undefined;
  email: string | null;
  name: string | null;
  timezone: string;
  locale: string | null;
  metadata: Record<string, string>;
  testClock: string | null;
  createdAt: Date;
}

export async function insertCustomer(db: Db, scope: Scope, c: NewCustomer): Promise<CustomerRow> {
  try {
    return await insertCustomerRow(db, scope, c);
  } catch (err) {
    if (c.id && isUniqueViolation(err)) throw new RescueError('resource_already_exists', `A customer with id '${c.id}' already exists.`, 'id');
    throw err;
  }
}

function insertCustomerRow(db: Db, scope: Scope, c: NewCustomer): Promise<CustomerRow> {
  return db
    .insertInto('customers')
    .values({
      id: c.id ?? newId('cus'),
      account_id: scope.accountId,
      livemode: scope.livemode,
      email: c.email,
      name: c.name,
      timezone: c.timezone,
      locale: c.locale,
      metadata: JSON.stringify(c.metadata),
      test_clock: c.testClock,
      created_at: c.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The customer a payment names, created with that id on first use (seed 003 names `cus_abc123`
 * without ever creating it). Safe under concurrent first uses: the insert yields to the row another
 * request wrote. An id the account already uses in the other mode is refused as missing here.
 */
export async function customerOnFirstUse(db: Db, scope: Scope, id: string, now: Date): Promise<CustomerRow> {
  await db
    .insertInto('customers')
    .values({ id, account_id: scope.accountId, livemode: scope.livemode, email: null, name: null, timezone: 'UTC', locale: null, metadata: JSON.stringify({}), test_clock: null, created_at: now })
    .onConflict((oc) => oc.columns(['account_id', 'id']).doNothing())
    .execute();
  return getCustomer(db, scope, id, 'customer');
}

export async function getCustomer(db: Db, scope: Scope, id: string, param?: string): Promise<CustomerRow> {
  const row = await db
    .selectFrom('customers')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw missingResource('customer', id, param);
  return row;
}

export async function listCustomers(db: Db, scope: Scope, q: { limit: number; startingAfter?: string | undefined; search?: string | undefined }) {
  let query = db.selectFrom('customers').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode);
  if (q.search) {
    // A part of the email or name, case-insensitive, with LIKE's wildcards taken literally; an id whole.
    const pattern = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('id', '=', q.search!), eb('email', 'ilike', pattern), eb('name', 'ilike', pattern)]));
  }
  if (q.startingAfter) {
    const cursor = await getCustomer(db, scope, q.startingAfter, 'starting_after');
    query = query.where('seq', '<', cursor.seq);
  }
  const rows = await query.orderBy('seq', 'desc').limit(q.limit + 1).execute();
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}
