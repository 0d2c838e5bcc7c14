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
  const result = await sql<Row>`
    select a.payment_id, a.attempted_at, a.status, a.number, a.card_fingerprint, a.card_brand, a.payment_method_type,
           prev.attempted_at as prev_at, prev.decline_code as prev_code, prev.advice_code as prev_advice,
           r.started_at, p.amount, coalesce(c.timezone, 'UTC') as timezone,
           a.card_funding, a.card_country, c.created_at as customer_created_at,
           exists (select 1 from attempts u where u.account_id = a.account_id and u.payment_id = a.payment_id
                   and u.number <= a.number and u.card_was_updated) as card_replaced
    from attempts a
    join attempts prev on prev.account_id = a.account_id and prev.payment_id = a.payment_id and prev.number = a.number - 1
    join rescues r on r.account_id = a.account_id and r.payment_id = a.payment_id
    join payments p on p.account_id = a.account_id and p.id = a.payment_id
    left join customers c on c.account_id = p.account_id and c.id = p.customer_id
    where a.account_id = ${accountId} and a.livemode = ${livemode} and a.number > 1
      and a.status in ('succeeded', 'failed') and a.attempted_at <= ${until} and ${onClock}
      and prev.status = 'failed' and prev.attempted_at is not null
    order by a.attempted_at desc
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
