import { sql } from 'kysely';
import type { CardAttempt } from '../predict/risk.ts';
import type { RescueHistoryItem } from '../predict/churn.ts';
import type { Db } from './db.ts';
import { insertEvents } from './events.ts';
import type { Scope } from './payments.ts';
import type { CardContext } from '../predict/features.ts';

// Reads and writes of the prediction APIs (issue 5): a payment method's history, its recorded risk
// with predict.risk.high on an upward crossing, the account's threshold, customers' rescues.

export async function getRiskThreshold(db: Db, scope: Scope, fallback: number): Promise<number> {
  const r = await sql<{ risk_threshold: number }>`
    select risk_threshold from prediction_settings where account_id = ${scope.accountId} and livemode = ${scope.livemode}`.execute(db);
  return r.rows[0]?.risk_threshold ?? fallback;
}

export async function setRiskThreshold(db: Db, scope: Scope, threshold: number, now: Date): Promise<void> {
  await sql`
    insert into prediction_settings (account_id, livemode, risk_threshold, updated_at)
    values (${scope.accountId}, ${scope.livemode}, ${threshold}, ${now})
    on conflict (account_id, livemode) do update set risk_threshold = excluded.risk_threshold, updated_at = excluded.updated_at`.execute(db);
}

export interface CardHistory {
  /** false when no payment of the account used this token: nothing is recorded for it. */
  stored: boolean;
  brand: string;
  paymentMethodType: string;
  timezone: string;
  /** The test clock of the token's latest payment, if any (its time is "now" for it). */
  testClockTime: Date | null;
  /** The latest payment's customer, and the card described without its token (as events describe cards). */
  customerId: string | null;
  paymentMethod: { type: string; brand: string; last4: string | null; fingerprint: string } | null;
  attempts: CardAttempt[];
  /** The card's funding and country, the customer's creation and a replaced card, for the retry model. */
  card: CardContext;
}

/** Every finished attempt on the card(s) the token's payments charged, across the account's payments. */
export async function cardHistory(db: Db, scope: Scope, token: string): Promise<CardHistory> {
  const latest = await sql<{ card_fingerprint: string; card_brand: string; card_last4: string | null; payment_method_type: string; customer_id: string | null; timezone: string | null; frozen_time: Date | null;
    card_funding: string | null; card_country: string | null; customer_created_at: Date | null; card_replaced: boolean }>`
    select a.card_fingerprint, a.card_brand, a.card_last4, a.payment_method_type, p.customer_id, c.timezone, tc.frozen_time,
           a.card_funding, a.card_country, c.created_at as customer_created_at,
           exists (select 1 from attempts u where u.account_id = p.account_id and u.payment_id = p.id and u.card_was_updated) as card_replaced
    from payments p
    join attempts a on a.payment_id = p.id and a.account_id = p.account_id and a.payment_method_position = 0
    left join customers c on c.id = p.customer_id and c.account_id = p.account_id
    left join test_clocks tc on tc.id = p.test_clock and tc.account_id = p.account_id
    where p.account_id = ${scope.accountId} and p.livemode = ${scope.livemode} and p.payment_method = ${token}
    order by p.created_at desc, a.number desc limit 1`.execute(db);
  const head = latest.rows[0];
  if (!head) return { stored: false, brand: 'unknown', paymentMethodType: 'card', timezone: 'UTC', testClockTime: null, customerId: null, paymentMethod: null, attempts: [], card: {} };
  const rows = await sql<{ attempted_at: Date; status: 'succeeded' | 'failed'; number: number; amount: string | number; decline_code: string | null; decline_category: string | null; advice_code: string | null }>`
    select a.attempted_at, a.status, a.number, p.amount, a.decline_code, a.decline_category, a.advice_code
    from attempts a join payments p on p.id = a.payment_id and p.account_id = a.account_id
    where a.account_id = ${scope.accountId} and a.livemode = ${scope.livemode} and a.card_fingerprint = ${head.card_fingerprint}
      and a.status in ('succeeded', 'failed') and a.attempted_at is not null
    order by a.attempted_at desc limit 500`.execute(db);
  return {
    stored: true,
    brand: head.card_brand,
    paymentMethodType: head.payment_method_type,
    timezone: head.timezone ?? 'UTC',
    testClockTime: head.frozen_time,
    customerId: head.customer_id,
    paymentMethod: { type: head.payment_method_type, brand: head.card_brand, last4: head.card_last4, fingerprint: head.card_fingerprint },
    card: {
      funding: head.card_funding,
      cardCountry: head.card_country,
      customerCreatedAtMs: head.customer_created_at ? head.customer_created_at.getTime() : null,
      cardWasUpdated: Boolean(head.card_replaced),
    },
    attempts: rows.rows.map((r) => ({
      at: r.attempted_at, status: r.status, number: r.number, amount: Number(r.amount),
      declineCode: r.decline_code, declineCategory: r.decline_category, adviceCode: r.advice_code,
    })),
  };
}

/**
 * Records a stored payment method's score; when it is at or over the threshold and the previous one
 * was not (or there was none), emits predict.risk.high in the same transaction. Returns whether it did.
 */
export async function recordRisk(
  db: Db,
  scope: Scope,
  input: { token: string; riskScore: number; threshold: number; now: Date; data: Record<string, unknown> },
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    // A first score inserts the row (not high) before locking it, so two concurrent first requests
    // serialise on it and only one of them sees the crossing.
    await sql`
      insert into payment_method_risk (account_id, livemode, payment_method, risk_score, high, updated_at)
      values (${scope.accountId}, ${scope.livemode}, ${input.token}, 0, false, ${input.now})
      on conflict (account_id, livemode, payment_method) do nothing`.execute(tx);
    const prev = await sql<{ high: boolean }>`
      select high from payment_method_risk
      where account_id = ${scope.accountId} and livemode = ${scope.livemode} and payment_method = ${input.token} for update`.execute(tx);
    const high = input.riskScore >= input.threshold;
    const crossed = high && prev.rows[0]?.high !== true;
    await sql`
      update payment_method_risk set risk_score = ${input.riskScore}, high = ${high}, updated_at = ${input.now}
      where account_id = ${scope.accountId} and livemode = ${scope.livemode} and payment_method = ${input.token}`.execute(tx);
    if (crossed) {
      await insertEvents(tx, [{ accountId: scope.accountId, livemode: scope.livemode, createdAt: input.now, type: 'predict.risk.high', objectId: null, data: input.data }]);
    }
    return crossed;
  });
}

interface RescueRowLite {
  customer_id: string;
  started_at: Date;
  ended_at: Date | null;
  status: string;
  failure_code: string | null;
  decline_category: string | null;
  amount: string | number;
}

function toItem(r: RescueRowLite): RescueHistoryItem {
  const outcome = r.status === 'recovered' ? 'kept' : r.status === 'exhausted' || r.status === 'cancelled' ? 'lost' : null;
  return { startedAt: r.started_at, endedAt: outcome === null ? null : r.ended_at, outcome, declineCategory: r.decline_category, declineCode: r.failure_code, amount: Number(r.amount) };
}

/** Rescues of the account's customers (the latest `limit`), grouped by customer, for training. */
export async function rescuesByCustomer(db: Db, scope: Scope, opts: { customer?: string; limit?: number } = {}): Promise<Map<string, RescueHistoryItem[]>> {
  const rows = await sql<RescueRowLite>`
    select p.customer_id, r.started_at, r.ended_at, r.status, p.failure_code, a.decline_category, p.amount
    from rescues r
    join payments p on p.id = r.payment_id and p.account_id = r.account_id
    left join attempts a on a.payment_id = p.id and a.account_id = p.account_id and a.number = 1
    where r.account_id = ${scope.accountId} and p.livemode = ${scope.livemode} and p.customer_id is not null
      ${opts.customer === undefined ? sql`` : sql`and p.customer_id = ${opts.customer}`}
    order by r.started_at desc limit ${opts.limit ?? 20_000}`.execute(db);
  const out = new Map<string, RescueHistoryItem[]>();
  for (const r of rows.rows) {
    const list = out.get(r.customer_id) ?? [];
    list.push(toItem(r));
    out.set(r.customer_id, list);
  }
  return out;
}

export async function customerPayments(db: Db, scope: Scope, customer: string): Promise<{ payments: number; failed: number; typicalAmount: number }> {
  const r = await sql<{ n: number; failed: number; amount: string | number | null }>`
    select count(*)::int as n,
      count(*) filter (where exists (select 1 from attempts a where a.payment_id = p.id and a.account_id = p.account_id and a.number = 1 and a.status = 'failed'))::int as failed,
      percentile_disc(0.5) within group (order by p.amount) as amount
    from payments p where p.account_id = ${scope.accountId} and p.livemode = ${scope.livemode} and p.customer_id = ${customer}`.execute(db);
  const row = r.rows[0]!;
  return { payments: row.n, failed: row.failed, typicalAmount: row.amount === null ? 5000 : Number(row.amount) };
}

/**
 * A customer's history as the retry-time prediction reads it: when its earlier failed payments were
 * recovered by a retry (the payday evidence, latest 500), and its test clock's time if it has one.
 */
export async function customerRetryHistory(db: Db, scope: Scope, customer: string): Promise<{ recoveredAt: Date[]; testClockTime: Date | null }> {
  const rows = await sql<{ attempted_at: Date }>`
    select a.attempted_at from attempts a join payments p on p.id = a.payment_id and p.account_id = a.account_id
    where a.account_id = ${scope.accountId} and a.livemode = ${scope.livemode} and p.customer_id = ${customer}
      and a.status = 'succeeded' and a.number > 1 and a.attempted_at is not null
    order by a.attempted_at desc limit 500`.execute(db);
  const clock = await sql<{ frozen_time: Date }>`
    select tc.frozen_time from customers c join test_clocks tc on tc.id = c.test_clock and tc.account_id = c.account_id
    where c.account_id = ${scope.accountId} and c.id = ${customer}`.execute(db);
  return { recoveredAt: rows.rows.map((r) => r.attempted_at), testClockTime: clock.rows[0]?.frozen_time ?? null };
}
