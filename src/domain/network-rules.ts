// Per-card network retry limits (DESIGN.md invariant 1). The networks change these numbers every year
// or two (Visa went from 15 to 20 in 2026), so they are configuration with today's values as defaults
// (research/anchors-and-network-rules.md §4, retry-facts.md §5).
//
// Windows are sliding and half-open: an entry counts when `at - window < entry.at <= at`. Entries after
// `at` are ignored so that backtests and replays see only the past.

import type { CardBrand, VisaCategory } from './decline-types.ts';

/** A count limit over a sliding window. */
export interface WindowLimit {
  max: number;
  windowHours: number;
}

export interface VisaRules {
  /** Merchant-initiated reattempts per card (Visa counts CIT and MIT separately). */
  merchantReattempts: WindowLimit;
  /** After a category 1 ("never approve") decline, no reattempt for this long. */
  category1BlockHours: number;
}

export interface MastercardRules {
  /** All authorisation attempts on the card, whoever initiated them. */
  attempts: WindowLimit;
  /** Declines on the card. */
  declines: WindowLimit;
  /** Merchant Advice Codes after which the card must not be retried. */
  stopAdviceCodes: readonly string[];
  stopAdviceBlockHours: number;
}

export type OtherBrand = Exclude<CardBrand, 'visa' | 'mastercard'>;

export interface NetworkRulesConfig {
  visa: VisaRules;
  mastercard: MastercardRules;
  /** Merchant-initiated reattempts per card for every other brand. */
  other: Record<OtherBrand, WindowLimit>;
}

const DAYS_30 = 30 * 24;

// Hyperswitch (#10206, #8870) applies 20 per card in 30 days to Amex and Discover; no separate Amex or
// Discover programme was found (anchors-and-network-rules.md §4), so every other brand uses the same.
const OTHER_DEFAULT: WindowLimit = { max: 20, windowHours: DAYS_30 };

export const DEFAULT_NETWORK_RULES: NetworkRulesConfig = {
  visa: {
    // Visa Core Rules 18 Apr 2026 / Checkout.com notice Mar 2026: 20 reattempts in 30 days, fee from the
    // 21st, separate CIT and MIT counters (was 15 in 30 days, 2021-2026).
    merchantReattempts: { max: 20, windowHours: DAYS_30 },
    // Visa: any reattempt after a category 1 decline is charged. We block it for the same 30-day
    // window the counters use; the issuer said "never", so callers get no retry date.
    category1BlockHours: DAYS_30,
  },
  mastercard: {
    // Mastercard Excessive Authorization Attempts, US, Nov 2023 (Braintree F23): more than 35 in 30 days.
    attempts: { max: 35, windowHours: DAYS_30 },
    // Mastercard TPE since Oct 2022 (IanFoxDev data/mastercard.json, citing Paya and Braintree):
    // 10 declines on the same card at the same merchant within 24 h (was 20).
    declines: { max: 10, windowHours: 24 },
    // MAC 03 "do not try again" and 21 "stop recurring": retrying within 30 days is charged (Maast, TabaPay).
    stopAdviceCodes: ['03', '21'],
    stopAdviceBlockHours: DAYS_30,
  },
  other: {
    amex: OTHER_DEFAULT,
    discover: OTHER_DEFAULT,
    jcb: OTHER_DEFAULT,
    diners: OTHER_DEFAULT,
    unionpay: OTHER_DEFAULT,
    unknown: OTHER_DEFAULT,
  },
};

export interface CardAttemptRecord {
  at: Date;
  outcome: 'succeeded' | 'failed';
  declineCode?: string;
  /** Mastercard Merchant Advice Code, two digits. */
  adviceCode?: string;
  visaCategory?: VisaCategory;
  initiator: 'merchant' | 'customer';
  /** true when this attempt retried an earlier declined one (the networks' "reattempt"). */
  reattempt: boolean;
}

export type NetworkRuleDecision =
  | { allowed: true }
  | { allowed: false; rule: string; reason: string; retryAfter: Date | null };

export interface CheckNetworkRulesInput {
  brand: CardBrand;
  /** This card's attempts across all payments of the account. */
  history: readonly CardAttemptRecord[];
  at: Date;
  config?: NetworkRulesConfig;
}

type Refusal = Extract<NetworkRuleDecision, { allowed: false }>;

const HOUR_MS = 3_600_000;

/** Whether one more merchant-initiated reattempt on this card at `at` stays within the network's rules. */
export function checkNetworkRules(input: CheckNetworkRulesInput): NetworkRuleDecision {
  const at = input.at.getTime();
  if (Number.isNaN(at)) throw new RangeError('checkNetworkRules: `at` is an invalid Date');
  const config = input.config ?? DEFAULT_NETWORK_RULES;
  const past = input.history.filter((h) => h.at.getTime() <= at);

  const refusals =
    input.brand === 'visa'
      ? visaRefusals(config.visa, past, at)
      : input.brand === 'mastercard'
        ? mastercardRefusals(config.mastercard, past, at)
        : otherRefusals(input.brand, config.other[input.brand], past, at);
  return strictest(refusals);
}

function visaRefusals(rules: VisaRules, past: readonly CardAttemptRecord[], at: number): Refusal[] {
  const out: Refusal[] = [];
  const cat1 = past.some(
    (h) => h.outcome === 'failed' && h.visaCategory === 1 && inWindow(h, at, rules.category1BlockHours),
  );
  if (cat1) {
    out.push({
      allowed: false,
      rule: 'visa_category_1',
      reason: 'Visa: the issuer declined this card as category 1 (never approve); no reattempt is allowed',
      retryAfter: null,
    });
  }
  const reattempts = past.filter((h) => h.initiator === 'merchant' && h.reattempt);
  const max = rules.merchantReattempts;
  const limit = windowLimit(reattempts, max, at);
  if (limit) {
    out.push({
      allowed: false,
      rule: 'visa_reattempts_30d',
      reason: `Visa: ${limit.count} merchant-initiated reattempts on this card in the last ${days(max)}; the limit is ${max.max}`,
      retryAfter: limit.retryAfter,
    });
  }
  return out;
}

function mastercardRefusals(rules: MastercardRules, past: readonly CardAttemptRecord[], at: number): Refusal[] {
  const out: Refusal[] = [];
  const stop = past.find(
    (h) =>
      h.adviceCode !== undefined &&
      rules.stopAdviceCodes.includes(normalizeMac(h.adviceCode)) &&
      inWindow(h, at, rules.stopAdviceBlockHours),
  );
  if (stop) {
    out.push({
      allowed: false,
      rule: 'mastercard_stop_advice',
      reason: `Mastercard: the issuer returned merchant advice code ${normalizeMac(stop.adviceCode ?? '')}; do not retry this card`,
      retryAfter: null,
    });
  }
  // Mastercard counts approval attempts on the card regardless of who started them, so customer-initiated
  // attempts use up the same budget.
  const attempts = windowLimit(past, rules.attempts, at);
  if (attempts) {
    out.push({
      allowed: false,
      rule: 'mastercard_attempts_30d',
      reason: `Mastercard: ${attempts.count} attempts on this card in the last ${days(rules.attempts)}; the limit is ${rules.attempts.max}`,
      retryAfter: attempts.retryAfter,
    });
  }
  const declines = windowLimit(
    past.filter((h) => h.outcome === 'failed'),
    rules.declines,
    at,
  );
  if (declines) {
    out.push({
      allowed: false,
      rule: 'mastercard_declines_24h',
      reason: `Mastercard: ${declines.count} declines on this card in the last ${rules.declines.windowHours} h; the limit is ${rules.declines.max}`,
      retryAfter: declines.retryAfter,
    });
  }
  return out;
}

function otherRefusals(
  brand: OtherBrand,
  limit: WindowLimit,
  past: readonly CardAttemptRecord[],
  at: number,
): Refusal[] {
  const reattempts = past.filter((h) => h.initiator === 'merchant' && h.reattempt);
  const hit = windowLimit(reattempts, limit, at);
  if (!hit) return [];
  return [
    {
      allowed: false,
      rule: 'reattempts_30d',
      reason: `${brand}: ${hit.count} merchant-initiated reattempts on this card in the last ${days(limit)}; the limit is ${limit.max}`,
      retryAfter: hit.retryAfter,
    },
  ];
}

/**
 * When several rules refuse, the caller needs all of them satisfied, so the binding one is a "never"
 * if any, else the one that clears last (counts in a sliding window only fall as time passes).
 */
function strictest(refusals: readonly Refusal[]): NetworkRuleDecision {
  let worst: Refusal | undefined;
  for (const r of refusals) {
    if (!worst) worst = r;
    else if (worst.retryAfter === null) break;
    else if (r.retryAfter === null || r.retryAfter.getTime() > worst.retryAfter.getTime()) worst = r;
  }
  return worst ?? { allowed: true };
}

function inWindow(h: CardAttemptRecord, at: number, windowHours: number): boolean {
  const t = h.at.getTime();
  return t <= at && t > at - windowHours * HOUR_MS;
}

/**
 * null when one more attempt fits under `limit`; otherwise the count and the first moment enough old
 * entries have left the window for one more to fit.
 */
function windowLimit(
  entries: readonly CardAttemptRecord[],
  limit: WindowLimit,
  at: number,
): { count: number; retryAfter: Date | null } | null {
  const windowMs = limit.windowHours * HOUR_MS;
  const times = entries
    .filter((h) => inWindow(h, at, limit.windowHours))
    .map((h) => h.at.getTime())
    .sort((a, b) => a - b);
  if (times.length < limit.max) return null;
  if (limit.max <= 0) return { count: times.length, retryAfter: null };
  // Dropping the oldest (count - max + 1) entries brings the count to max - 1; the last of those leaves
  // the window exactly `windowMs` after it happened.
  const pivot = times[times.length - limit.max] ?? at;
  return { count: times.length, retryAfter: new Date(pivot + windowMs) };
}

function normalizeMac(code: string): string {
  const c = code.trim();
  return /^\d$/.test(c) ? `0${c}` : c;
}

function days(limit: WindowLimit): string {
  return limit.windowHours % 24 === 0 ? `${limit.windowHours / 24} days` : `${limit.windowHours} h`;
}
