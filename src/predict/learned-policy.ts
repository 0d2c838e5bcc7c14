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
import { isValidTimeZone } from '../domain/local-time.ts';
import { hash32, toUnit } from '../gateways/sandbox/hash.ts';
import { declineGroup, localClock, type CardContext, type DeclineGroup, type RetryFeatureInput } from './features.ts';
import { calendarsInWindow, mixApplies, mixChance, type PaydayMix } from './payday-mix.ts';
import type { PaydayFit } from './payday.ts';
import { ownsGroup, pct, reasonFor, whenOf } from './plan-reasons.ts';
import { candidateSlots, retrySpacingMs } from './plan-slots.ts';
import { recoveryValue } from './recovery-value.ts';
import { seedFirstRetry, type SeedFirstRetry } from './seed-strategy.ts';

const DAY = 86_400_000;

/** The share of plans that explore (at most; bounded by EXPLORATION_MAX). */
export const DEFAULT_EXPLORATION_SHARE = 0.05;
export const EXPLORATION_MAX = 0.2;
/** What one attempt costs, as a share of the amount (network fees, issuer goodwill): tiny chances are not worth a try. */
export const ATTEMPT_COST_SHARE = 0.01;
/**
 * Plans whose values differ by less than this share of the amount are ties, and a tie goes to the
 * earlier retry. A model fitted on retries at random times carries small slopes it cannot resolve (the
 * shipped prior's held-out calibration error is 0.007): a generic decline scored 30.1% ten minutes
 * after the decline and 30.5% at the next local midnight, where the network's chance does not move
 * with the hour, and the plan waited the 5 hours. bench:policy-sim chose 0.003 among 0.002–0.015: every
 * generic first retry within minutes, medians 0.1–0.4 days shorter in four of five populations, at
 * 0.1–0.3 points of revenue (docs/prediction.md, "Ties go to the earlier retry"). An exact model (the
 * benchmark's oracle) resolves everything: 0.
 */
export const PLAN_RESOLUTION = 0.003;

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
  /** Value differences the model cannot resolve (PLAN_RESOLUTION when absent; 0 for an exact model). */
  resolution?: number;
  /**
   * The account's customers' pay calendars, when it has an active mixture (payday-mix.ts): they, not
   * the model, time insufficient funds for a customer without a calendar of their own, and may place
   * the first retry, since the account's held-out retries showed them better.
   */
  paydayMix?: PaydayMix;
  /**
   * This rescue's earlier retries that failed for insufficient funds (instants), what the mixture
   * learns from; the one just declined (`failedAt`) counts on its own, as it may not be stored yet.
   */
  failedNsfRetries?: readonly number[];
}

/** The scorer a plan uses: the account's pay-calendar mixture where it applies, else the model. */
function scorerFor(input: PlanInput, ctx: LearnedContext, group: DeclineGroup, tz: string): Scorer {
  const mix = ctx.paydayMix;
  if (!mixApplies(mix, ctx.payday, group)) return ctx.score;
  const failedAt = input.failedAt.getTime();
  // The decline being planned after is insufficient funds (the mixture applies): after a retry, that
  // retry failed for want of funds too. The first decline is the rescue's start, before any payday.
  const failed = new Set([...(ctx.failedNsfRetries ?? []), ...(input.retriesMade > 0 ? [failedAt] : [])]);
  const failedDays = [...failed].map((ms) => localClock(ms, tz).day);
  const startDay = localClock(input.rescueStartedAt.getTime(), tz).day;
  // A later retry of the plan follows an earlier planned one that failed (the planner puts it a
  // spacing before): that failure counts too, or the plan would spend every retry on the days after
  // one payday, each scored as if the one before had not failed.
  return (f) => mixChance(mix, startDay, f.lastAttemptAtMs > failedAt ? [...failedDays, localClock(f.lastAttemptAtMs, tz).day] : failedDays, localClock(f.atMs, tz).day);
}

export interface PlannedSlot {
  at: Date;
  /** Predicted probability that this retry succeeds, given that the ones before it failed. */
  p: number;
  reason: string;
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
  /** firstAllowed[j]: whether retry 0 may take slot j (null: every slot). */
  firstAllowed: boolean[] | null;
  n: number;
}

/** The dynamic programme behind a plan: every allowed instant, its chance, its worth, and the best plan from it. */
function planTable(input: PlanInput, ctx: LearnedContext): PlanTable | null {
  if (input.decline.category === 'hard' || input.decline.strategy === 'never') return null;
  const n = Math.max(0, Math.floor(input.retriesLeft));
  if (n === 0 || input.windowEndsAt.getTime() <= input.failedAt.getTime()) return null;
  const tz = isValidTimeZone(input.timezone) ? input.timezone : 'UTC';
  const group = declineGroup(input.decline.code, input.decline.strategy);
  const free = ownsGroup(ctx, group) || mixApplies(ctx.paydayMix, ctx.payday, group);
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
  const score = scorerFor(input, ctx, group, tz);
  const p: number[][] = Array.from({ length: n }, (_, k) => slots.map((_, j) => clamp01(score(feature(j, k)))));
  const hazard = Math.max(0, ctx.dailyChurnHazard ?? DEFAULT_DAILY_CHURN_HAZARD);
  const value = slots.map((t) => recoveryValue(Math.max(0, t - started) / DAY, hazard));
  const next = new Array<number>(S);
  for (let j = 0, i = 0; j < S; j++) {
    while (i < S && slots[i]! - slots[j]! < spacing) i++;
    next[j] = i;
  }
  const tie = Math.max(1e-12, ctx.resolution ?? PLAN_RESOLUTION);
  const usual = usualFirstPayday(input, ctx);
  const paydays = usual ? onLikelyPaydays(slots, usual, localClock(started, tz).day, tz) : null;
  let solved = solve({ p, value, next }, n, tie, paydays);
  // A payday worth no attempt (a steep price of time, a payday at the window's end) does not stop
  // the rescue: then the first retry may take any slot, as where the window holds no payday.
  if (paydays && solved.choice[0]![0]! < 0) solved = solve({ p, value, next }, n, tie, null);
  return { tz, slots, p, value, next, ...solved, seed, n };
}

/** The dynamic programme: best[k][j] and choice[k][j] over the slots, retry 0 only where firstAllowed says. */
function solve(t: Pick<PlanTable, 'p' | 'value' | 'next'>, n: number, tie: number, firstAllowed: boolean[] | null): Pick<PlanTable, 'best' | 'choice' | 'firstAllowed'> {
  const S = t.value.length;
  const best = Array.from({ length: n + 1 }, () => new Array<number>(S + 1).fill(0));
  const choice = Array.from({ length: n + 1 }, () => new Array<number>(S + 1).fill(-1));
  for (let k = n - 1; k >= 0; k--) {
    for (let j = S - 1; j >= 0; j--) {
      const here = k === 0 && firstAllowed && !firstAllowed[j] ? -Infinity : valueAt({ ...t, best }, k, j);
      const skip = best[k]![j + 1]!;
      // Ties go to the earlier slot: the same value as far as the model can tell, recovered sooner.
      // best keeps the true maximum, so a chain of ties never drifts more than one resolution below it.
      if (here >= skip - tie && here > 0) {
        best[k]![j] = Math.max(here, skip);
        choice[k]![j] = j;
      } else {
        best[k]![j] = skip;
        choice[k]![j] = choice[k]![j + 1]!;
      }
    }
  }
  return { best, choice, firstAllowed };
}

/**
 * Seed 003 retries insufficient funds after payday: on the usual calendars, the rescue's first retry
 * is on a likely payday or within PAYDAY_LAG_DAYS after it (a low chance before one, worth its cost
 * when retries are plenty and paydays few, is not what the table says). A likely payday is one of
 * calendars paying at least LIKELY_PAYDAY_SHARE of the customers: outside the US, every other
 * Thursday (2.5%) would otherwise make most Thursdays to Saturdays one. Null where the window holds
 * no such day: then every slot may take it.
 */
function onLikelyPaydays(slots: readonly number[], mix: PaydayMix, startDay: number, tz: string): boolean[] | null {
  const allowed = slots.map((t) => calendarsInWindow(mix, startDay, localClock(t, tz).day).reduce((s, c) => s + c.share, 0) >= LIKELY_PAYDAY_SHARE);
  return allowed.some(Boolean) ? allowed : null;
}

/** The share of the customers a day's paydays must pay for the day to be a likely payday (see onLikelyPaydays). */
const LIKELY_PAYDAY_SHARE = 0.1;

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
 * The instant the plan takes for the next retry, with the value the planner gives it — the best one,
 * the earliest of those worth the best within what the model can resolve (PLAN_RESOLUTION), or the
 * seed table's where it holds the first retry — and every other allowed instant worth no more, best
 * first (`/api/predict/retry-time`'s alternatives).
 */
export function nextRetryValues(input: PlanInput, ctx: LearnedContext): { planned: ValuedInstant; alternatives: ValuedInstant[] } | null {
  const t = planTable(input, ctx);
  if (!t) return null;
  const all = t.slots.map((at, j) => ({ at, p: t.p[0]![j]!, value: valueAt(t, 0, j) }));
  const plannedAt = t.seed ? t.seed.at : t.choice[0]![0]! >= 0 ? t.slots[t.choice[0]![0]!]! : null;
  if (plannedAt === null) return null;
  const planned = all.find((v) => v.at === plannedAt)!;
  const alternatives = all.filter((v, j) => v !== planned && v.value <= planned.value && (t.firstAllowed?.[j] ?? true)).sort((a, b) => b.value - a.value || a.at - b.at);
  return { planned, alternatives };
}

/**
 * The usual calendars, where they place a rescue's first retry for insufficient funds (no account's
 * own mixture): seed 003's "next likely payday", which the account's evidence has not earned the
 * right to move, so it is not explored either. Null elsewhere.
 */
function usualFirstPayday(input: PlanInput, ctx: LearnedContext): PaydayMix | null {
  const group = declineGroup(input.decline.code, input.decline.strategy);
  return input.retriesMade === 0 && !ownsGroup(ctx, group) && mixApplies(ctx.paydayMix, ctx.payday, group) && ctx.paydayMix.cards === 0 ? ctx.paydayMix : null;
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
  } else if (!usualFirstPayday(input, ctx)) {
    const share = Math.min(EXPLORATION_MAX, Math.max(0, ctx.explorationShare ?? DEFAULT_EXPLORATION_SHARE));
    const draw = toUnit(hash32(`explore|${ctx.explorationKey}|${input.retriesMade}`));
    if (draw < share) {
      // Exploring moves a retry, it never spends the budget: only slots from which every retry left
      // still fits before the window's end (a late draw once left a rescue with 1 of its 3 retries).
      const fits = slotsKeepingBudget(next, S, n);
      const j = fits[Math.min(fits.length - 1, Math.floor(toUnit(hash32(`slot|${ctx.explorationKey}|${input.retriesMade}`)) * fits.length))]!;
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

/** The slots from which `n` retries, each at least the spacing after the last, all fit (at least the first slot). */
function slotsKeepingBudget(next: readonly number[], S: number, n: number): number[] {
  const reach = new Array<number>(S + 1).fill(0);
  for (let j = S - 1; j >= 0; j--) reach[j] = 1 + reach[Math.min(S, next[j]!)]!;
  const out: number[] = [];
  for (let j = 0; j < S; j++) if (reach[j]! >= n) out.push(j);
  return out.length > 0 ? out : [0];
}

export function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
