import { sql } from 'kysely';
import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { CardBrand } from '../domain/decline-types.ts';
import { strategyForPaymentMethod } from '../domain/wallets.ts';
import type { Db } from '../store/db.ts';
import { localClock } from './features.ts';
import { fitPayday } from './payday.ts';
import type { Example } from './retry-model.ts';

// The attempts table is the training data: every finished retry, with what was known when it was
// made (the previous attempt's decline, the rescue's start, the customer's zone, the amount, the
// card's earlier recovered retries — only those before it, so nothing leaks from the future), the
// card's funding and country (null before migration 0012), the customer's creation (its tenure), and
// whether the card was replaced during the rescue at or before this attempt.

interface Row {
  payment_id: string;
  attempted_at: Date;
  status: 'succeeded' | 'failed';
  number: number;
  card_fingerprint: string;
  card_brand: string;
  payment_method_type: string;
  prev_at: Date;
  prev_code: string | null;
  prev_advice: string | null;
  started_at: Date;
  amount: string | number;
  timezone: string;
  card_funding: string | null;
  card_country: string | null;
  customer_created_at: Date | null;
  card_replaced: boolean;
}

const MAX_EXAMPLES = 100_000;

/**
 * Finished retries of one account and mode up to `until` (the account's own clock). `testClock`:
 * only the retries of that clock (a test clock's id) or of real time (null); omitted, all of them.
 */
export async function loadRetryExamples(db: Db, accountId: string, livemode: boolean, until: Date, testClock?: string | null): Promise<Example[]> {
  const onClock = testClock === undefined ? sql`true` : testClock === null ? sql`a.test_clock is null` : sql`a.test_clock = ${testClock}`;
  // One pass over the account's attempts, each retry paired with the attempt before it by a window
  // (not a self-join): on a table that grew since its statistics were taken (a backtest, a busy
  // first day) the planner misjudged the self-join as one row and ran it as a nested loop over the
  // account's whole card index, 5 s for 5,000 retries (bench/load.ts, the test-clock figure).
  const result = await sql<Row>`
    with tried as (
      select a.payment_id, a.attempted_at, a.status, a.number, a.card_fingerprint, a.card_brand, a.payment_method_type,
             a.card_funding, a.card_country,
             lag(a.number) over w as prev_number, lag(a.status) over w as prev_status,
             lag(a.attempted_at) over w as prev_at, lag(a.decline_code) over w as prev_code, lag(a.advice_code) over w as prev_advice,
             bool_or(a.card_was_updated) over (w rows between unbounded preceding and current row) as card_replaced
      from attempts a
      where a.account_id = ${accountId} and a.livemode = ${livemode} and ${onClock}
      window w as (partition by a.payment_id order by a.number)
    )
    select t.payment_id, t.attempted_at, t.status, t.number, t.card_fingerprint, t.card_brand, t.payment_method_type,
           t.prev_at, t.prev_code, t.prev_advice,
           r.started_at, p.amount, coalesce(c.timezone, 'UTC') as timezone,
           t.card_funding, t.card_country, c.created_at as customer_created_at, t.card_replaced
    from tried t
    join rescues r on r.account_id = ${accountId} and r.payment_id = t.payment_id
    join payments p on p.account_id = ${accountId} and p.id = t.payment_id
    left join customers c on c.account_id = p.account_id and c.id = p.customer_id
    where t.number > 1 and t.status in ('succeeded', 'failed') and t.attempted_at <= ${until}
      and t.prev_number = t.number - 1 and t.prev_status = 'failed' and t.prev_at is not null
    order by t.attempted_at desc
    limit ${MAX_EXAMPLES}`.execute(db);
  const rows = result.rows.reverse();
  // Each card's recovered retries, in time order, for its payday history.
  const successes = new Map<string, number[]>();
  for (const r of rows) if (r.status === 'succeeded') {
    const list = successes.get(r.card_fingerprint) ?? [];
    list.push(r.attempted_at.getTime());
    successes.set(r.card_fingerprint, list);
  }
  return rows.map((r) => {
    const atMs = r.attempted_at.getTime();
    const before = (successes.get(r.card_fingerprint) ?? []).filter((t) => t < atMs).map((t) => localClock(t, r.timezone).day);
    const decline = strategyForPaymentMethod(classifyDecline({ code: r.prev_code ?? 'generic_decline', adviceCode: r.prev_advice, brand: r.card_brand as CardBrand, count: false }), r.payment_method_type);
    return {
      atMs,
      y: r.status === 'succeeded' ? 1 : 0,
      payment: r.payment_id,
      card: r.card_fingerprint,
      input: {
        declineCode: decline.code,
        strategy: decline.strategy,
        adviceCode: r.prev_advice,
        retryNumber: r.number - 1,
        rescueStartedAtMs: r.started_at.getTime(),
        lastAttemptAtMs: r.prev_at.getTime(),
        atMs,
        timezone: r.timezone,
        brand: r.card_brand,
        paymentMethodType: r.payment_method_type,
        amount: Number(r.amount),
        payday: fitPayday(before),
        funding: r.card_funding,
        cardCountry: r.card_country,
        customerCreatedAtMs: r.customer_created_at ? r.customer_created_at.getTime() : null,
        cardWasUpdated: Boolean(r.card_replaced),
      },
    };
  });
}
