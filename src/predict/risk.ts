// Pre-charge risk (POST /api/predict/risk): the chance, 0–100, that charging this payment method now
// declines, from the card's own history in `attempts` and the retry-timing model. Pure.
//
// How the score is made (documented in docs/prediction.md):
// - a hard decline (fraud, closed account, …) since the card last succeeded → 95, block (a rule: the
//   issuer said never, and networks charge for retrying it);
// - a card network rule forbids another merchant reattempt now (Visa 20 / 30 days, Mastercard 10
//   declines / 24 h, advice code 03/21, …) → at least 90, block;
// - no history → the network's 7% renewal failure rate (research/retry-facts.md §S.1);
// - otherwise the calibrated risk model (risk-model.ts): a retry after the card's latest soft decline
//   reads the retry-timing model's P(success now) and the card's earlier rescues; a fresh charge reads
//   the card's first-charge decline rate, brand, the local night and the amount.
// Recommendation: < 25 proceed, < 50 proceed_with_caution, < 80 delay, ≥ 80 block.

import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { CardBrand } from '../domain/decline-types.ts';
import { checkNetworkRules, DEFAULT_NETWORK_RULES, type CardAttemptRecord } from '../domain/network-rules.ts';
import { localClock } from './features.ts';
import type { Scorer } from './learned-policy.ts';
import { fitPayday } from './payday.ts';
import prior from './prior-risk.json' with { type: 'json' };
import { BASE_DECLINE_RATE, riskProbability, type RiskModel, type RiskSituation } from './risk-model.ts';
import type { CardContext } from './features.ts';

const DAY_MS = 86_400_000;
export { BASE_DECLINE_RATE };
/** The shipped risk model, fitted on the sandbox card network (`npm run train:models-prior`). */
export const PRIOR_RISK_MODEL = prior as RiskModel;
export const RISK_THRESHOLDS = { caution: 25, delay: 50, block: 80 } as const;
export const DEFAULT_RISK_THRESHOLD = 70;

export type Recommendation = 'proceed' | 'proceed_with_caution' | 'delay' | 'block';

export interface CardAttempt {
  at: Date;
  status: 'succeeded' | 'failed';
  /** 1 for a renewal's first attempt, >1 for retries. */
  number: number;
  amount: number;
  declineCode: string | null;
  declineCategory: string | null;
  adviceCode: string | null;
}

export interface RiskInput {
  brand: string;
  paymentMethodType: string;
  /** The card's finished attempts, any order. */
  history: readonly CardAttempt[];
  amount: number;
  now: Date;
  timezone: string;
  score: Scorer;
  /** The card's funding, country, customer tenure and replacement, passed to the retry model. */
  card?: CardContext;
  /** The fitted risk model; the shipped prior when absent. */
  model?: RiskModel;
}

export interface RiskPrediction {
  riskScore: number;
  recommendation: Recommendation;
  reasoning: string;
}

export function recommendationFor(score: number): Recommendation {
  if (score >= RISK_THRESHOLDS.block) return 'block';
  if (score >= RISK_THRESHOLDS.delay) return 'delay';
  if (score >= RISK_THRESHOLDS.caution) return 'proceed_with_caution';
  return 'proceed';
}

const brandOf = (b: string): CardBrand =>
  (['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay'].includes(b) ? b : 'unknown') as CardBrand;

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Whether the fitted model scores this charge, and from what; null when a rule does (see above). */
export function riskSituation(input: RiskInput): { situation: RiskSituation; reason: string } | null {
  const now = input.now.getTime();
  const past = pastOf(input);
  if (past.length === 0) return null;
  let lastSuccess = -1;
  past.forEach((a, i) => { if (a.status === 'succeeded') lastSuccess = i; });
  const open = past.slice(lastSuccess + 1);
  if (open.some((a) => a.declineCategory === 'hard')) return null;
  const night = isNight(now, input.timezone);
  const approved = past.filter((a) => a.status === 'succeeded').map((a) => a.amount);
  if (open.length === 0) {
    const firsts = past.filter((a) => a.number === 1);
    const declines = firsts.filter((a) => a.status === 'failed').length;
    return {
      situation: { kind: 'fresh', firstCharges: firsts.length, firstChargeDeclines: declines, creditOnlyBrand: input.brand === 'amex' || input.brand === 'discover', night, amountOverApproved: approved.length > 0 && input.amount > 1.5 * Math.max(...approved) },
      reason: `${declines} of its ${plural(firsts.length, 'first charge')} declined and its last charge succeeded`,
    };
  }
  const first = open[0]!;
  const latest = open[open.length - 1]!;
  const decline = classifyDecline({ code: latest.declineCode, adviceCode: latest.adviceCode, brand: brandOf(input.brand), count: false });
  const successes = past.filter((a) => a.status === 'succeeded' && a.number > 1).map((a) => localClock(a.at.getTime(), input.timezone).day);
  const pSuccess = clamp01(input.score({
    declineCode: decline.code,
    strategy: decline.strategy,
    adviceCode: latest.adviceCode,
    retryNumber: open.length,
    rescueStartedAtMs: first.at.getTime(),
    lastAttemptAtMs: latest.at.getTime(),
    atMs: now,
    timezone: input.timezone,
    brand: input.brand,
    paymentMethodType: input.paymentMethodType,
    amount: input.amount,
    payday: fitPayday(successes),
    ...input.card,
  }));
  const earlier = earlierRescues(past.slice(0, lastSuccess + 1));
  const delays = earlier.filter((r) => r.recoveredAfterDays !== null).map((r) => r.recoveredAfterDays!);
  const elapsedDays = (now - first.at.getTime()) / DAY_MS;
  return {
    situation: { kind: 'retry', pSuccess, retryNumber: open.length, recoveredBefore: delays.length, lostBefore: earlier.length - delays.length, elapsedDays, shortestRecoveryDays: delays.length ? Math.min(...delays) : null, night },
    reason: `its latest charge declined (${decline.code}) ${ago(now - latest.at.getTime())} ago; the retry model gives a charge now a ${Math.round(pSuccess * 100)}% chance`
      + (delays.length ? `; ${plural(delays.length, 'earlier decline')} of this card recovered, the quickest after ${Math.round(Math.min(...delays) * 10) / 10} days` : ''),
  };
}

export function predictRisk(input: RiskInput): RiskPrediction {
  const now = input.now.getTime();
  const past = pastOf(input);
  const reasons: string[] = [];
  const declines30 = past.filter((a) => now - a.at.getTime() <= 30 * DAY_MS && a.status === 'failed').length;
  if (past.length === 0) reasons.push('No history for this payment method; scored at the network\'s 7% renewal failure rate');
  else reasons.push(`Card has ${plural(declines30, 'prior decline')} in last 30 days`);

  let lastSuccess = -1;
  past.forEach((a, i) => { if (a.status === 'succeeded') lastSuccess = i; });
  const open = past.slice(lastSuccess + 1); // failures since the card last succeeded
  const brand = brandOf(input.brand);

  let score: number;
  let floor = 0;
  const hard = open.find((a) => a.declineCategory === 'hard');
  const scored = riskSituation(input);
  if (hard) {
    score = 95;
    floor = 95;
    reasons.push(`a hard decline (${hard.declineCode ?? 'unknown'}) on ${hard.at.toISOString().slice(0, 10)} has not been followed by a success: the issuer will not approve it`);
  } else if (scored === null) {
    score = 100 * BASE_DECLINE_RATE;
  } else {
    score = 100 * riskProbability(input.model ?? PRIOR_RISK_MODEL, scored.situation);
    reasons.push(scored.reason);
    if (scored.situation.kind === 'fresh') {
      const n90 = past.filter((a) => now - a.at.getTime() <= 90 * DAY_MS);
      reasons.push(`${n90.filter((a) => a.status === 'failed').length} of its ${plural(n90.length, 'charge')} in 90 days declined`);
    }
  }

  const records: CardAttemptRecord[] = past.map((a) => ({
    at: a.at,
    outcome: a.status,
    ...(a.declineCode ? { declineCode: a.declineCode } : {}),
    ...(a.adviceCode ? { adviceCode: a.adviceCode } : {}),
    initiator: 'merchant' as const,
    reattempt: a.number > 1,
  }));
  const network = checkNetworkRules({ brand, history: records, at: input.now });
  if (!network.allowed) {
    floor = Math.max(floor, 90);
    reasons.push(`a network rule forbids charging it now (${network.reason})`);
  } else if (open.length > 0) {
    const limit = brand === 'visa' ? DEFAULT_NETWORK_RULES.visa.merchantReattempts : brand === 'mastercard' ? DEFAULT_NETWORK_RULES.mastercard.attempts : DEFAULT_NETWORK_RULES.other[brand];
    const used = records.filter((r) => (brand === 'mastercard' || r.reattempt) && now - r.at.getTime() < limit.windowHours * 3_600_000).length;
    const left = limit.max - used - 1;
    // Not in the score (it is no more likely to decline), but worth knowing before spending a retry.
    if (left < 3) reasons.push(`a retry now leaves ${plural(Math.max(0, left), 'reattempt')} under the network's limit of ${limit.max} in ${limit.windowHours / 24} days`);
  }
  const approved = past.filter((a) => a.status === 'succeeded').map((a) => a.amount);
  if (approved.length > 0 && input.amount > 1.5 * Math.max(...approved)) reasons.push(`the amount is over 1.5× the largest this card has approved (${Math.max(...approved)})`);
  else if (approved.length > 0 && approved.includes(input.amount)) reasons.push('the amount matches one this card has approved before');
  const riskScore = Math.round(Math.min(100, Math.max(floor, score)) * 10) / 10;
  return { riskScore, recommendation: recommendationFor(riskScore), reasoning: `${reasons.join('; ')}.` };
}

function pastOf(input: RiskInput): CardAttempt[] {
  const now = input.now.getTime();
  return input.history.filter((a) => a.at.getTime() <= now).sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The card's finished rescues (a first-charge decline and its retries) and how each ended. */
function earlierRescues(past: readonly CardAttempt[]): { recoveredAfterDays: number | null }[] {
  const out: { recoveredAfterDays: number | null }[] = [];
  let start: number | null = null;
  for (const a of past) {
    if (a.status === 'failed' && (start === null || a.number === 1)) {
      if (start !== null) out.push({ recoveredAfterDays: null });
      start = a.at.getTime();
    } else if (a.status === 'succeeded' && start !== null) {
      out.push({ recoveredAfterDays: (a.at.getTime() - start) / DAY_MS });
      start = null;
    }
  }
  return out;
}

/** 01:00–04:00 local, when issuers decline most (research/retry-facts.md §3). */
function isNight(atMs: number, timezone: string): boolean {
  const minute = localClock(atMs, timezone).minute;
  return minute >= 60 && minute < 240;
}

function ago(ms: number): string {
  return ms < DAY_MS ? `${Math.max(1, Math.round(ms / 3_600_000))} h` : `${Math.round(ms / DAY_MS)} days`;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
