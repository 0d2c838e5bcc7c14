// The learned retry schedule: choose the attempt times that maximise the value of what is
// recovered under a model of P(success at t), within the same budget every policy keeps (retries
// left, the window, never 01:00–04:00 local, a spacing between retries, a Mastercard advice-code
// delay). Replanned after every failed retry like the rule-based schedule.
//
// Three product decisions shape it (docs/prediction.md, "Learned schedule"):
// - Time has a price. A recovery's value falls with every day the customer waits unpaid, at the
//   account's daily churn hazard (default from Baremetrics' dunning data, see DEFAULT_DAILY_CHURN_HAZARD):
//   without it, a model that sees "later is a little likelier" waits for the end of the window.
// - Seed 003's strategy table is the prior. A rescue's first retry follows the table (technical
//   errors within minutes, processing errors in 24 h, "try later" in 24–48 h, a limit just after its
//   reset, insufficient funds on the next likely payday) until the account's own model has shown, on
//   its held-out retries of that decline group, that it predicts better than the shipped prior.
// - Spacing. After the first retry, retries are at least a day apart (4 h after a technical error):
//   issuers read bursts as abuse, Mastercard stops a card at 10 declines in 24 h and Visa at 20
//   merchant reattempts in 30 days (research/retry-facts.md §1 and "Network rules"); Stripe's default
//   is 8 tries in 2 weeks, not in 2 days.
//
// A small, bounded share of replans explores: a later retry goes to another allowed slot, chosen by a
// hash of the payment and retry number, so runs are reproducible and the model keeps seeing outcomes
// off its own optimum. Pure: the model comes in as a scorer, the customer's payday calendar as a fit.

import { DEFAULT_DAILY_CHURN_HAZARD } from '../domain/auto-rescue-policy.ts';
import type { PlanInput } from '../domain/schedule-policy.ts';
import { adviceCodeDelayMs, MIN_RETRY_GAP_MS } from '../domain/schedule-policy.ts';
import { isValidTimeZone, localMinuteOfDay } from '../domain/local-time.ts';
import { hash32, toUnit } from '../gateways/sandbox/hash.ts';
import { declineGroup, localClock, type CardContext, type DeclineGroup, type RetryFeatureInput } from './features.ts';
import { describeFamily, isPaydayOf, latestPaydayIn, PAYDAY_LAG_DAYS, type PaydayFit } from './payday.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const QUIET_FROM = 60;
const QUIET_UNTIL = 240;

/** Local times of day (minutes) offered each day: just after midnight (limits reset), morning, afternoon, evening. */
const DAILY_SLOTS = [10, 9 * 60, 13 * 60, 18 * 60, 22 * 60];
/** Hour-scale offsets after the failure, for technical errors. */
const NEAR_OFFSETS = [0, HOUR, 4 * HOUR + 10 * MINUTE];
/** A payday retry's local time: funds posted overnight are there by the morning. */
const PAYDAY_MINUTE = 9 * 60;
/** Just after a daily limit's reset at local midnight. */
const RESET_MINUTE = 10;

/** The share of plans that explore (at most; bounded by EXPLORATION_MAX). */
export const DEFAULT_EXPLORATION_SHARE = 0.05;
export const EXPLORATION_MAX = 0.2;
/** What one attempt costs, as a share of the amount (network fees, issuer goodwill): tiny chances are not worth a try. */
export const ATTEMPT_COST_SHARE = 0.01;

// The price of time: DEFAULT_DAILY_CHURN_HAZARD (src/domain/auto-rescue-policy.ts says where it comes from).
export { DEFAULT_DAILY_CHURN_HAZARD };

// The shape of the hazard over the days, from the same Baremetrics figures (research/peers-2026.md):
// recovery per email 13.3% on day 0, 11.5% on day 7, 4.2% on day 15 — slow in the first week
// (ln(13.3/11.5)/7 = 0.021 a day), fast after it (ln(11.5/4.2)/8 = 0.126 a day). As multiples of the
// 15-day average (ln(13.3/4.2)/15 = 0.077), so an account's one number scales the whole curve.
const FIRST_WEEK_DAYS = 7;
const FIRST_WEEK_FACTOR = Math.log(13.3 / 11.5) / 7 / (Math.log(13.3 / 4.2) / 15);
const LATER_FACTOR = Math.log(11.5 / 4.2) / 8 / (Math.log(13.3 / 4.2) / 15);

/**
 * What a recovery `days` after the first decline is worth, per unit of the amount, at an average
 * daily hazard h: e^(−∫hazard). With the default h = 0.077 a day-7 recovery keeps 86% of its value,
 * a day-10 one 59%, a day-15 one 32% — waiting for a payday or a cleared hold inside the first week
 * costs little, a retry planned late in a long window must earn its place.
 */
export function recoveryValue(days: number, hazard: number): number {
  const early = Math.min(days, FIRST_WEEK_DAYS);
  const late = Math.max(0, days - FIRST_WEEK_DAYS);
  return Math.exp(-hazard * (FIRST_WEEK_FACTOR * early + LATER_FACTOR * late));
}

/** After the first retry, the least time between two retries of the same rescue (see the header). */
export function retrySpacingMs(group: DeclineGroup, strategy: string): number {
  // Recurly retries communication errors at 4 h intervals (research/retry-facts.md §1).
  if (group === 'technical' && strategy === 'immediate') return 4 * HOUR;
  return DAY;
}

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
  /** Value lost per day unpaid (DEFAULT_DAILY_CHURN_HAZARD when absent). */
  dailyChurnHazard?: number;
  /**
   * Decline groups whose first retry the model may place itself: the account's own model predicted
   * that group's held-out retries better than the shipped prior (or the model is exact, as the
   * benchmark's oracle). Elsewhere the first retry follows seed 003's strategy table.
   */
  freeGroups?: ReadonlySet<DeclineGroup> | 'all';
  /** Names the model in reasons when it, not the seed table, chose an instant ("this account's model"). */
  modelLabel?: string;
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

/** Local day number + minute of day → instant, with the offset taken near that time (fixed-offset and DST zones). */
function atLocal(day: number, minute: number, tz: string): number {
  const guess = day * DAY + minute * MINUTE;
  const off1 = localClock(guess, tz);
  const offsetMs = (off1.day * DAY + off1.minute * MINUTE) - guess;
  return guess - offsetMs;
}

/** Out of 01:00–04:00 local: the end of the quiet hours that day. */
function afterQuiet(atMs: number, tz: string): number {
  if (!inQuiet(atMs, tz)) return atMs;
  return atLocal(localClock(atMs, tz).day, QUIET_UNTIL, tz);
}

/** The first instant a retry may take: the minimum gap, an advice-code delay, and after a retry the spacing. */
function earliestRetry(input: PlanInput): number {
  const group = declineGroup(input.decline.code, input.decline.strategy);
  const spacing = input.retriesMade > 0 ? retrySpacingMs(group, input.decline.strategy) : 0;
  return input.failedAt.getTime() + Math.max(MIN_RETRY_GAP_MS, adviceCodeDelayMs(input.decline.adviceCode), spacing);
}

/** The instants a plan may use, ascending: all inside the budget's rules. */
export function candidateSlots(input: PlanInput, tz: string, extra: readonly number[] = []): number[] {
  const failed = input.failedAt.getTime();
  const earliest = earliestRetry(input);
  const end = input.windowEndsAt.getTime();
  const out = new Set<number>(extra);
  for (const o of NEAR_OFFSETS) out.add(Math.max(earliest, failed + o));
  const firstDay = localClock(failed, tz).day;
  const lastDay = localClock(end, tz).day;
  for (let d = firstDay; d <= lastDay && d <= firstDay + 62; d++) {
    for (const m of DAILY_SLOTS) out.add(atLocal(d, m, tz));
  }
  return [...out]
    .filter((t) => Number.isFinite(t) && t >= earliest && t <= end && !inQuiet(t, tz))
    .sort((a, b) => a - b);
}

export interface SeedFirstRetry {
  at: number;
  reason: string;
}

/**
 * Seed 003's strategy for the first retry after a decline (its "Decline Categories and Handling"
 * table), as an instant; null for declines the table leaves to the model (generic declines) or when
 * the instant falls past the window.
 */
export function seedFirstRetry(input: PlanInput, payday: PaydayFit, tz: string): SeedFirstRetry | null {
  const failed = input.failedAt.getTime();
  const earliest = earliestRetry(input);
  const failDay = localClock(failed, tz).day;
  let at: number;
  let reason: string;
  switch (input.decline.strategy) {
    case 'immediate':
      at = afterQuiet(earliest, tz);
      reason = 'a technical error or issuer outage; retried right away (seed strategy: immediate retry), as such faults usually clear within minutes to hours';
      break;
    case 'in_24h':
      at = afterQuiet(Math.max(earliest, failed + DAY), tz);
      reason = 'a processing error; retried 24 hours later (seed strategy: retry in 24 hours)';
      break;
    case 'in_24_48h': {
      // 30 h on, then the next business-hours instant: inside 24–48 h whatever the failure's time.
      const base = Math.max(earliest, failed + 30 * HOUR);
      const c = localClock(base, tz);
      at = c.minute >= 9 * 60 && c.minute < 18 * 60 ? base : c.minute < 9 * 60 ? atLocal(c.day, 9 * 60, tz) : atLocal(c.day + 1, 9 * 60, tz);
      if (at - failed > 48 * HOUR && earliest <= failed + 48 * HOUR) at = Math.max(earliest, failed + 48 * HOUR - HOUR);
      reason = 'the issuer asked to try later; retried within 24–48 hours (seed strategy), in business hours';
      break;
    }
    case 'after_limit_reset':
      at = Math.max(earliest, atLocal(failDay + 1, RESET_MINUTE, tz));
      reason = "a card limit was reached; retried just after it resets at the customer's local midnight (seed strategy: after the limit resets)";
      break;
    case 'after_payday': {
      at = NaN;
      for (let d = failDay + 1; d <= failDay + 40; d++) {
        if (!isPaydayOf(payday.family, d)) continue;
        at = Math.max(earliest, atLocal(d, PAYDAY_MINUTE, tz));
        if (localClock(at, tz).day === d) break;
      }
      const calendar = payday.family === 'generic'
        ? `a likely payday (${describeFamily('generic')})`
        : `this customer's payday (${describeFamily(payday.family)}, from their last ${payday.hits} recovered payments)`;
      reason = `insufficient funds; retried on the morning of ${calendar} (seed strategy: after payday)`;
      break;
    }
    case 'after_card_update':
      at = earliest;
      reason = 'the card needs new details; not charged again until a new card arrives (account updater, update-payment page, Stripe or your gateway), then retried at once';
      break;
    default:
      return null;
  }
  at = afterQuiet(at, tz);
  if (!Number.isFinite(at) || at > input.windowEndsAt.getTime()) return null;
  return { at, reason };
}

interface PlanTable {
  tz: string;
  slots: number[];
  /** p[k][j]: the chance that retry k at slot j succeeds. */
  p: number[][];
  /** What a recovery at slot j is worth, per unit of the amount. */
  value: number[];
  /** next[j]: the first slot at least the spacing after slot j. */
  next: number[];
  /** best[k][j]: value of the best plan whose retry k is at slot ≥ j; choice[k][j] its slot (-1: stop). */
  best: number[][];
  choice: number[][];
  /** The first retry seed 003's table places, when it does. */
  seed: SeedFirstRetry | null;
  n: number;
}

/** The dynamic programme behind a plan: every allowed instant, its chance, its worth, and the best plan from it. */
function planTable(input: PlanInput, ctx: LearnedContext): PlanTable | null {
  if (input.decline.category === 'hard' || input.decline.strategy === 'never') return null;
  const n = Math.max(0, Math.floor(input.retriesLeft));
  if (n === 0 || input.windowEndsAt.getTime() <= input.failedAt.getTime()) return null;
  const tz = isValidTimeZone(input.timezone) ? input.timezone : 'UTC';
  const group = declineGroup(input.decline.code, input.decline.strategy);
  const free = ctx.freeGroups === 'all' || (ctx.freeGroups?.has(group) ?? false);
  // The seed table places the rescue's first retry (and a dead card always waits for a new one).
  const seed = (input.retriesMade === 0 && !free) || input.decline.strategy === 'after_card_update' ? seedFirstRetry(input, ctx.payday, tz) : null;
  const slots = candidateSlots(input, tz, seed ? [seed.at] : []);
  const S = slots.length;
  if (S === 0) return null;

  const failed = input.failedAt.getTime();
  const started = input.rescueStartedAt.getTime();
  const spacing = retrySpacingMs(group, input.decline.strategy);
  const feature = (j: number, k: number): RetryFeatureInput => ({
    declineCode: input.decline.code,
    strategy: input.decline.strategy,
    adviceCode: input.decline.adviceCode ?? null,
    retryNumber: input.retriesMade + 1 + k,
    rescueStartedAtMs: started,
    // Later retries follow an earlier planned one, at least the spacing before.
    lastAttemptAtMs: k === 0 ? failed : slots[j]! - spacing,
    atMs: slots[j]!,
    timezone: tz,
    brand: ctx.brand,
    paymentMethodType: ctx.paymentMethodType,
    amount: ctx.amount,
    payday: ctx.payday,
    ...ctx.card,
  });
  const p: number[][] = Array.from({ length: n }, (_, k) => slots.map((_, j) => clamp01(ctx.score(feature(j, k)))));
  const hazard = Math.max(0, ctx.dailyChurnHazard ?? DEFAULT_DAILY_CHURN_HAZARD);
  const value = slots.map((t) => recoveryValue(Math.max(0, t - started) / DAY, hazard));
  const next = new Array<number>(S);
  for (let j = 0, i = 0; j < S; j++) {
    while (i < S && slots[i]! - slots[j]! < spacing) i++;
    next[j] = i;
  }
  const best = Array.from({ length: n + 1 }, () => new Array<number>(S + 1).fill(0));
  const choice = Array.from({ length: n + 1 }, () => new Array<number>(S + 1).fill(-1));
  for (let k = n - 1; k >= 0; k--) {
    for (let j = S - 1; j >= 0; j--) {
      const here = valueAt({ p, value, next, best }, k, j);
      const skip = best[k]![j + 1]!;
      // Ties go to the earlier slot: the same value, recovered sooner.
      if (here >= skip - 1e-12 && here > 0) {
        best[k]![j] = here;
        choice[k]![j] = j;
      } else {
        best[k]![j] = skip;
        choice[k]![j] = choice[k]![j + 1]!;
      }
    }
  }
  return { tz, slots, p, value, next, best, choice, seed, n };
}

/** Retry k at slot j: its chance times its worth, less its cost, then the best of what follows if it fails. */
function valueAt(t: Pick<PlanTable, 'p' | 'value' | 'next' | 'best'>, k: number, j: number): number {
  const q = t.p[k]![j]!;
  return q * t.value[j]! - ATTEMPT_COST_SHARE + (1 - q) * t.best[k + 1]![t.next[j]!]!;
}

export interface ValuedInstant {
  at: number;
  p: number;
  /** Per unit of the amount: the objective's value of the best plan whose next retry is here. */
  value: number;
}

/**
 * Every allowed instant for the next retry with the value the planner gives it, best first, and the
 * instant the plan takes (`planned`: the seed table's when it holds the first retry, else the best).
 */
export function nextRetryValues(input: PlanInput, ctx: LearnedContext): { planned: ValuedInstant; seedPlaced: boolean; all: ValuedInstant[] } | null {
  const t = planTable(input, ctx);
  if (!t) return null;
  const all = t.slots.map((at, j) => ({ at, p: t.p[0]![j]!, value: valueAt(t, 0, j) }));
  const plannedAt = t.seed ? t.seed.at : t.choice[0]![0]! >= 0 ? t.slots[t.choice[0]![0]!]! : null;
  if (plannedAt === null) return null;
  const planned = all.find((v) => v.at === plannedAt)!;
  all.sort((a, b) => b.value - a.value || (a.at === plannedAt ? -1 : b.at === plannedAt ? 1 : a.at - b.at));
  return { planned, seedPlaced: t.seed !== null, all };
}

/** The plan: up to retriesLeft slots maximising Σ P(reached)·(p·value(t) − cost), value falling with time. */
export function learnedPlan(input: PlanInput, ctx: LearnedContext): PlannedSlot[] {
  const t = planTable(input, ctx);
  if (!t) return [];
  const { slots, p, next, choice, seed, n, tz } = t;
  const S = slots.length;
  const out: PlannedSlot[] = [];
  let from = 0;
  if (seed) {
    const j = slots.indexOf(seed.at);
    out.push({ at: new Date(seed.at), p: p[0]![j]!, reason: `${seed.reason}; ${whenOf(input, seed.at)}, ${pct(p[0]![j]!)} predicted` });
    // A dead card is charged again only with new details: after that retry, the plan is made anew.
    if (input.decline.strategy === 'after_card_update') return out;
    from = next[j]!;
  } else {
    const share = Math.min(EXPLORATION_MAX, Math.max(0, ctx.explorationShare ?? DEFAULT_EXPLORATION_SHARE));
    const draw = toUnit(hash32(`explore|${ctx.explorationKey}|${input.retriesMade}`));
    if (draw < share) {
      const j = Math.min(S - 1, Math.floor(toUnit(hash32(`slot|${ctx.explorationKey}|${input.retriesMade}`)) * S));
      out.push({ at: new Date(slots[j]!), p: p[0]![j]!, reason: `exploring another time (${Math.round(share * 100)}% of plans do) so the model keeps learning; ${whenOf(input, slots[j]!)}, ${pct(p[0]![j]!)} predicted` });
      from = next[j]!;
    }
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

function whenOf(input: PlanInput, atMs: number): string {
  const hours = (atMs - input.rescueStartedAt.getTime()) / HOUR;
  if (hours < 1) return `${Math.max(1, Math.round(hours * 60))} min after the decline`;
  if (hours < 48) return `${Math.round(hours)} h after the decline`;
  return `day ${Math.round(hours / 24)} after the decline`;
}

/** One line a merchant can read: what the decline needs, and why this moment — true of the instant it names. */
export function reasonFor(input: PlanInput, ctx: LearnedContext, atMs: number, p: number, tz: string): string {
  const startDay = localClock(input.rescueStartedAt.getTime(), tz).day;
  const at = localClock(atMs, tz);
  let why: string;
  switch (declineGroup(input.decline.code, input.decline.strategy)) {
    case 'nsf': {
      const payday = latestPaydayIn(ctx.payday.family, startDay, at.day);
      const calendar = ctx.payday.family === 'generic' ? describeFamily('generic') : `${describeFamily(ctx.payday.family)}, this customer's calendar`;
      why = payday !== null && at.day - payday <= PAYDAY_LAG_DAYS
        ? `insufficient funds; ${at.day === payday ? 'on' : `${at.day - payday} day${at.day - payday === 1 ? '' : 's'} after`} a likely payday (${calendar})`
        : `insufficient funds; between likely paydays (${calendar}), the model's best remaining time`;
      break;
    }
    case 'hold':
      why = 'the issuer asked to try later; temporary holds clear with time';
      break;
    case 'velocity':
      why = at.day > startDay ? 'a card limit was reached; after its reset at local midnight' : 'a card limit was reached; later the same day';
      break;
    case 'technical':
      why = input.decline.strategy === 'in_24h'
        ? 'a processing error; a day or more after the last try, as such errors usually clear'
        : atMs - input.failedAt.getTime() >= 4 * HOUR ? 'a technical error; 4 h or more after the last try, once such faults have usually cleared' : 'a technical error; soon, as outages often clear within minutes to hours';
      break;
    case 'expired':
      why = ctx.card?.cardWasUpdated ? 'the card was replaced; retried with its new details' : 'the card needs new details; waits for a new card';
      break;
    default:
      why = `${input.decline.code.replaceAll('_', ' ')}; each retry's chance falls, and a recovery is worth less the longer it waits`;
  }
  const by = ctx.modelLabel ? ` (${ctx.modelLabel})` : '';
  return `${why}; ${whenOf(input, atMs)}, ${pct(p)} predicted${by}`;
}
