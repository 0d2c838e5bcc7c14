import { sql } from 'kysely';
import { percentOf, roundDays, type DeclineCodeFigures } from '../domain/analytics.ts';
import type { Db } from './db.ts';
import type { Scope } from './payments.ts';

// The analytics figures as SQL aggregates (one grouped query each, never every row): their
// definitions are src/domain/analytics.ts#DEFINITIONS. Instants bound [from, to); a currency, when
// given, keeps only payments in it.

export interface AnalyticsWindow {
  from: Date;
  to: Date;
  currency: string | null;
}

const inCurrency = (w: AnalyticsWindow) => (w.currency === null ? sql`` : sql`and p.currency = ${w.currency}`);

export async function mrrRecoveredByMonth(db: Db, scope: Scope, w: AnalyticsWindow): Promise<{ month: Date; currency: string; recoveredCount: number; recoveredAmount: number }[]> {
  const rows = await sql<{ month: Date; currency: string; n: number; amount: string | number }>`
    select date_trunc('month', r.ended_at at time zone 'UTC') at time zone 'UTC' as month, p.currency, count(*)::int as n, sum(p.amount)::bigint as amount
    from rescues r join payments p on p.account_id = r.account_id and p.id = r.payment_id
    where r.account_id = ${scope.accountId} and p.livemode = ${scope.livemode} and r.status = 'recovered'
      and r.ended_at >= ${w.from} and r.ended_at < ${w.to} ${inCurrency(w)}
    group by 1, 2 order by 1, 2`.execute(db);
  return rows.rows.map((r) => ({ month: new Date(r.month), currency: r.currency, recoveredCount: Number(r.n), recoveredAmount: Number(r.amount) }));
}

export async function attemptsByNumber(db: Db, scope: Scope, w: AnalyticsWindow): Promise<{ attempt: number; made: number; succeeded: number; successRate: number | null }[]> {
  const rows = await sql<{ number: number; made: number; succeeded: number }>`
    select t.number, count(*)::int as made, (count(*) filter (where t.status = 'succeeded'))::int as succeeded
    from attempts t join payments p on p.account_id = t.account_id and p.id = t.payment_id
    where t.account_id = ${scope.accountId} and t.livemode = ${scope.livemode} and t.status in ('succeeded', 'failed')
      and t.attempted_at >= ${w.from} and t.attempted_at < ${w.to} ${inCurrency(w)}
    group by 1 order by 1`.execute(db);
  return rows.rows.map((r) => ({ attempt: Number(r.number), made: Number(r.made), succeeded: Number(r.succeeded), successRate: percentOf(Number(r.succeeded), Number(r.made)) }));
}

/** The recovery rate's cohort (first attempts that failed in the window) by their decline. */
export async function failedByDeclineCode(db: Db, scope: Scope, w: AnalyticsWindow): Promise<DeclineCodeFigures[]> {
  const rows = await sql<{ code: string; category: string; failed: number; recovered: number }>`
    select coalesce(t.decline_code, 'unknown') as code, coalesce(t.decline_category, 'unknown') as category, count(*)::int as failed,
      (count(*) filter (where r.status = 'recovered'))::int as recovered
    from attempts t
      join payments p on p.account_id = t.account_id and p.id = t.payment_id
      left join rescues r on r.account_id = p.account_id and r.payment_id = p.id
    where t.account_id = ${scope.accountId} and t.livemode = ${scope.livemode} and t.number = 1 and t.status = 'failed'
      and t.attempted_at >= ${w.from} and t.attempted_at < ${w.to} ${inCurrency(w)}
    group by 1, 2 order by 3 desc, 1`.execute(db);
  return rows.rows.map((r) => ({ declineCode: r.code, declineCategory: r.category, failed: Number(r.failed), recovered: Number(r.recovered), recoveryRate: percentOf(Number(r.recovered), Number(r.failed)) }));
}

/** Rescues recovered in the window: days from the first failed attempt to the success. */
export async function daysToRecover(db: Db, scope: Scope, w: AnalyticsWindow): Promise<{ recovered: number; averageDays: number | null; medianDays: number | null }> {
  const rows = await sql<{ n: number; avg: string | number | null; median: string | number | null }>`
    select count(*)::int as n, avg(d.days) as avg, percentile_cont(0.5) within group (order by d.days) as median from (
      select extract(epoch from (r.ended_at - coalesce(t.attempted_at, r.started_at))) / 86400.0 as days
      from rescues r
        join payments p on p.account_id = r.account_id and p.id = r.payment_id
        left join attempts t on t.account_id = r.account_id and t.payment_id = r.payment_id and t.number = 1
      where r.account_id = ${scope.accountId} and p.livemode = ${scope.livemode} and r.status = 'recovered'
        and r.ended_at >= ${w.from} and r.ended_at < ${w.to} ${inCurrency(w)}
    ) d`.execute(db);
  const r = rows.rows[0]!;
  const num = (v: string | number | null) => (v === null ? null : Number(v));
  return { recovered: Number(r.n), averageDays: roundDays(num(r.avg)), medianDays: roundDays(num(r.median)) };
}

/** Customers with a rescue running now or begun in the window (the churn table's candidates). */
export async function customersWithRescues(db: Db, scope: Scope, w: AnalyticsWindow, limit: number): Promise<{ id: string; email: string | null; name: string | null; activeRescues: number }[]> {
  const rows = await sql<{ id: string; email: string | null; name: string | null; active: number }>`
    select c.id, c.email, c.name, (count(*) filter (where r.status = 'active'))::int as active
    from rescues r
      join payments p on p.account_id = r.account_id and p.id = r.payment_id
      join customers c on c.account_id = p.account_id and c.id = p.customer_id
    where r.account_id = ${scope.accountId} and p.livemode = ${scope.livemode}
      and (r.status = 'active' or (r.started_at >= ${w.from} and r.started_at < ${w.to})) ${inCurrency(w)}
    group by c.id, c.email, c.name order by 4 desc, c.id limit ${limit}`.execute(db);
  return rows.rows.map((r) => ({ id: r.id, email: r.email, name: r.name, activeRescues: Number(r.active) }));
}

/** Each customer's payment count, first-attempt failures and median amount (the churn model's inputs), in one query. */
export async function paymentFactsByCustomer(db: Db, scope: Scope, customers: readonly string[]): Promise<Map<string, { payments: number; failed: number; typicalAmount: number }>> {
  const out = new Map<string, { payments: number; failed: number; typicalAmount: number }>();
  if (customers.length === 0) return out;
  const rows = await sql<{ customer_id: string; n: number; failed: number; amount: string | number | null }>`
    select p.customer_id, count(*)::int as n,
      (count(*) filter (where t.status = 'failed'))::int as failed,
      percentile_disc(0.5) within group (order by p.amount) as amount
    from payments p left join attempts t on t.account_id = p.account_id and t.payment_id = p.id and t.number = 1
    where p.account_id = ${scope.accountId} and p.livemode = ${scope.livemode} and p.customer_id in (${sql.join(customers)})
    group by 1`.execute(db);
  for (const r of rows.rows) out.set(r.customer_id, { payments: Number(r.n), failed: Number(r.failed), typicalAmount: r.amount === null ? 5000 : Number(r.amount) });
  return out;
}

export async function deliveriesByStatus(db: Db, scope: Scope, w: AnalyticsWindow): Promise<{ succeeded: number; failed: number; pending: number; disabledEndpoints: number; endpoints: number }> {
  const d = await sql<{ succeeded: number; failed: number; pending: number }>`
    select (count(*) filter (where status = 'succeeded'))::int as succeeded, (count(*) filter (where status = 'failed'))::int as failed,
      (count(*) filter (where status = 'pending'))::int as pending
    from webhook_deliveries where account_id = ${scope.accountId} and livemode = ${scope.livemode} and created_at >= ${w.from} and created_at < ${w.to}`.execute(db);
  const e = await sql<{ n: number; disabled: number }>`
    select count(*)::int as n, (count(*) filter (where status = 'disabled'))::int as disabled
    from webhook_endpoints where account_id = ${scope.accountId} and livemode = ${scope.livemode}`.execute(db);
  const dr = d.rows[0]!;
  const er = e.rows[0]!;
  return { succeeded: Number(dr.succeeded), failed: Number(dr.failed), pending: Number(dr.pending), endpoints: Number(er.n), disabledEndpoints: Number(er.disabled) };
}
