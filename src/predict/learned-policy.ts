// The learned retry schedule: choose the attempt times that maximise expected recovered revenue
// under a model of P(success at t), within the same budget every policy keeps (retries left, the
// window, never 01:00–04:00 local, MIN_RETRY_GAP_MS apart, a Mastercard advice-code delay). Replanned
// after every failed retry like the rule-based schedule. A small, bounded share of plans explores:
// the first retry goes to another allowed slot, chosen by a hash of the payment and retry number,
// so runs are reproducible and the model keeps seeing outcomes off its own optimum.
//
// Pure: the model comes in as a scorer, the customer's learned payday calendar as a fit.

import type { PlanInput } from '../domain/schedule-policy.ts';
import { adviceCodeDelayMs, MIN_RETRY_GAP_MS } from '../domain/schedule-policy.ts';
import { isValidTimeZone, localMinuteOfDay } from '../domain/local-time.ts';
import { hash32, toUnit } from '../gateways/sandbox/hash.ts';
import { declineGroup, localClock, type CardContext, type RetryFeatureInput } from './features.ts';
import { describeFamily, type PaydayFit } from './payday.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const QUIET_FROM = 60;
const QUIET_UNTIL = 240;

/** Local times of day (minutes) offered each day: just after midnight (limits reset), morning, afternoon, evening. */
const DAILY_SLOTS = [10, 9 * 60, 13 * 60, 18 * 60, 22 * 60];
/** Hour-scale offsets after the failure, for technical errors. */
const NEAR_OFFSETS = [0, HOUR, 4 * HOUR + 10 * MINUTE];

/** The share of plans that explore (at most; bounded by EXPLORATION_MAX). */
export const DEFAULT_EXPLORATION_SHARE = 0.05;
export const EXPLORATION_MAX = 0.2;
/** What one attempt costs, as a share of the amount (network fees, issuer goodwill): tiny chances are not worth a try. */
export const ATTEMPT_COST_SHARE = 0.01;

export type Scorer = (f: RetryFeatureInput) => number;

export interface LearnedContext {
  score: Scorer;
  amount: number;
  brand: string;
  paymentMethodType: string;
  payday: PaydayFit;
  /** Funding, country, the customer's creation, a replaced card: unknown when absent. */
  card?: CardContext;
  /** Names the payment for the exploration draw (its id). */
  explorationKey: string;
  explorationShare?: number;
}

export interface PlannedSlot {
  at: Date;
  /** Predicted probability that this retry succeeds, given that the ones before it failed. */
  p: number;
  reason: string;
}

function inQuiet(atMs: number, tz: string): boolean {
  const m = localMinuteOfDay(new Date(atMs), tz);
  return m >= QUIET_FROM && m < QUIET_UNTIL;
}

/** The instants a plan may use, ascending: all inside the budget's rules. */
export function candidateSlots(input: PlanInput, tz: string): number[] {
  const failed = input.failedAt.getTime();
  const earliest = failed + Math.max(MIN_RETRY_GAP_MS, adviceCodeDelayMs(input.decline.adviceCode));
  const end = input.windowEndsAt.getTime();
  const out = new Set<number>();
  for (const o of NEAR_OFFSETS) out.add(Math.max(earliest, failed + o));
  const firstDay = localClock(failed, tz).day;
  const lastDay = localClock(end, tz).day;
  for (let d = firstDay; d <= lastDay && d <= firstDay + 62; d++) {
    for (const m of DAILY_SLOTS) {
      // Local wall time → instant, with the offset taken near that time (fixed-offset and DST zones).
      const guess = d * DAY + m * MINUTE;
      const off1 = localClock(guess, tz);
      const offsetMs = (off1.day * DAY + off1.minute * MINUTE) - guess;
      const at = guess - offsetMs;
      out.add(at);
    }
  }
  return [...out]
    .filter((t) => Number.isFinite(t) && t >= earliest && t - failed >= MIN_RETRY_GAP_MS && t <= end && !inQuiet(t, tz))
    .sort((a, b) => a - b);
}

/** The plan: up to retriesLeft slots maximising E[recovered amount] − cost·E[attempts]. */
export function learnedPlan(input: PlanInput, ctx: LearnedContext): PlannedSlot[] {
  if (input.decline.category === 'hard' || input.decline.strategy === 'never') return [];
  const n = Math.max(0, Math.floor(input.retriesLeft));
  if (n === 0 || input.windowEndsAt.getTime() <= input.failedAt.getTime()) return [];
  const tz = isValidTimeZone(input.timezone) ? input.timezone : 'UTC';
  const slots = candidateSlots(input, tz);
  const S = slots.length;
  if (S === 0) return [];

  const failed = input.failedAt.getTime();
  const feature = (j: number, k: number): RetryFeatureInput => ({
    declineCode: input.decline.code,
    strategy: input.decline.strategy,
    adviceCode: input.decline.adviceCode ?? null,
    retryNumber: input.retriesMade + 1 + k,
    rescueStartedAtMs: input.rescueStartedAt.getTime(),
    // Later retries follow an earlier planned one; a day is the typical gap the plan leaves.
    lastAttemptAtMs: k === 0 ? failed : slots[j]! - DAY,
    atMs: slots[j]!,
    timezone: tz,
    brand: ctx.brand,
    paymentMethodType: ctx.paymentMethodType,
    amount: ctx.amount,
    payday: ctx.payday,
    ...ctx.card,
  });
  const p: number[][] = Array.from({ length: n }, (_, k) => slots.map((_, j) => clamp01(ctx.score(feature(j, k)))));
  // next[j]: the first slot at least MIN_RETRY_GAP_MS after slot j.
  const next = new Array<number>(S);
  for (let j = 0, i = 0; j < S; j++) {
    while (i < S && slots[i]! - slots[j]! < MIN_RETRY_GAP_MS) i++;
    next[j] = i;
  }
  const cost = ATTEMPT_COST_SHARE;
  // best[k][j]: value (per unit of amount) of the best plan whose retry k is at slot ≥ j; choice[k][j] its slot (-1: stop).
  const best = Array.from({ length: n + 1 }, () => new Array<number>(S + 1).fill(0));
  const choice = Array.from({ length: n + 1 }, () => new Array<number>(S + 1).fill(-1));
  for (let k = n - 1; k >= 0; k--) {
    for (let j = S - 1; j >= 0; j--) {
      const q = p[k]![j]!;
      const here = q - cost + (1 - q) * best[k + 1]![next[j]!]!;
      const skip = best[k]![j + 1]!;
      // Ties go to the earlier slot: the same expected value, recovered sooner (and a plan of equal
      // chances does not bunch its retries at the end of the window).
      if (here >= skip - 1e-12 && here > 0) {
        best[k]![j] = here;
        choice[k]![j] = j;
      } else {
        best[k]![j] = skip;
        choice[k]![j] = choice[k]![j + 1]!;
      }
    }
  }

  const out: PlannedSlot[] = [];
  let from = 0;
  const share = Math.min(EXPLORATION_MAX, Math.max(0, ctx.explorationShare ?? DEFAULT_EXPLORATION_SHARE));
  const draw = toUnit(hash32(`explore|${ctx.explorationKey}|${input.retriesMade}`));
  if (draw < share) {
    const j = Math.min(S - 1, Math.floor(toUnit(hash32(`slot|${ctx.explorationKey}|${input.retriesMade}`)) * S));
    out.push({ at: new Date(slots[j]!), p: p[0]![j]!, reason: `exploring another time (${Math.round(share * 100)}% of plans do) so the model keeps learning; ${pct(p[0]![j]!)} predicted` });
    from = next[j]!;
  }
  for (let k = out.length; k < n && from < S; k++) {
    const j = choice[k]![from]!;
    if (j < 0) break;
    out.push({ at: new Date(slots[j]!), p: p[k]![j]!, reason: reasonFor(input, ctx, slots[j]!, p[k]![j]!, tz) });
    from = next[j]!;
  }
  return out;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

const pct = (p: number) => `${Math.round(p * 100)}%`;

/** One line a merchant can read: what the decline needs, and why this moment. */
export function reasonFor(input: PlanInput, ctx: LearnedContext, atMs: number, p: number, tz: string): string {
  const days = (atMs - input.rescueStartedAt.getTime()) / DAY;
  const when = days < 1 ? `${Math.max(1, Math.round(days * 24))} h after the decline` : `day ${Math.round(days)} after the decline`;
  let why: string;
  switch (declineGroup(input.decline.code, input.decline.strategy)) {
    case 'nsf':
      why = ctx.payday.family === 'generic'
        ? `insufficient funds; timed for a likely payday (${describeFamily('generic')})`
        : `insufficient funds; this customer's last ${ctx.payday.hits} recovered payments came within 2 days of ${describeFamily(ctx.payday.family)}`;
      break;
    case 'hold':
      why = 'the issuer asked to try later; temporary holds usually clear within days';
      break;
    case 'velocity':
      why = `a card limit was reached; after it resets (${localClock(atMs, tz).minute < 60 ? 'just after local midnight' : 'a new day'})`;
      break;
    case 'technical':
      why = 'a technical error; once such faults have usually cleared';
      break;
    case 'expired':
      why = 'an expired card; after the account updater has had time to refresh it';
      break;
    default:
      why = `${input.decline.code.replaceAll('_', ' ')}; each retry's chance falls, so the best remaining time is used`;
  }
  return `${why}; ${when}, ${pct(p)} predicted`;
}
