import { sql, type Transaction } from 'kysely';
import type { Db } from './db.ts';
import { claimDue, type ClaimSpec } from './job-claims.ts';
import type { Scope } from './payments.ts';
import type { Database, StripeHandbackRow } from './schema.ts';

// Invoices Rescue took over in Stripe (auto_advance: false) and hands back when it lets go of them
// (migration 0014). One row per invoice: `held` while Rescue retries it; `pending` once Rescue let
// go (observe mode, a disconnect) and a worker job is to restore auto_advance; `restored`; or
// `impossible` when Rescue can no longer reach the account (deauthorized), listed for the merchant.
// A held invoice whose rescue ended without the money (exhausted, cancelled) is due by itself.

type Q = Db | Transaction<Database>;

/** The invoice's rescue recovered: it is paid, nothing to hand back (Stripe refuses auto_advance on a paid invoice). */
const notRecovered = sql<boolean>`not exists (select 1 from rescues r where r.account_id = stripe_handbacks.account_id
  and r.payment_id = stripe_handbacks.payment_id and r.status = 'recovered')`;
type Key = Pick<StripeHandbackRow, 'account_id' | 'livemode' | 'invoice_id'>;

/**
 * Rescue takes the invoice over (active mode, its rescue just opened): recorded before Stripe is asked,
 * in the event's transaction. A row already held stays as it is (its first `auto_advance_before` is
 * the truth); one handed back earlier is held again, a new generation.
 */
export async function holdInvoice(tx: Q, scope: Scope, o: { invoiceId: string; paymentId: string; autoAdvanceBefore: boolean; at: Date }): Promise<void> {
  const fresh = { payment_id: o.paymentId, auto_advance_before: o.autoAdvanceBefore, status: 'held' as const, reason: null, next_run_at: null, claimed_by: null, lease_expires_at: null, failures: 0, last_error: null, taken_at: o.at, released_at: null, restored_at: null };
  await tx
    .insertInto('stripe_handbacks')
    .values({ account_id: scope.accountId, livemode: scope.livemode, invoice_id: o.invoiceId, ...fresh })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'invoice_id']).doUpdateSet({ ...fresh, generation: sql`stripe_handbacks.generation + 1` }).where('stripe_handbacks.status', '<>', 'held'))
    .execute();
}

/** The invoice's row while Rescue holds it (active mode retries it), else null. */
export async function heldInvoice(db: Q, scope: Scope, invoiceId: string): Promise<StripeHandbackRow | null> {
  const row = await db
    .selectFrom('stripe_handbacks')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('invoice_id', '=', invoiceId)
    .where('status', '=', 'held')
    .executeTakeFirst();
  return row ?? null;
}

/** Rescue lets go of every invoice it holds (observe mode): each is to be handed back by the worker. */
export async function releaseHeldInvoices(tx: Q, scope: Scope, reason: string, at: Date): Promise<number> {
  const r = await tx
    .updateTable('stripe_handbacks')
    .set({ status: 'pending', reason, released_at: at, next_run_at: at, failures: 0, last_error: null })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('status', '=', 'held')
    .where(notRecovered)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Rescue can no longer reach the account: what it still held stays with auto_advance off, listed for the merchant. */
export async function markHandbacksImpossible(tx: Q, scope: Scope, reason: string, at: Date): Promise<void> {
  await tx
    .updateTable('stripe_handbacks')
    .set({ status: 'impossible', reason, released_at: sql`coalesce(released_at, ${at})`, claimed_by: null, lease_expires_at: null, next_run_at: null })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('status', 'in', ['held', 'pending'])
    .where(notRecovered)
    .execute();
}

/** Every invoice still to hand back (held or pending), for a disconnect that hands them back first. */
export async function invoicesToHandBack(db: Q, scope: Scope): Promise<StripeHandbackRow[]> {
  return db.selectFrom('stripe_handbacks').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('status', 'in', ['held', 'pending']).where(notRecovered).orderBy('invoice_id').execute();
}

/**
 * The account's rows for the connection's view, each with its rescue's status: a held invoice whose
 * rescue recovered is paid, so it is no longer Rescue's to hold (nor to hand back).
 */
export async function listHandbacks(db: Q, scope: Scope): Promise<(StripeHandbackRow & { rescue_status: string | null })[]> {
  return db
    .selectFrom('stripe_handbacks as h')
    .leftJoin('rescues as r', (j) => j.onRef('r.account_id', '=', 'h.account_id').onRef('r.payment_id', '=', 'h.payment_id'))
    .selectAll('h')
    .select('r.status as rescue_status')
    .where('h.account_id', '=', scope.accountId)
    .where('h.livemode', '=', scope.livemode)
    .orderBy('h.invoice_id')
    .execute();
}

/**
 * Due hand-backs: pending and due, or held while the rescue ended without the money (exhausted or
 * cancelled: Stripe's own collection must resume). A recovered invoice is paid: nothing to hand back.
 */
export const dueHandbacks: ClaimSpec<StripeHandbackRow> = {
  table: 'stripe_handbacks',
  key: ['account_id', 'livemode', 'invoice_id'],
  due: (at) => sql`(t.status = 'pending' and t.next_run_at <= ${at.now}) or (t.status = 'held' and exists (
    select 1 from rescues r where r.account_id = t.account_id and r.payment_id = t.payment_id and r.status in ('exhausted', 'cancelled')))`,
  order: sql`t.next_run_at nulls first, t.invoice_id`,
  lease: { kind: 'holder', claimedBy: 'claimed_by', expiresAt: 'lease_expires_at' },
};

export async function claimDueHandbacks(db: Db, o: { workerId: string; now: Date; leaseUntil: Date; limit: number }): Promise<StripeHandbackRow[]> {
  return claimDue(db, dueHandbacks, o);
}

/**
 * What a hand-back came to: restored, impossible, or pending again (Stripe unreachable: asked again
 * at `nextRunAt`). Only while the caller still holds the row, or (a disconnect's own hand-back) nobody does.
 */
export async function finishHandback(
  db: Q,
  row: Key & { status: StripeHandbackRow['status'] },
  holder: string | null,
  o: { status: 'restored' | 'impossible' | 'pending'; at: Date; reason?: string; error?: string | null; nextRunAt?: Date },
): Promise<void> {
  let q = db
    .updateTable('stripe_handbacks')
    .set({
      status: o.status,
      claimed_by: null,
      lease_expires_at: null,
      next_run_at: o.status === 'pending' ? (o.nextRunAt ?? o.at) : null,
      last_error: o.error ?? null,
      failures: o.status === 'pending' ? sql`failures + 1` : sql`failures`,
      released_at: sql`coalesce(released_at, ${o.at})`,
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.status === 'restored' ? { restored_at: o.at } : {}),
    })
    .where('account_id', '=', row.account_id)
    .where('livemode', '=', row.livemode)
    .where('invoice_id', '=', row.invoice_id)
    .where('status', 'in', ['held', 'pending']);
  q = holder ? q.where('claimed_by', '=', holder) : q;
  await q.execute();
}
