import type { Insertable } from 'kysely';
import { missingResource } from '../errors.ts';
import { cursorSeq } from './cursor.ts';
import type { Db } from './db.ts';
import { applyLifecycle } from './lifecycle-writes.ts';
import type { AttemptRow, AttemptsTable, PaymentRow, PaymentsTable, PaymentStatus, RescueRow } from './schema.ts';

export interface PaymentRecord {
  payment: PaymentRow;
  rescue: RescueRow | null;
  attempts: AttemptRow[];
}

export interface Scope {
  accountId: string;
  livemode: boolean;
}

/** Payments with their first attempts (already claimed by the caller), all or none. */
export async function insertPayments(db: Db, rows: readonly { payment: Insertable<PaymentsTable>; firstAttempt: Insertable<AttemptsTable> }[]): Promise<AttemptRow[]> {
  return (await insertPaymentRows(db, rows)).attempts;
}

/** The same, returning the payment rows as written too (in the order given), so the caller need not read them back. */
export async function insertPaymentRows(
  db: Db,
  rows: readonly { payment: Insertable<PaymentsTable>; firstAttempt: Insertable<AttemptsTable> }[],
): Promise<{ payments: PaymentRow[]; attempts: AttemptRow[] }> {
  if (rows.length === 0) return { payments: [], attempts: [] };
  const inserted = await applyLifecycle(db, { payments: rows.map((r) => r.payment), attempts: rows.map((r) => r.firstAttempt) });
  const byId = new Map(inserted.payments.map((p) => [p.id, p]));
  return { payments: rows.map((r) => byId.get(r.payment.id)!), attempts: inserted.attempts };
}

export async function getPaymentRecord(db: Db, scope: Scope, id: string): Promise<PaymentRecord> {
  const [record] = await getPaymentRecords(db, scope, [id]);
  if (!record) throw missingResource('payment', id);
  return record;
}

export async function findPaymentIdByIdempotencyKey(db: Db, scope: Scope, key: string): Promise<string | null> {
  const row = await db
    .selectFrom('payments')
    .select('id')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row?.id ?? null;
}

export async function getPaymentRecords(db: Db, scope: Scope, ids: readonly string[]): Promise<PaymentRecord[]> {
  if (ids.length === 0) return [];
  // One after the other, as before issue 10's round-trip work: sent at once on separate connections
  // they overlap a concurrent transition in more ways (a CI run once saw an exhausted rescue with its
  // last retry missing, not reproduced since). A single snapshot would need a transaction per read.
  const payments = await db.selectFrom('payments').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('id', 'in', ids).execute();
  if (payments.length === 0) return [];
  const found = payments.map((p) => p.id);
  const rescues = await db.selectFrom('rescues').selectAll().where('account_id', '=', scope.accountId).where('payment_id', 'in', found).execute();
  const attempts = await db.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', 'in', found).orderBy('number').execute();
  const byId = new Map(payments.map((p) => [p.id, p]));
  return ids
    .filter((id) => byId.has(id))
    .map((id) => ({
      payment: byId.get(id)!,
      rescue: rescues.find((r) => r.payment_id === id) ?? null,
      attempts: attempts.filter((a) => a.payment_id === id),
    }));
}

export interface ListPaymentsQuery {
  status?: PaymentStatus | undefined;
  customer?: string | undefined;
  limit: number;
  startingAfter?: string | undefined;
}

/** Newest first; cursor pagination on the insertion sequence. */
export async function listPaymentIds(db: Db, scope: Scope, q: ListPaymentsQuery): Promise<{ ids: string[]; hasMore: boolean }> {
  let query = db
    .selectFrom('payments')
    .select('id')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.customer) query = query.where('customer_id', '=', q.customer);
  if (q.startingAfter) query = query.where('seq', '<', await cursorSeq(db, 'payments', 'payment', scope, q.startingAfter));
  const rows = await query.orderBy('seq', 'desc').limit(q.limit + 1).execute();
  return { ids: rows.slice(0, q.limit).map((r) => r.id), hasMore: rows.length > q.limit };
}
