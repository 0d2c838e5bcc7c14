import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { AttemptsTable, Database, PaymentStatus, PlannedRetry, RescueStatus, RescuesTable } from './schema.ts';
import type { Insertable, Transaction } from 'kysely';
import { insertEvents, type EventToWrite } from './events.ts';
import { queueEmails } from './emails-queue.ts';

// The outcome of a batch of attempts, written in ONE transaction with set-based statements
// (jsonb_to_recordset), so a test clock can move thousands of rescues per second and a crash
// leaves either all of an attempt's consequences or none. If that transaction fails, one item must
// not take the others down with it: applyBatch retries per account, then per attempt (see
// applyBatchIsolated), and an attempt whose consequences the database still refuses stays claimed.

export interface AttemptResultWrite {
  id: string;
  account_id: string;
  claimed_by: string;
  status: 'succeeded' | 'failed' | 'cancelled' | 'planned';
  attempted_at: Date | null;
  planned_at: Date;
  decline_code: string | null;
  decline_category: string | null;
  advice_code: string | null;
  failure_message: string | null;
  transaction_id: string | null;
  account_updater_checked: boolean;
  card_was_updated: boolean;
  gateway_errors: number;
}

export interface PaymentWrite {
  id: string;
  account_id: string;
  status: PaymentStatus;
  failure_code: string | null;
  failure_message: string | null;
  payment_method: string;
  updated_at: Date;
}

export interface RescueWrite {
  payment_id: string;
  account_id: string;
  status: RescueStatus;
  retries_made: number;
  schedule: PlannedRetry[];
  end_reason: string | null;
  ended_at: Date | null;
  /** Set only when the rescue moves on to its next payment method (engine/cascade.ts); else kept. */
  payment_method_position?: number;
  method_started_at?: Date;
  method_retries_base?: number;
  window_ends_at?: Date;
}

/** Everything one attempt's outcome changes; dropped whole if the attempt was not ours to finish. */
export interface AttemptConsequences {
  attempt: AttemptResultWrite;
  payment: PaymentWrite | null;
  rescueInsert: Insertable<RescuesTable> | null;
  rescueUpdate: RescueWrite | null;
  nextAttempt: Insertable<AttemptsTable> | null;
  /** Written in the same transaction as the change (DESIGN.md invariant 3). */
  events?: EventToWrite[];
}

/** Applies a batch; returns the ids of attempts that were still claimed by us and so were applied. */
export async function applyBatch(db: Db, batch: readonly AttemptConsequences[]): Promise<Set<string>> {
  return (await applyBatchIsolated(db, batch)).applied;
}

/** Items of a batch whose consequences could not be written, each left claimed and unanswered. */
export interface IsolatedFailure {
  attemptIds: string[];
  accountIds: string[];
  /** The first error's code and message (the database's words; never the parameters). */
  error: string;
}

/**
 * applyBatch, and what it had to leave out. The batch is one transaction; if that fails, one bad item
 * (a value the database refuses, a broken row) must not fail other accounts' attempts: each
 * account's consequences are then applied in a transaction of their own, and an account that fails
 * again one attempt at a time. An attempt whose own consequences still fail keeps its row as it was
 * claimed — processing, under its original idempotency key — so it is reconciled (asked again under
 * that key, never a new one) when its lease ends; nothing it would have caused is written. If nothing
 * at all could be applied the first error is thrown, as before: that is the database, not an item.
 */
export async function applyBatchIsolated(db: Db, batch: readonly AttemptConsequences[]): Promise<{ applied: Set<string>; failed: IsolatedFailure | null }> {
  if (batch.length === 0) return { applied: new Set(), failed: null };
  let first: unknown;
  try {
    return { applied: await db.transaction().execute((tx) => applyBatchIn(tx, batch)), failed: null };
  } catch (err) {
    if (batch.length === 1) throw err;
    first = err;
  }
  const applied = new Set<string>();
  const failedItems: AttemptConsequences[] = [];
  let succeededOnce = false;
  const attempt = async (items: readonly AttemptConsequences[]): Promise<boolean> => {
    try {
      for (const id of await db.transaction().execute((tx) => applyBatchIn(tx, items))) applied.add(id);
      succeededOnce = true;
      return true;
    } catch {
      return false;
    }
  };
  for (const items of groupBy(batch, (b) => b.attempt.account_id)) {
    if (await attempt(items)) continue;
    if (items.length === 1) {
      failedItems.push(items[0]!);
      continue;
    }
    for (const item of items) if (!(await attempt([item]))) failedItems.push(item);
  }
  if (!succeededOnce) throw first;
  return {
    applied,
    failed: failedItems.length
      ? { attemptIds: failedItems.map((b) => b.attempt.id), accountIds: [...new Set(failedItems.map((b) => b.attempt.account_id))], error: describe(first) }
      : null,
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

function describe(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return `${typeof code === 'string' ? `${code} ` : ''}${message}`.slice(0, 500);
}

/** The same, inside the caller's transaction (a hand-off writes its payment and first outcome together). */
export async function applyBatchIn(tx: Transaction<Database>, batch: readonly AttemptConsequences[]): Promise<Set<string>> {
  const applied = new Set(
    (
      await sql<{ id: string }>`
      update attempts a set
        status = v.status, attempted_at = v.attempted_at, planned_at = v.planned_at,
        decline_code = v.decline_code, decline_category = v.decline_category, advice_code = v.advice_code,
        failure_message = v.failure_message, transaction_id = v.transaction_id,
        account_updater_checked = v.account_updater_checked, card_was_updated = v.card_was_updated,
        gateway_errors = v.gateway_errors,
        claimed_by = case when v.status = 'planned' then null else a.claimed_by end,
        lease_expires_at = null
      from jsonb_to_recordset(${JSON.stringify(batch.map((b) => b.attempt))}::jsonb) as v(
        id text, account_id text, claimed_by text, status text, attempted_at timestamptz, planned_at timestamptz,
        decline_code text, decline_category text, advice_code text, failure_message text, transaction_id text,
        account_updater_checked boolean, card_was_updated boolean, gateway_errors int)
      where a.id = v.id and a.account_id = v.account_id and a.status = 'processing' and a.claimed_by = v.claimed_by
      returning a.id`.execute(tx)
    ).rows.map((r) => r.id),
  );
  const ours = batch.filter((b) => applied.has(b.attempt.id));

  const payments = ours.flatMap((b) => (b.payment ? [b.payment] : []));
  if (payments.length) {
    await sql`
      update payments p set status = v.status, failure_code = v.failure_code, failure_message = v.failure_message,
        payment_method = v.payment_method, updated_at = v.updated_at
      from jsonb_to_recordset(${JSON.stringify(payments)}::jsonb) as v(
        id text, account_id text, status text, failure_code text, failure_message text, payment_method text, updated_at timestamptz)
      where p.id = v.id and p.account_id = v.account_id`.execute(tx);
  }

  const inserts = ours.flatMap((b) => (b.rescueInsert ? [b.rescueInsert] : []));
  for (const chunk of chunks(inserts, 500)) await tx.insertInto('rescues').values(chunk).execute();

  const updates = ours.flatMap((b) => (b.rescueUpdate ? [b.rescueUpdate] : []));
  if (updates.length) {
    await sql`
      update rescues r set status = v.status, retries_made = v.retries_made, schedule = v.schedule,
        end_reason = v.end_reason, ended_at = v.ended_at,
        payment_method_position = coalesce(v.payment_method_position, r.payment_method_position),
        method_started_at = coalesce(v.method_started_at, r.method_started_at),
        method_retries_base = coalesce(v.method_retries_base, r.method_retries_base),
        window_ends_at = coalesce(v.window_ends_at, r.window_ends_at)
      from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as v(
        payment_id text, account_id text, status text, retries_made int, schedule jsonb, end_reason text, ended_at timestamptz,
        payment_method_position int, method_started_at timestamptz, method_retries_base int, window_ends_at timestamptz)
      where r.payment_id = v.payment_id and r.account_id = v.account_id`.execute(tx);
  }

  const next = ours.flatMap((b) => (b.nextAttempt ? [b.nextAttempt] : []));
  for (const chunk of chunks(next, 500)) await tx.insertInto('attempts').values(chunk).execute();

  await insertEvents(tx, ours.flatMap((b) => b.events ?? []));
  // A failed retry that leaves one retry planned: remind the customer before that last one.
  await queueEmails(
    tx,
    ours.flatMap((b) =>
      b.attempt.status === 'failed' && b.rescueUpdate?.status === 'active' && b.rescueUpdate.retries_made > 0 && b.rescueUpdate.schedule.length === 1 && b.payment
        ? [{ accountId: b.attempt.account_id, paymentId: b.payment.id, kind: 'retry_reminder' as const, at: b.attempt.attempted_at ?? b.payment.updated_at }]
        : [],
    ),
  );
  return applied;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
