import { sql, type Insertable, type Transaction } from 'kysely';
import { missingResource } from '../errors.ts';
import type { Db } from './db.ts';
import { getPaymentRecord, type PaymentRecord, type Scope } from './payments.ts';
import { applyLifecycleIn } from './lifecycle-writes.ts';
import type { AttemptRow, AttemptsTable, Database, PaymentRow, PaymentsTable, PulseRow, RecoveriesTable, RecoveryRow, RescuePaymentMethodRow, RescuePaymentMethodsTable } from './schema.ts';

// Hand-offs (POST /api/recovery/execute), their payment methods, and organic successes (pulses).

export interface HandOffRows {
  payment: Insertable<PaymentsTable>;
  firstAttempt: Insertable<AttemptsTable>;
  recovery: Insertable<RecoveriesTable>;
  methods: Insertable<RescuePaymentMethodsTable>[];
}

/** Inside the caller's transaction, so the first attempt's outcome is written with them. */
export async function insertHandOff(tx: Transaction<Database>, rows: HandOffRows): Promise<{ payment: PaymentRow; attempt: AttemptRow; recovery: RecoveryRow; methods: RescuePaymentMethodRow[] }> {
  const inserted = await applyLifecycleIn(tx, { payments: [rows.payment], attempts: [rows.firstAttempt] });
  const payment = inserted.payments[0]!;
  const attempt = inserted.attempts[0]!;
  const recovery = await tx.insertInto('recoveries').values(rows.recovery).returningAll().executeTakeFirstOrThrow();
  const methods = await tx.insertInto('rescue_payment_methods').values(rows.methods).returningAll().execute();
  return { payment, attempt, recovery, methods: methods.sort((a, b) => a.position - b.position) };
}

export async function findRecoveryByIdempotencyKey(db: Db, scope: Scope, key: string): Promise<RecoveryRow | null> {
  const row = await db
    .selectFrom('recoveries')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row ?? null;
}

export interface RecoveryRecord {
  recovery: RecoveryRow;
  record: PaymentRecord;
  methods: RescuePaymentMethodRow[];
}

export async function getRecoveryRecord(db: Db, scope: Scope, id: string, param?: string): Promise<RecoveryRecord> {
  const recovery = await db
    .selectFrom('recoveries')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!recovery) throw missingResource('recovery', id, param);
  const record = await getPaymentRecord(db, scope, recovery.payment_id);
  const methods = await db
    .selectFrom('rescue_payment_methods')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('payment_id', '=', recovery.payment_id)
    .orderBy('position')
    .execute();
  return { recovery, record, methods };
}

/** Records an organic success once per transaction id; a repeat returns the first record. */
export async function insertPulse(db: Db, scope: Scope, p: { transactionId: string; amount: number; currency: string; at: Date }): Promise<{ pulse: PulseRow; created: boolean }> {
  const inserted = await db
    .insertInto('pulses')
    .values({ account_id: scope.accountId, livemode: scope.livemode, transaction_id: p.transactionId, amount: p.amount, currency: p.currency, created_at: p.at })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'transaction_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { pulse: inserted, created: true };
  const pulse = await db
    .selectFrom('pulses')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('transaction_id', '=', p.transactionId)
    .executeTakeFirstOrThrow();
  return { pulse, created: false };
}

export type LiftInterval = 'day' | 'week' | 'month';

/** One (period, currency) cell: amounts in minor units. */
export interface LiftCell {
  period: Date;
  currency: string;
  organicCount: number;
  organicAmount: number;
  recoveredCount: number;
  recoveredAmount: number;
  failedCount: number;
  failedAmount: number;
  /** Of the payments that failed in this period, how many are recovered by now, and their amount. */
  failedRecoveredCount: number;
  failedRecoveredAmount: number;
}

/**
 * The figures behind Lift, per period (UTC) and currency, for [from, to):
 * - organic: successes the merchant logged (pulses) and payments Rescue charged that succeeded on
 *   their first attempt, by when they happened;
 * - recovered: rescues that recovered their payment, by when they did (hand-offs and /v2 payments);
 * - failed: payments whose first attempt failed (every hand-off, and /v2 payments that declined), by
 *   when they failed, with how many of them are recovered by now (the recovery rate's cohort).
 */
export async function liftCells(db: Db, scope: Scope, from: Date, to: Date, interval: LiftInterval): Promise<LiftCell[]> {
  const a = scope.accountId;
  const l = scope.livemode;
  const bucket = (column: string) => sql<Date>`date_trunc(${interval}, ${sql.ref(column)} at time zone 'UTC') at time zone 'UTC'`;
  const organic = await sql<{ period: Date; currency: string; n: number; amount: number }>`
    select period, currency, sum(n)::int as n, sum(amount)::bigint as amount from (
      select ${bucket('created_at')} as period, currency, count(*) as n, sum(amount) as amount
      from pulses where account_id = ${a} and livemode = ${l} and created_at >= ${from} and created_at < ${to}
      group by 1, 2
      union all
      select ${bucket('p.created_at')} as period, p.currency, count(*) as n, sum(p.amount) as amount
      from payments p join attempts t on t.account_id = p.account_id and t.payment_id = p.id and t.number = 1
      where p.account_id = ${a} and p.livemode = ${l} and p.created_at >= ${from} and p.created_at < ${to}
        and t.status = 'succeeded'
      group by 1, 2
    ) o group by 1, 2`.execute(db);
  const recovered = await sql<{ period: Date; currency: string; n: number; amount: number }>`
    select ${bucket('r.ended_at')} as period, p.currency, count(*)::int as n, sum(p.amount)::bigint as amount
    from rescues r join payments p on p.account_id = r.account_id and p.id = r.payment_id
    where r.account_id = ${a} and p.livemode = ${l} and r.status = 'recovered' and r.ended_at >= ${from} and r.ended_at < ${to}
    group by 1, 2`.execute(db);
  const failed = await sql<{ period: Date; currency: string; n: number; amount: number; recovered: number; recovered_amount: number }>`
    select ${bucket('t.attempted_at')} as period, p.currency, count(*)::int as n, sum(p.amount)::bigint as amount,
      (count(*) filter (where r.status = 'recovered'))::int as recovered,
      coalesce(sum(p.amount) filter (where r.status = 'recovered'), 0)::bigint as recovered_amount
    from attempts t
      join payments p on p.account_id = t.account_id and p.id = t.payment_id
      left join rescues r on r.account_id = p.account_id and r.payment_id = p.id
    where t.account_id = ${a} and t.livemode = ${l} and t.number = 1 and t.status = 'failed'
      and t.attempted_at >= ${from} and t.attempted_at < ${to}
    group by 1, 2`.execute(db);

  const cells = new Map<string, LiftCell>();
  const cell = (period: Date, currency: string): LiftCell => {
    const key = `${new Date(period).toISOString()}|${currency}`;
    let c = cells.get(key);
    if (!c) {
      c = { period: new Date(period), currency, organicCount: 0, organicAmount: 0, recoveredCount: 0, recoveredAmount: 0, failedCount: 0, failedAmount: 0, failedRecoveredCount: 0, failedRecoveredAmount: 0 };
      cells.set(key, c);
    }
    return c;
  };
  for (const r of organic.rows) Object.assign(cell(r.period, r.currency), { organicCount: Number(r.n), organicAmount: Number(r.amount) });
  for (const r of recovered.rows) Object.assign(cell(r.period, r.currency), { recoveredCount: Number(r.n), recoveredAmount: Number(r.amount) });
  for (const r of failed.rows) Object.assign(cell(r.period, r.currency), { failedCount: Number(r.n), failedAmount: Number(r.amount), failedRecoveredCount: Number(r.recovered), failedRecoveredAmount: Number(r.recovered_amount) });
  return [...cells.values()].sort((x, y) => x.period.getTime() - y.period.getTime() || x.currency.localeCompare(y.currency));
}

export interface ExperimentArm {
  group: 'treatment' | 'control';
  handOffs: number;
  /** Hand-offs whose recovery has ended (recovered, exhausted, cancelled, or blocked at once). */
  decided: number;
  recovered: number;
  recoveredAmounts: Record<string, number>;
}

/** Hand-offs in the control-group experiment received in [from, to), by group. */
export async function experimentArms(db: Db, scope: Scope, from: Date, to: Date): Promise<ExperimentArm[]> {
  const rows = await sql<{ grp: 'treatment' | 'control'; currency: string; n: number; decided: number; recovered: number; amount: number }>`
    select rec.experiment_group as grp, p.currency, count(*)::int as n,
      (count(*) filter (where r.payment_id is null or r.status <> 'active'))::int as decided,
      (count(*) filter (where r.status = 'recovered'))::int as recovered,
      coalesce(sum(p.amount) filter (where r.status = 'recovered'), 0)::bigint as amount
    from recoveries rec
      join payments p on p.account_id = rec.account_id and p.id = rec.payment_id
      left join rescues r on r.account_id = rec.account_id and r.payment_id = rec.payment_id
    where rec.account_id = ${scope.accountId} and rec.livemode = ${scope.livemode} and rec.experiment_group is not null
      and rec.created_at >= ${from} and rec.created_at < ${to}
    group by 1, 2`.execute(db);
  const arms: ExperimentArm[] = (['treatment', 'control'] as const).map((group) => ({ group, handOffs: 0, decided: 0, recovered: 0, recoveredAmounts: {} }));
  for (const r of rows.rows) {
    const arm = arms.find((x) => x.group === r.grp)!;
    arm.handOffs += Number(r.n);
    arm.decided += Number(r.decided);
    arm.recovered += Number(r.recovered);
    if (Number(r.amount) > 0) arm.recoveredAmounts[r.currency] = (arm.recoveredAmounts[r.currency] ?? 0) + Number(r.amount);
  }
  return arms;
}

export interface TypeFigures {
  type: string;
  handOffs: number;
  decided: number;
  recovered: number;
}

/** Hand-offs received in [from, to) by the primary payment method's type (card, apple_pay, …). */
export async function handOffsByType(db: Db, scope: Scope, from: Date, to: Date): Promise<TypeFigures[]> {
  const rows = await sql<{ type: string; n: number; decided: number; recovered: number }>`
    select rec.payment_method_type as type, count(*)::int as n,
      (count(*) filter (where r.payment_id is null or r.status <> 'active'))::int as decided,
      (count(*) filter (where r.status = 'recovered'))::int as recovered
    from recoveries rec
      left join rescues r on r.account_id = rec.account_id and r.payment_id = rec.payment_id
    where rec.account_id = ${scope.accountId} and rec.livemode = ${scope.livemode}
      and rec.created_at >= ${from} and rec.created_at < ${to}
    group by 1 order by 1`.execute(db);
  return rows.rows.map((r) => ({ type: r.type, handOffs: Number(r.n), decided: Number(r.decided), recovered: Number(r.recovered) }));
}
