import { sql, type Insertable, type Transaction, type Updateable } from 'kysely';
import type { Db } from './db.ts';
import { applyBatchIn, type AttemptConsequences } from './batch-writes.ts';
import { insertEvents, type EventToWrite } from './events.ts';
import { queueEmails, type EmailCause } from './emails-queue.ts';
import type { PaymentMethodUpdatesTable } from './schema-dunning.ts';
import type { AttemptRow, AttemptsTable, Database, PaymentRow, PaymentsTable, RescuesTable } from './schema.ts';
import type { Scope } from './payments.ts';

// The one writer of payments, rescues and attempts (issue 10). Every transition of a payment and its
// rescue is computed by a pure function (engine/lifecycle.ts) from the state it loaded, as a change
// set; this file applies change sets — rows, events, email causes — in one transaction. Nothing
// outside src/store inserts or updates those three tables (test/store/single-writer.test.ts).

type Tx = Transaction<Database>;

export interface PaymentPatch {
  account_id: string;
  id: string;
  set: Updateable<PaymentsTable>;
}

export interface RescuePatch {
  account_id: string;
  payment_id: string;
  set: Updateable<RescuesTable>;
}

export interface AttemptPatch {
  account_id: string;
  id: string;
  set: Updateable<AttemptsTable>;
  /** Only while the attempt is still planned (a worker may have claimed it meanwhile). */
  onlyIfPlanned?: boolean;
}

/** Every planned attempt of a payment is cancelled, `message` saying why. */
export interface CancelPlanned {
  account_id: string;
  payment_id: string;
  message: string;
}

/** Everything one transition changes. Applied in the order of the fields below. */
export interface LifecycleChange {
  /** New payments (created by the API, a hand-off, a Stripe event). */
  payments?: Insertable<PaymentsTable>[];
  /** New attempts: a payment's first attempt, a reopened retry, a retry Stripe made. */
  attempts?: Insertable<AttemptsTable>[];
  /** Attempts' outcomes (the charge path's consequences, store/batch-writes.ts). */
  outcomes?: AttemptConsequences[];
  paymentUpdates?: PaymentPatch[];
  rescueInserts?: Insertable<RescuesTable>[];
  rescueUpdates?: RescuePatch[];
  attemptUpdates?: AttemptPatch[];
  cancelPlanned?: CancelPlanned[];
  /** A customer's new payment method, recorded with what it did. */
  methodUpdates?: Insertable<PaymentMethodUpdatesTable>[];
  /** Written in the same transaction as the change (DESIGN.md invariant 3); their email causes too. */
  events?: EventToWrite[];
  /** Email causes that no event carries. */
  emails?: EmailCause[];
}

export interface LifecycleApplied {
  payments: PaymentRow[];
  attempts: AttemptRow[];
  /** Outcomes applied: their attempts were still claimed by the caller. */
  outcomes: Set<string>;
}

/** Applies change sets in one transaction. */
export async function applyLifecycle(db: Db, changes: LifecycleChange | readonly LifecycleChange[]): Promise<LifecycleApplied> {
  return db.transaction().execute((tx) => applyLifecycleIn(tx, changes));
}

/** The same, inside the caller's transaction (a Stripe event's, a locked payment's). */
export async function applyLifecycleIn(tx: Tx, changes: LifecycleChange | readonly LifecycleChange[]): Promise<LifecycleApplied> {
  const list: readonly LifecycleChange[] = Array.isArray(changes) ? changes : [changes as LifecycleChange];
  const all = <K extends keyof LifecycleChange>(k: K) => list.flatMap((c) => (c[k] ?? []) as NonNullable<LifecycleChange[K]>[number][]) as NonNullable<LifecycleChange[K]>;
  const out: LifecycleApplied = { payments: [], attempts: [], outcomes: new Set() };

  const payments = all('payments');
  if (payments.length) out.payments = await tx.insertInto('payments').values(payments).returningAll().execute();
  const attempts = all('attempts');
  if (attempts.length) {
    const inserted = await tx.insertInto('attempts').values(attempts).returningAll().execute();
    const byId = new Map(inserted.map((a) => [a.id, a]));
    out.attempts = attempts.map((a) => byId.get(a.id)!);
  }
  const outcomes = all('outcomes');
  if (outcomes.length) out.outcomes = await applyBatchIn(tx, outcomes);
  for (const p of all('paymentUpdates')) await tx.updateTable('payments').set(p.set).where('account_id', '=', p.account_id).where('id', '=', p.id).execute();
  const rescues = all('rescueInserts');
  if (rescues.length) await tx.insertInto('rescues').values(rescues).execute();
  for (const r of all('rescueUpdates')) await tx.updateTable('rescues').set(r.set).where('account_id', '=', r.account_id).where('payment_id', '=', r.payment_id).execute();
  for (const a of all('attemptUpdates')) {
    let q = tx.updateTable('attempts').set(a.set).where('account_id', '=', a.account_id).where('id', '=', a.id);
    if (a.onlyIfPlanned) q = q.where('status', '=', 'planned');
    await q.execute();
  }
  for (const c of all('cancelPlanned')) {
    await tx
      .updateTable('attempts')
      .set({ status: 'cancelled', failure_message: c.message })
      .where('account_id', '=', c.account_id)
      .where('payment_id', '=', c.payment_id)
      .where('status', '=', 'planned')
      .execute();
  }
  const methodUpdates = all('methodUpdates');
  if (methodUpdates.length) await tx.insertInto('payment_method_updates').values(methodUpdates).execute();
  await insertEvents(tx, all('events'));
  await queueEmails(tx, all('emails'));
  return out;
}

/**
 * Claim-and-run-now (retry_now, a hand-off's retry in the request, a recovery Stripe reports): the
 * payment's planned attempts become processing under the caller's lease, due `plannedAt` when
 * given. Committed before any gateway call when called outside a transaction (DESIGN.md invariant 2).
 */
export async function claimPlannedNow(
  db: Db | Tx,
  scope: Scope,
  paymentId: string,
  o: { workerId: string; leaseUntil: Date; plannedAt?: Date; position?: number },
): Promise<AttemptRow[]> {
  let q = db
    .updateTable('attempts')
    .set({ status: 'processing', claimed_by: o.workerId, lease_expires_at: o.leaseUntil, ...(o.plannedAt ? { planned_at: o.plannedAt } : {}) })
    .where('account_id', '=', scope.accountId)
    .where('payment_id', '=', paymentId)
    .where('status', '=', 'planned');
  if (o.position !== undefined) q = q.where('payment_method_position', '=', o.position);
  return (await q.returningAll().execute()) as AttemptRow[];
}

/** How many attempts of each payment were made (succeeded or failed): what payment.rescue_cancelled counts. */
export async function attemptsMade(db: Db | Tx, scope: Scope, paymentIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map(paymentIds.map((id) => [id, 0]));
  if (paymentIds.length === 0) return out;
  const rows = await sql<{ payment_id: string; n: number }>`
    select payment_id, count(*)::int as n from attempts
    where account_id = ${scope.accountId} and payment_id = any(${[...paymentIds]}::text[]) and status in ('succeeded', 'failed')
    group by payment_id`.execute(db);
  for (const r of rows.rows) out.set(r.payment_id, Number(r.n));
  return out;
}

/** An expired idempotency key (store/idempotency.ts) no longer names the payment it created. */
export async function forgetPaymentIdempotencyKey(tx: Db | Tx, accountId: string, livemode: boolean, key: string): Promise<void> {
  await tx.updateTable('payments').set({ idempotency_key: null }).where('account_id', '=', accountId).where('livemode', '=', livemode).where('idempotency_key', '=', key).execute();
}
