import { sql } from 'kysely';
import type { EmailKind } from '../domain/dunning.ts';
import { missingResource } from '../errors.ts';
import { cursorSeq } from './cursor.ts';
import type { Db } from './db.ts';
import { claimDue, type ClaimSpec } from './job-claims.ts';
import type { Scope } from './payments.ts';
import type { EmailRow } from './schema.ts';

// The email outbox: rows are queued with their cause (store/emails-queue.ts); a worker claims due
// ones with a lease (store/job-claims.ts: FOR UPDATE SKIP LOCKED), marks each as handed off just before SMTP gets it,
// and records the result. A row whose worker died before the hand-off is claimed again once its
// lease runs out; one handed off and never recorded is failed, not resent: the customer must never
// receive the same message twice (engine/dunning-send.ts).

/** Queued emails not yet handed to SMTP whose time has come, oldest first. */
export const dueEmails: ClaimSpec<EmailRow> = {
  table: 'emails',
  key: ['id'],
  due: (at) => sql`t.status = 'queued' and t.handed_off_at is null and (t.next_attempt_at is null or t.next_attempt_at <= ${at.now})`,
  order: sql`t.next_attempt_at nulls first, t.seq`,
  lease: { kind: 'holder', claimedBy: 'claimed_by', expiresAt: 'lease_expires_at' },
};

export async function claimDueEmails(db: Db, o: { workerId: string; now: Date; leaseUntil: Date; limit: number }): Promise<EmailRow[]> {
  return claimDue(db, dueEmails, o);
}

/** Handed to SMTP by a worker that stopped before it said how that went: never sent again. */
export async function failInterruptedEmails(db: Db, now: Date): Promise<number> {
  const res = await db
    .updateTable('emails')
    .set({
      status: 'failed',
      error: 'interrupted: the worker sending this email stopped before SMTP answered; it may have been delivered, so it is not sent again',
      claimed_by: null,
      lease_expires_at: null,
      updated_at: now,
    })
    .where('status', '=', 'queued')
    .where('handed_off_at', 'is not', null)
    .where('lease_expires_at', '<', now)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Just before SMTP gets the message; false when the claim was lost (another worker has it now). */
export async function markHandedOff(db: Db, e: { id: string; accountId: string; workerId: string; now: Date }): Promise<boolean> {
  const res = await db
    .updateTable('emails')
    .set({ handed_off_at: e.now, updated_at: e.now })
    .where('account_id', '=', e.accountId)
    .where('id', '=', e.id)
    .where('claimed_by', '=', e.workerId)
    .where('status', '=', 'queued')
    .where('handed_off_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export interface EmailResult {
  id: string;
  account_id: string;
  status: 'queued' | 'sent' | 'failed';
  subject: string;
  text_body: string;
  html_body: string;
  transport: 'outbox' | 'smtp';
  message_id: string | null;
  attempts: number;
  next_attempt_at: Date | null;
  error: string | null;
  sent_at: Date | null;
}

/** Records a batch of results in one statement, for rows this worker still holds. */
export async function recordEmailResults(db: Db, results: readonly EmailResult[], o: { workerId: string; now: Date }): Promise<number> {
  if (results.length === 0) return 0;
  const res = await sql`
    update emails e set status = v.status, subject = v.subject, text_body = v.text_body, html_body = v.html_body,
      transport = v.transport, message_id = v.message_id, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
      error = v.error, sent_at = v.sent_at, handed_off_at = null, claimed_by = null, lease_expires_at = null, updated_at = ${o.now}
    from jsonb_to_recordset(${JSON.stringify(results)}::jsonb) as v(
      id text, account_id text, status text, subject text, text_body text, html_body text, transport text, message_id text,
      attempts int, next_attempt_at timestamptz, error text, sent_at timestamptz)
    where e.id = v.id and e.account_id = v.account_id and e.claimed_by = ${o.workerId} and e.status = 'queued'`.execute(db);
  return Number(res.numAffectedRows ?? 0);
}

export async function getEmail(db: Db, scope: Scope, id: string): Promise<EmailRow> {
  const row = await db.selectFrom('emails').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('id', '=', id).executeTakeFirst();
  if (!row) throw missingResource('email', id);
  return row;
}

export interface ListEmailsQuery {
  paymentId?: string | undefined;
  customerId?: string | undefined;
  kind?: EmailKind | undefined;
  status?: EmailRow['status'] | undefined;
  limit: number;
  startingAfter?: string | undefined;
}

export async function listEmails(db: Db, scope: Scope, q: ListEmailsQuery): Promise<{ data: EmailRow[]; hasMore: boolean }> {
  let query = db.selectFrom('emails').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode);
  if (q.paymentId) query = query.where('payment_id', '=', q.paymentId);
  if (q.customerId) query = query.where('customer_id', '=', q.customerId);
  if (q.kind) query = query.where('kind', '=', q.kind);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.startingAfter) query = query.where('seq', '<', await cursorSeq(db, 'emails', 'email', scope, q.startingAfter));
  const rows = await query.orderBy('seq', 'desc').limit(q.limit + 1).execute();
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}
