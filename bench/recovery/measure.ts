// What one policy's account did with the renewals scored: per renewal, when it was recovered and with
// what chance, its retries; and every rule broken (which must be none).
//
// A lane that retried along the failing path (`pm_sim_*_declined_failing`: every retry declines with
// the code a failed retry gets) is scored exactly: the plan after k failed retries is what the engine
// made after those k failures, so the renewal is recovered at retry k with probability
// Π(1 − p_i, i < k)·p_k, the p's the sandbox's exact chances — no draws, no luck. A lane with real
// draws (the learned accounts' own runs) is scored by what happened.

import { sql } from 'kysely';
import type { CardBrand } from '../../src/domain/decline-types.ts';
import { checkNetworkRules, type CardAttemptRecord } from '../../src/domain/network-rules.ts';
import type { Db } from '../../src/store/db.ts';
import { parseSimToken, simulatedProfile } from '../../src/gateways/sandbox/population.ts';
import { trueRetryChance } from './populations.ts';

const DAY = 86_400_000;

export interface Renewal {
  /** The same renewal under every policy: the customer and its first (declined) charge's time. */
  key: string;
  customer: string;
  /** The customer's hidden kind of decline (for a breakdown, BENCH_DEBUG=1). */
  bucket: string;
  amount: number;
  /** When it is recovered (days from the first decline) and with what probability; at most one unit in all. */
  outcomes: { days: number; p: number }[];
  /** P(recovered): the sum of the outcomes' probabilities (1 or 0 for a realized lane). */
  recovered: number;
  /** Retries made: expected along the failing path (retry k is made if the k − 1 before failed), counted for a realized lane. */
  retries: number;
  /** The first attempt's decline code, grouped as issue 16's strategy table groups them (declineGroup). */
  group: DeclineGroup;
  /** Hours from the first decline to the first retry; null when it was never retried. */
  firstRetryHours: number | null;
}

export const DECLINE_GROUPS = ['technical', 'processing', 'try-later', 'limit', 'nsf', 'generic', 'expired', 'hard', 'other'] as const;
export type DeclineGroup = (typeof DECLINE_GROUPS)[number];

/**
 * The group of a first decline, by the code the merchant (and the planner) saw — not the customer's
 * hidden bucket, so a renewal that met an issuer outage counts as technical, as it looked. The groups
 * are the rows of seed 003's strategy table in issue 16; the rest are `hard` (the engine's hard
 * category: never retried) or `other` (soft codes outside the table, e.g. restricted_card).
 */
export function declineGroup(code: string | null, category: string | null): DeclineGroup {
  switch (code) {
    case 'network_timeout': case 'gateway_error': case 'issuer_unavailable': return 'technical';
    case 'processing_error': return 'processing';
    case 'try_again_later': return 'try-later';
    case 'exceeds_limit': case 'card_velocity_exceeded': return 'limit';
    case 'insufficient_funds': return 'nsf';
    case 'generic_decline': case 'do_not_honor': return 'generic';
    case 'expired_card': return 'expired';
    default: return category === 'hard' ? 'hard' : 'other';
  }
}

export interface Violations {
  hardRetries: number;
  limitBreaches: number;
  doubleCharges: number;
}

interface AttemptRow {
  payment_id: string;
  customer_index: string | null;
  payment_method: string;
  amount: string;
  number: number;
  status: string;
  attempted_at: Date;
  decline_category: string | null;
  decline_code: string | null;
  card_was_updated: boolean;
}

/** The account's renewals whose first attempt declined in [from, to), and the rules it broke. */
export async function measure(db: Db, accountId: string, from: Date, to: Date, o: { failingPath: boolean }): Promise<{ renewals: Renewal[]; violations: Violations }> {
  const rows = (await sql<AttemptRow>`
    select a.payment_id, p.metadata->>'customer_index' as customer_index, p.payment_method, p.amount, a.number, a.status,
      a.attempted_at, a.decline_category, a.decline_code, a.card_was_updated
    from payments p
    join attempts f on f.payment_id = p.id and f.number = 1 and f.status = 'failed'
    join attempts a on a.payment_id = p.id and a.status in ('succeeded', 'failed')
    where p.account_id = ${accountId} and f.attempted_at >= ${from} and f.attempted_at < ${to}
    order by a.payment_id, a.number`.execute(db)).rows;
  const byPayment = new Map<string, AttemptRow[]>();
  for (const r of rows) byPayment.set(r.payment_id, [...(byPayment.get(r.payment_id) ?? []), r]);
  const renewals: Renewal[] = [];
  let hardRetries = 0;
  let doubleCharges = 0;
  for (const attempts of byPayment.values()) {
    const first = attempts[0]!;
    const retries = attempts.slice(1);
    const amount = Number(first.amount);
    const successes = attempts.filter((a) => a.status === 'succeeded');
    if (first.decline_category === 'hard' && retries.length > 0) hardRetries++;
    if (successes.length > 1) doubleCharges++;
    const daysOf = (a: AttemptRow) => (a.attempted_at.getTime() - first.attempted_at.getTime()) / DAY;
    const { outcomes, expectedRetries } = o.failingPath
      ? failingPathOutcomes(first, retries, amount, daysOf)
      : { outcomes: successes.length > 0 ? [{ days: daysOf(successes[0]!), p: 1 }] : [], expectedRetries: retries.length };
    renewals.push({
      key: `${first.customer_index}|${first.attempted_at.toISOString()}`,
      customer: first.customer_index ?? first.payment_id,
      bucket: simulatedProfile(parseSimToken(first.payment_method)!.seed).firstDecline.bucket,
      amount,
      outcomes,
      recovered: outcomes.reduce((a, x) => a + x.p, 0),
      retries: expectedRetries,
      group: declineGroup(first.decline_code, first.decline_category),
      firstRetryHours: retries.length > 0 ? (retries[0]!.attempted_at.getTime() - first.attempted_at.getTime()) / 3_600_000 : null,
    });
  }
  return { renewals, violations: { hardRetries, limitBreaches: await networkLimitBreaches(db, accountId, from), doubleCharges } };
}

/** Along the failing path: retry k recovers with P(the k − 1 before failed)·p_k, and is made with P(they failed). */
function failingPathOutcomes(first: AttemptRow, retries: readonly AttemptRow[], amount: number, daysOf: (a: AttemptRow) => number) {
  const outcomes: { days: number; p: number }[] = [];
  let reached = 1;
  let expectedRetries = 0;
  let replaced = false;
  for (const a of retries) {
    replaced ||= a.card_was_updated;
    const p = trueRetryChance(first.payment_method, { atMs: a.attempted_at.getTime(), firstMs: first.attempted_at.getTime(), amount, retryNumber: a.number - 1, replaced });
    expectedRetries += reached;
    if (p > 0) outcomes.push({ days: daysOf(a), p: reached * p });
    reached *= 1 - p;
  }
  return { outcomes, expectedRetries };
}

/** Replays every merchant retry on each card against the card's history before it. */
async function networkLimitBreaches(db: Db, accountId: string, from: Date): Promise<number> {
  const attempts = (await sql<{ card_fingerprint: string; card_brand: string; attempted_at: Date; status: 'succeeded' | 'failed'; decline_code: string | null; advice_code: string | null; number: number }>`
    select card_fingerprint, card_brand, attempted_at, status, decline_code, advice_code, number from attempts
    where account_id = ${accountId} and status in ('succeeded', 'failed') order by card_fingerprint, attempted_at`.execute(db)).rows;
  let breaches = 0;
  let card = '';
  let history: CardAttemptRecord[] = [];
  for (const a of attempts) {
    if (a.card_fingerprint !== card) {
      card = a.card_fingerprint;
      history = [];
    }
    if (a.number > 1 && a.attempted_at >= from && !checkNetworkRules({ brand: a.card_brand as CardBrand, history, at: a.attempted_at }).allowed) breaches++;
    history.push({ at: a.attempted_at, outcome: a.status, ...(a.decline_code ? { declineCode: a.decline_code } : {}), ...(a.advice_code ? { adviceCode: a.advice_code } : {}), initiator: 'merchant', reattempt: a.number > 1 });
  }
  return breaches;
}
