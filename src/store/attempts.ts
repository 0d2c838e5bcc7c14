import { sql } from 'kysely';
import type { Db } from './db.ts';
import { insertEvents, type EventToWrite } from './events.ts';
import { claimDue, type ClaimSpec } from './job-claims.ts';
import type { AttemptRow, CustomerRow, PaymentRow, RecoveryRow, RescuePaymentMethodRow, RescueRow } from './schema.ts';

// Planned attempts are rows; a worker claims due ones (store/job-claims.ts: FOR UPDATE SKIP LOCKED)
// and marks them processing with a lease, committed before any gateway call (DESIGN.md invariant 2).
// Three claim specs: planned attempts of a test clock (the clock's advance holds the clock), planned
// real-time attempts (one per card, through the card's lease), and processing attempts whose lease
// ran out (reconciled).

export interface ClaimOptions {
  workerId: string;
  limit: number;
  /** Due means planned_at <= dueBy. */
  dueBy: Date;
  /** null: real-time attempts only; an id: only that test clock's attempts. */
  testClock: string | null;
  leaseUntil: Date;
  /** Only attempts at or before this instant, ordered by time, for test-clock batches. */
  onlyPayment?: string;
}

/** Their payments show rescue_in_progress while a retry runs (a CTE over `source`, attempt rows). */
function inProgress(source: string) {
  return sql`in_progress as (
      update payments p set status = 'rescue_in_progress'
      from ${sql.table(source)} s where p.id = s.payment_id and p.account_id = s.account_id
        and s.number > 1 and p.status = 'requires_rescue'
    )`;
}

const PROCESSING = { kind: 'holder', claimedBy: 'claimed_by', expiresAt: 'lease_expires_at' } as const;

/**
 * Planned attempts due by `dueBy`, in time order: they become processing under the claim. Planned
 * is the unclaimed state, so no lease is read; a lapsed claim is the `expiredAttempts` spec's.
 */
export function plannedAttempts(o: { dueBy: Date; testClock: string | null; onlyPayment?: string }): ClaimSpec<AttemptRow> {
  return {
    table: 'attempts',
    key: ['id'],
    due: () => sql`t.status = 'planned' and t.planned_at <= ${o.dueBy}
      and ${o.testClock === null ? sql`t.test_clock is null` : sql`t.test_clock = ${o.testClock}`}
      ${o.onlyPayment ? sql`and t.payment_id = ${o.onlyPayment}` : sql``}`,
    order: sql`t.planned_at, t.id`,
    lease: { ...PROCESSING, freeWhen: 'due' },
    mark: () => sql`status = 'processing'`,
    tail: () => sql`, ${inProgress('claimed')} select * from claimed`,
    shape: (rows) => (rows as unknown as AttemptRow[]).sort(byPlannedAt),
  };
}

export async function claimDueAttempts(db: Db, o: ClaimOptions): Promise<AttemptRow[]> {
  return claimDue(db, plannedAttempts(o), { workerId: o.workerId, now: o.dueBy, leaseUntil: o.leaseUntil, limit: o.limit });
}

/** How many of the earliest due real-time attempts one claim considers, per attempt it may claim. */
export const REALTIME_CANDIDATES = 4;

/**
 * The window a real-time claim chooses from: the earliest `size` due real-time attempts (by
 * attempts_due_realtime, in due order) whose card is not held by another worker's unexpired lease
 * (`workerId` omitted: by anyone's). A round's work follows its batch, not card_leases nor the due
 * backlog: the scan stops after `size` attempts, and each card is looked up by card_leases_pkey
 * (a scalar subquery, run per attempt read: as `not exists` the planner hash-joins a Seq Scan of
 * card_leases, since it expects almost no held leases).
 * Cards held elsewhere are skipped rather than counted, so a crashed or busy worker's cards do not
 * fill the window; the window can still be short of distinct cards when one card has many due
 * attempts (one of them is claimed a round, as before).
 */
function dueWindow(o: { dueBy: Date; wallNow: Date; workerId?: string; size: number }) {
  return sql`select a.id, a.account_id, a.card_fingerprint, a.planned_at
    from attempts a
    where a.status = 'planned' and a.planned_at <= ${o.dueBy} and a.test_clock is null
      and not coalesce((
        select h.lease_expires_at >= ${o.wallNow}${o.workerId === undefined ? sql`` : sql` and h.claimed_by is distinct from ${o.workerId}`}
        from card_leases h where h.account_id = a.account_id and h.fingerprint = a.card_fingerprint
      ), false)
    order by a.planned_at, a.id
    limit ${o.size}`;
}

/**
 * Real-time attempts due at the claim's time: at most one attempt per card, and only on cards no
 * other worker holds. The claim is on the card's lease row (card_leases: FOR UPDATE SKIP LOCKED,
 * lease re-checked after the lock), and the same statement marks the card's earliest due attempt
 * processing, so two workers never charge one card at once and the per-card network limits are
 * checked against a complete history. It chooses among the earliest `candidates` due attempts (see
 * `dueWindow`; REALTIME_CANDIDATES × the claim's limit), so call `ensureCardLeaseRows` with the same
 * `candidates` first: a due card without a lease row is not claimed.
 */
export function realtimeAttempts(o: { dueBy?: Date; candidates: number }): ClaimSpec<AttemptRow> {
  return {
    table: 'card_leases',
    key: ['account_id', 'fingerprint'],
    join: (at) => sql`join (
        select distinct on (account_id, card_fingerprint) id, account_id, card_fingerprint, planned_at
        from (${dueWindow({ dueBy: o.dueBy ?? at.now, wallNow: at.now, workerId: at.workerId, size: o.candidates })}) w
        order by account_id, card_fingerprint, planned_at, id
      ) c on c.account_id = t.account_id and c.card_fingerprint = t.fingerprint`,
    due: () => sql`true`,
    order: sql`c.planned_at, c.id`,
    lease: { kind: 'holder', claimedBy: 'claimed_by', expiresAt: 'lease_expires_at', reentrant: true },
    carry: { attempt_id: 'c.id' },
    tail: (at) => sql`, attempts_claimed as (
        update attempts a
        set status = 'processing', claimed_by = ${at.workerId}, lease_expires_at = ${at.leaseUntil}
        from claimed where a.id = claimed.attempt_id and a.status = 'planned'
        returning a.*
      ), ${inProgress('attempts_claimed')}
      select * from attempts_claimed`,
    shape: (rows) => (rows as unknown as AttemptRow[]).sort(byPlannedAt),
  };
}

/**
 * Every card among the earliest `candidates` due real-time attempts has its lease row (a no-op
 * once it has). Cards held by any unexpired lease are skipped (they have their row), so this window
 * reaches at least as far as any worker's claim window at the same instant.
 */
export async function ensureCardLeaseRows(db: Db, o: { dueBy: Date; wallNow: Date; candidates: number }): Promise<void> {
  await sql`
    insert into card_leases (account_id, fingerprint)
    select distinct account_id, card_fingerprint from (${dueWindow({ dueBy: o.dueBy, wallNow: o.wallNow, size: o.candidates })}) w
    on conflict do nothing`.execute(db);
}

export async function claimDueRealtimeAttempts(db: Db, o: { workerId: string; limit: number; dueBy: Date; wallNow: Date; leaseUntil: Date }): Promise<AttemptRow[]> {
  if (o.limit <= 0) return [];
  const candidates = REALTIME_CANDIDATES * o.limit;
  await ensureCardLeaseRows(db, { dueBy: o.dueBy, wallNow: o.wallNow, candidates });
  return claimDue(db, realtimeAttempts({ dueBy: o.dueBy, candidates }), { workerId: o.workerId, now: o.wallNow, leaseUntil: o.leaseUntil, limit: o.limit });
}

export async function releaseCardLeases(db: Db, workerId: string): Promise<void> {
  await db.updateTable('card_leases').set({ claimed_by: null, lease_expires_at: null }).where('claimed_by', '=', workerId).execute();
}

/**
 * Attempts whose worker died mid-charge: their lease ran out while still processing. They are
 * handed to a new worker under the SAME idempotency key, so the gateway answers the first call's
 * result instead of charging again.
 */
export const expiredAttempts: ClaimSpec<AttemptRow> = {
  table: 'attempts',
  key: ['id'],
  due: () => sql`t.status = 'processing' and t.lease_expires_at is not null`,
  order: sql`t.lease_expires_at`,
  lease: PROCESSING,
  shape: (rows) => (rows as unknown as AttemptRow[]).sort(byPlannedAt),
};

export async function reclaimExpiredAttempts(db: Db, o: { workerId: string; wallNow: Date; leaseUntil: Date; limit: number }): Promise<AttemptRow[]> {
  return claimDue(db, expiredAttempts, { workerId: o.workerId, now: o.wallNow, leaseUntil: o.leaseUntil, limit: o.limit });
}

/**
 * Attempts a stopping worker claimed but never sent to their gateway: planned again, unclaimed and
 * still due, so another worker takes them at once (same attempt, same idempotency key). Only while
 * this worker still holds them; their payments leave rescue_in_progress.
 */
export async function handBackUnsent(db: Db, attempts: readonly Pick<AttemptRow, 'id' | 'account_id' | 'claimed_by'>[]): Promise<void> {
  if (attempts.length === 0) return;
  await sql`
    with handed as (
      update attempts a set status = 'planned', claimed_by = null, lease_expires_at = null
      from unnest(${attempts.map((a) => a.id)}::text[], ${attempts.map((a) => a.account_id)}::text[], ${attempts.map((a) => a.claimed_by ?? '')}::text[]) as v(id, account_id, claimed_by)
      where a.id = v.id and a.account_id = v.account_id and a.claimed_by = v.claimed_by and a.status = 'processing'
      returning a.payment_id, a.account_id, a.number
    )
    update payments p set status = 'requires_rescue'
    from handed h where p.id = h.payment_id and p.account_id = h.account_id and h.number > 1 and p.status = 'rescue_in_progress'`.execute(db);
}

/** `column = any($1)`: one array parameter instead of one parameter per value in large batches. */
function anyOf(column: string, values: readonly string[]) {
  return sql<boolean>`${sql.ref(column)} = any(${[...values]}::text[])`;
}

function byPlannedAt(a: AttemptRow, b: AttemptRow): number {
  return a.planned_at.getTime() - b.planned_at.getTime() || a.id.localeCompare(b.id);
}

export interface AttemptContext {
  payment: PaymentRow;
  rescue: RescueRow | null;
  customer: CustomerRow | null;
  /** The hand-off this payment came from (POST /api/recovery/execute), if any. */
  recovery: RecoveryRow | null;
  /** The rescue's payment methods in order (primary, then fallbacks); empty for /v2/payments. */
  methods: RescuePaymentMethodRow[];
}

export async function loadAttemptContexts(db: Db, attempts: readonly AttemptRow[]): Promise<Map<string, AttemptContext>> {
  const map = new Map<string, AttemptContext>();
  if (attempts.length === 0) return map;
  const paymentIds = [...new Set(attempts.map((a) => a.payment_id))];
  const accountIds = [...new Set(attempts.map((a) => a.account_id))];
  // Five independent reads, sent at once (each on its own pooled connection): a batch waits for
  // the slowest, not the sum. The customers are found through their payments in the same query.
  const [payments, rescues, customers, recoveries, methods] = await Promise.all([
    db.selectFrom('payments').selectAll().where(anyOf('account_id', accountIds)).where(anyOf('id', paymentIds)).execute(),
    db.selectFrom('rescues').selectAll().where(anyOf('account_id', accountIds)).where(anyOf('payment_id', paymentIds)).execute(),
    db
      .selectFrom('customers')
      .selectAll()
      .where(anyOf('account_id', accountIds))
      .where('id', 'in', (q) => q.selectFrom('payments as p').select('p.customer_id').where(anyOf('p.account_id', accountIds)).where(anyOf('p.id', paymentIds)).where('p.customer_id', 'is not', null))
      .execute(),
    db.selectFrom('recoveries').selectAll().where(anyOf('account_id', accountIds)).where(anyOf('payment_id', paymentIds)).execute(),
    db.selectFrom('rescue_payment_methods').selectAll().where(anyOf('account_id', accountIds)).where(anyOf('payment_id', paymentIds)).orderBy('position').execute(),
  ]);
  const rescueBy = new Map(rescues.map((r) => [r.payment_id, r]));
  // Customer ids are the merchant's, unique per account only (migration 0020).
  const customerBy = new Map(customers.map((c) => [`${c.account_id}|${c.id}`, c]));
  const recoveryBy = new Map(recoveries.map((r) => [`${r.account_id}|${r.payment_id}`, r]));
  const methodsBy = new Map<string, RescuePaymentMethodRow[]>();
  for (const m of methods) {
    const key = `${m.account_id}|${m.payment_id}`;
    const list = methodsBy.get(key);
    if (list) list.push(m);
    else methodsBy.set(key, [m]);
  }
  for (const payment of payments) {
    map.set(payment.id, {
      payment,
      rescue: rescueBy.get(payment.id) ?? null,
      customer: payment.customer_id ? (customerBy.get(`${payment.account_id}|${payment.customer_id}`) ?? null) : null,
      recovery: recoveryBy.get(`${payment.account_id}|${payment.id}`) ?? null,
      methods: methodsBy.get(`${payment.account_id}|${payment.id}`) ?? [],
    });
  }
  return map;
}

export interface DeclinedAttemptRow {
  payment_id: string;
  number: number;
  decline_code: string;
  advice_code: string | null;
  card_brand: string;
  card_fingerprint: string;
  payment_method_type: string;
}

/** Each retry's latest declined attempt before it (the decline it retries), by the retry's attempt id. */
export async function loadLastDeclines(db: Db, attempts: readonly AttemptRow[]): Promise<Map<string, DeclinedAttemptRow>> {
  const map = new Map<string, DeclinedAttemptRow>();
  const retries = attempts.filter((a) => a.number > 1);
  if (retries.length === 0) return map;
  const rows = (await db
    .selectFrom('attempts')
    .select(['account_id', 'payment_id', 'number', 'decline_code', 'advice_code', 'card_brand', 'card_fingerprint', 'payment_method_type'])
    .where(anyOf('account_id', [...new Set(retries.map((a) => a.account_id))]))
    .where(anyOf('payment_id', [...new Set(retries.map((a) => a.payment_id))]))
    .where('status', '=', 'failed')
    .where('decline_code', 'is not', null)
    .execute()) as (DeclinedAttemptRow & { account_id: string })[];
  const byPayment = new Map<string, DeclinedAttemptRow[]>();
  for (const r of rows) {
    const key = `${r.account_id}|${r.payment_id}`;
    const list = byPayment.get(key);
    if (list) list.push(r);
    else byPayment.set(key, [r]);
  }
  for (const a of retries) {
    let last: DeclinedAttemptRow | undefined;
    for (const r of byPayment.get(`${a.account_id}|${a.payment_id}`) ?? []) {
      if (r.number < a.number && (!last || r.number > last.number)) last = r;
    }
    if (last) map.set(a.id, last);
  }
  return map;
}

export interface CardAttemptRow {
  account_id: string;
  card_fingerprint: string;
  attempted_at: Date;
  status: 'succeeded' | 'failed';
  decline_code: string | null;
  advice_code: string | null;
  card_brand: string;
  number: number;
}

/**
 * Every finished attempt on the given cards since `since`, across all of each account's payments.
 * The cards are (account, fingerprint) pairs joined to attempts_card one pair at a time: a list of
 * accounts times a list of fingerprints would read every attempt of every account in the batch.
 */
export async function loadCardHistory(db: Db, cards: readonly { accountId: string; fingerprint: string }[], since: Date): Promise<CardAttemptRow[]> {
  if (cards.length === 0) return [];
  const pairs = [...new Map(cards.map((c) => [`${c.accountId}|${c.fingerprint}`, c])).values()];
  const result = await sql<CardAttemptRow>`
    select a.account_id, a.card_fingerprint, a.attempted_at, a.status, a.decline_code, a.advice_code, a.card_brand, a.number
    from unnest(${pairs.map((c) => c.accountId)}::text[], ${pairs.map((c) => c.fingerprint)}::text[]) as card(account_id, fingerprint)
    join attempts a on a.account_id = card.account_id and a.card_fingerprint = card.fingerprint
    where a.attempted_at >= ${since} and a.status in ('succeeded', 'failed')`.execute(db);
  return result.rows;
}

export interface RetryAnnouncement {
  attemptId: string;
  accountId: string;
  claimedBy: string;
  at: Date;
  accountUpdaterChecked: boolean;
  cardWasUpdated: boolean;
  event: EventToWrite;
}

/**
 * Before charging retries: record what the account updater found and write each retry's
 * payment.rescue_retry event, together, once per attempt (a reconciled attempt is not announced twice).
 */
export async function announceRetries(db: Db, items: readonly RetryAnnouncement[]): Promise<void> {
  if (items.length === 0) return;
  await db.transaction().execute(async (tx) => {
    const rows = items.map((i) => ({ id: i.attemptId, account_id: i.accountId, claimed_by: i.claimedBy, at: i.at, checked: i.accountUpdaterChecked, updated: i.cardWasUpdated }));
    const announced = await sql<{ id: string }>`
      update attempts a set announced_at = v.at, account_updater_checked = v.checked, card_was_updated = v.updated
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id text, account_id text, claimed_by text, at timestamptz, checked boolean, updated boolean)
      where a.id = v.id and a.account_id = v.account_id and a.claimed_by = v.claimed_by and a.status = 'processing' and a.announced_at is null
      returning a.id`.execute(tx);
    const ids = new Set(announced.rows.map((r) => r.id));
    await insertEvents(tx, items.filter((i) => ids.has(i.attemptId)).map((i) => i.event));
  });
}
