// When to retry a failed payment. Pure: every instant is passed in, nothing reads the clock.
// The plan is the whole remaining schedule (the API shows it as `scheduled_retries`); the worker
// calls plan() again after each failed retry with the new decline and the budget that is left, so a
// policy never needs to remember anything. A learned policy can replace `automaticSchedule` behind
// the same SchedulePolicy interface.

import type { DeclineInfo } from './decline-types.ts';
import {
  addLocalDays,
  atLocalDate,
  daysBetween,
  isValidTimeZone,
  localDateOf,
  localMinuteOfDay,
  weekdayOf,
  type LocalDate,
} from './local-time.ts';

export interface PlanInput {
  /** The latest failure. */
  decline: DeclineInfo;
  /** When the latest failed attempt happened. */
  failedAt: Date;
  /** When the initial payment failed (custom days count from here). */
  rescueStartedAt: Date;
  /** No retry may be planned after this instant (inclusive). */
  windowEndsAt: Date;
  /** How many retries the budget still allows (0 → plan nothing). */
  retriesLeft: number;
  /** Retries already made (0 right after the initial failure). */
  retriesMade: number;
  /** Customer's IANA time zone ('UTC' if unknown). */
  timezone: string;
  schedule: { kind: 'automatic' } | { kind: 'custom'; days: readonly number[] };
}

export interface SchedulePolicy {
  readonly name: string;
  /** Ascending instants, length ≤ retriesLeft, each > failedAt and ≤ windowEndsAt, MIN_RETRY_GAP_MS apart. */
  plan(input: PlanInput): Date[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Smallest gap between a failure and the next planned retry, and between two planned retries. */
export const MIN_RETRY_GAP_MS = 10 * MINUTE;

// Recurly (14 gateways): declines run 25–28% between 01:00 and 04:00 local vs ~18% in peak business
// hours, 44–55% higher (research/retry-facts.md §3). Nothing is planned in [01:00, 04:00).
const QUIET_FROM = 1 * 60;
const QUIET_UNTIL = 4 * 60;
// Same source: business hours decline least, so day-scale retries keep a business-hours time of day
// and otherwise move to a morning slot.
const BUSINESS_FROM = 9 * 60;
const BUSINESS_UNTIL = 18 * 60;
const MORNING = 10 * 60;

// Mastercard Merchant Advice Codes 24–30: "retry after" 1 h, 24 h, 2, 4, 6, 8, 10 days
// (research/retry-facts.md §1; returned on code 51 by the Authorization Optimizer, §3).
const MAC_DELAY_MS: Readonly<Record<string, number>> = {
  '24': HOUR, '25': DAY, '26': 2 * DAY, '27': 4 * DAY, '28': 6 * DAY, '29': 8 * DAY, '30': 10 * DAY,
};

export function adviceCodeDelayMs(adviceCode: string | undefined): number {
  if (adviceCode === undefined) return 0;
  return MAC_DELAY_MS[adviceCode.padStart(2, '0')] ?? 0;
}

function isNeverRetried(decline: DeclineInfo): boolean {
  return decline.category === 'hard' || decline.strategy === 'never';
}

/**
 * Sorts, then keeps what every policy promises: inside the window, at least MIN_RETRY_GAP_MS after
 * the failure and after each other, out of quiet hours, and no more than the budget.
 */
function finalize(candidates: readonly Date[], input: PlanInput, tz: string | null): Date[] {
  const sorted = [...candidates].sort((a, b) => a.getTime() - b.getTime());
  const out: Date[] = [];
  let prev = input.failedAt.getTime();
  const limit = Math.max(0, Math.floor(input.retriesLeft));
  for (const c of sorted) {
    if (out.length >= limit) break;
    const t = c.getTime();
    if (!Number.isFinite(t) || t - prev < MIN_RETRY_GAP_MS || t > input.windowEndsAt.getTime()) continue;
    if (tz !== null && inQuietHours(c, tz)) continue;
    out.push(c);
    prev = t;
  }
  return out;
}

// custom

export const customSchedule: SchedulePolicy = {
  name: 'custom',
  plan(input) {
    if (input.schedule.kind !== 'custom') return automaticSchedule.plan(input);
    if (isNeverRetried(input.decline) || input.retriesLeft <= 0) return [];
    const start = input.rescueStartedAt.getTime();
    const earliest = input.failedAt.getTime() + MIN_RETRY_GAP_MS;
    // Exact 24 h multiples, as the merchant configured them; the next ones still ahead, in order. One
    // that falls in the customer's 01:00–04:00 moves later, to 04:00 (the fewest hours moved that
    // leave the quiet hours without crossing into another day's count), or, when 04:00 would be past
    // the window's end (the day equal to the window), earlier, to just before 01:00: the merchant
    // asked for that day, and it stays inside the window.
    const tz = isValidTimeZone(input.timezone) ? input.timezone : 'UTC';
    const days = [...new Set(input.schedule.days)].filter(Number.isFinite).sort((a, b) => a - b);
    const instants = days.map((d) => outOfQuietWithin(new Date(start + d * DAY), tz, input.windowEndsAt)).filter((d) => d.getTime() > earliest);
    return finalize(instants, input, tz);
  },
};

// automatic: local-time helpers

export function inQuietHours(at: Date, tz: string): boolean {
  const m = localMinuteOfDay(at, tz);
  return m >= QUIET_FROM && m < QUIET_UNTIL;
}

/** For minute/hour-scale retries: if the instant falls in quiet hours, wait until they end. */
export function avoidQuiet(at: Date, tz: string): Date {
  if (!inQuietHours(at, tz)) return at;
  return atLocalDate(localDateOf(at, tz), QUIET_UNTIL / 60, 0, tz);
}

/** Out of quiet hours: to their end, or to the minute before they begin when their end is past `latest`. */
function outOfQuietWithin(at: Date, tz: string, latest: Date): Date {
  if (!inQuietHours(at, tz)) return at;
  const later = avoidQuiet(at, tz);
  if (later.getTime() <= latest.getTime()) return later;
  return atMinuteOfDay(localDateOf(at, tz), QUIET_FROM - 1, tz);
}

/**
 * The first charge of a payment method that has not declined yet (a fallback taking over): as soon
 * as the minimum gap allows, outside the customer's quiet hours.
 */
export function firstChargeAt(after: Date, timezone: string): Date {
  const tz = isValidTimeZone(timezone) ? timezone : 'UTC';
  return avoidQuiet(new Date(after.getTime() + MIN_RETRY_GAP_MS), tz);
}

function atMinuteOfDay(date: LocalDate, minuteOfDay: number, tz: string): Date {
  return atLocalDate(date, Math.floor(minuteOfDay / 60), minuteOfDay % 60, tz);
}

/** For day-scale retries: the instant itself in business hours, else the next local 10:00 after it. */
function daySlot(at: Date, tz: string): Date {
  const m = localMinuteOfDay(at, tz);
  if (m >= BUSINESS_FROM && m < BUSINESS_UNTIL) return at;
  const date = localDateOf(at, tz);
  const sameDay = atMinuteOfDay(date, MORNING, tz);
  return sameDay.getTime() >= at.getTime() ? sameDay : atMinuteOfDay(addLocalDays(date, 1), MORNING, tz);
}

/** Time of day for slots counted from an anchor: the anchor's own if in business hours, else morning. */
function slotMinuteOfDay(anchor: Date, tz: string): number {
  const m = localMinuteOfDay(anchor, tz);
  return m >= BUSINESS_FROM && m < BUSINESS_UNTIL ? m : MORNING;
}

/**
 * Fractions of a span for n retries, growing by a ratio r ≤ 2: with r = 2 and n = 4 they are the
 * seed's 1, 3, 7, 14 days of a 14-day window. r shrinks (towards even spacing) when doubling would
 * put the first retry less than a day out.
 */
function geometricFractions(n: number, spanDays: number): number[] {
  const firstDays = (r: number) => (spanDays * (r - 1)) / (r ** n - 1);
  let r = 2;
  if (n > 1 && firstDays(2) < 1) {
    let lo = 1.000001;
    let hi = 2;
    for (let i = 0; i < 40; i++) {
      const mid = (lo + hi) / 2;
      if (firstDays(mid) >= 1) lo = mid;
      else hi = mid;
    }
    r = lo;
  }
  return Array.from({ length: n }, (_, k) => (n === 1 ? 1 : (r ** (k + 1) - 1) / (r ** n - 1)));
}

/**
 * Up to `count` retries on distinct local days after the anchor's day, spread geometrically so the
 * last lands on the last usable day of the window. At most one retry a day: a generic soft decline
 * rarely clears within hours, and issuers read bursts of retries as abuse (Stripe: at most 8,
 * research/retry-facts.md §1).
 */
function spread(anchor: Date, count: number, notBefore: Date, input: PlanInput, tz: string): Date[] {
  if (count <= 0) return [];
  const base = localDateOf(anchor, tz);
  const tod = slotMinuteOfDay(anchor, tz);
  const slot = (j: number) => atMinuteOfDay(addLocalDays(base, j), tod, tz);
  const end = input.windowEndsAt.getTime();
  let jMin = 0;
  let jMax = 0;
  for (let j = 1; j <= 400; j++) {
    const t = slot(j).getTime();
    if (t > end) break;
    if (t < notBefore.getTime()) continue;
    if (jMin === 0) jMin = j;
    jMax = j;
  }
  if (jMin === 0) return [];
  const span = jMax - jMin + 1;
  const n = Math.min(count, span);
  const out: Date[] = [];
  let prev = jMin - 1;
  geometricFractions(n, span).forEach((f, k) => {
    const j = Math.min(Math.max(jMin - 1 + Math.round(span * f), prev + 1), jMax - (n - 1 - k));
    out.push(slot(j));
    prev = j;
  });
  return out;
}

// automatic: per-strategy rules (Plexy seed decline tables)

interface Ctx {
  input: PlanInput;
  tz: string;
  /** The first retry may not be before this: the minimum gap, or a Mastercard advice-code delay. */
  earliest: Date;
  n: number;
}

function later(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}

/** A retry, then the rest spread over the window after it. */
function thenSpread(first: Date, ctx: Ctx): Date[] {
  const rest = spread(first, ctx.n - 1, new Date(first.getTime() + HOUR), ctx.input, ctx.tz);
  return [first, ...rest];
}

// Recurly advises the 1st and 15th (many payrolls land then); weekly and biweekly pay, mostly on
// Fridays, is ~76% of US establishments (BLS CES 2019) — research/retry-facts.md §3.
function isPayday(d: LocalDate): boolean {
  return d.day === 1 || d.day === 15 || weekdayOf(d) === 5;
}

function afterPayday(ctx: Ctx): Date[] {
  const { input, tz, earliest, n } = ctx;
  const fromDate = localDateOf(input.failedAt, tz);
  const end = input.windowEndsAt.getTime();
  const paydays: Date[] = [];
  const nearPaydays: { at: Date; offset: number }[] = [];
  for (let j = 1; j <= 400; j++) {
    const date = addLocalDays(fromDate, j);
    const morning = atMinuteOfDay(date, MORNING, tz);
    if (morning.getTime() > end) break;
    // An advice-code delay may end on a payday after its morning: still that day, as soon as allowed.
    const at = daySlot(later(morning, earliest), tz);
    if (at.getTime() > end || daysBetween(date, localDateOf(at, tz)) !== 0) continue;
    // Funds land on payday or a day or two either side (some banks pay 2 days early, §3), so the
    // days just after a payday are the next best slots when the window holds too few paydays.
    const offset = [0, 1, 2].find((o) => isPayday(addLocalDays(date, -o)));
    if (offset === 0) paydays.push(at);
    else if (offset !== undefined) nearPaydays.push({ at, offset });
  }
  const first = paydays[0];
  if (!first) return spread(input.failedAt, n, earliest, input, tz);
  const laterPaydays = paydays.slice(1);
  const m = n - 1;
  if (laterPaydays.length >= m) {
    // Evenly over the later paydays, always including the last one in the window.
    const picked = Array.from({ length: m }, (_, i) => laterPaydays[Math.round(((i + 1) * laterPaydays.length) / m) - 1]);
    return [first, ...picked.filter((d): d is Date => d !== undefined)];
  }
  const fill = nearPaydays
    .filter((p) => p.at.getTime() > first.getTime())
    .sort((a, b) => a.offset - b.offset || a.at.getTime() - b.at.getTime())
    .slice(0, m - laterPaydays.length)
    .map((p) => p.at);
  return [first, ...laterPaydays, ...fill];
}

function immediate(ctx: Ctx): Date[] {
  const { input, tz, earliest, n } = ctx;
  // Outages clear in minutes to hours: retry right away, then a few hours on, then daily. The
  // ladder runs from the latest failure, so a technical error on any retry gets the same backoff.
  const first = avoidQuiet(earliest, tz);
  const second = avoidQuiet(later(new Date(input.failedAt.getTime() + 3 * HOUR), new Date(first.getTime() + HOUR)), tz);
  const base = localDateOf(input.failedAt, tz);
  const tod = slotMinuteOfDay(input.failedAt, tz);
  const daily: Date[] = [];
  for (let j = 1; daily.length < n - 2 && j <= 400; j++) {
    const at = atMinuteOfDay(addLocalDays(base, j), tod, tz);
    if (at.getTime() > input.windowEndsAt.getTime()) break;
    if (at.getTime() > second.getTime() + HOUR) daily.push(at);
  }
  return [first, second, ...daily];
}

function afterLimitReset(ctx: Ctx): Date[] {
  const { input, tz, earliest } = ctx;
  // Daily limits reset at local midnight; the first business-hours slot after it also clears the
  // 01:00–04:00 band. Weekly limits reset at the week start (Monday).
  const failDate = localDateOf(input.failedAt, tz);
  const midnight = atLocalDate(addLocalDays(failDate, 1), 0, 0, tz);
  const first = daySlot(later(midnight, earliest), tz);
  const firstDate = localDateOf(first, tz);
  const toMonday = (8 - weekdayOf(firstDate)) % 7 || 7;
  const weekStart = daySlot(atLocalDate(addLocalDays(firstDate, toMonday), 0, 0, tz), tz);
  if (ctx.n < 2 || weekStart.getTime() > input.windowEndsAt.getTime()) return thenSpread(first, ctx);
  const rest = spread(weekStart, ctx.n - 2, new Date(weekStart.getTime() + HOUR), input, tz);
  return [first, weekStart, ...rest];
}

function automaticPlan(input: PlanInput): Date[] {
  if (isNeverRetried(input.decline) || input.retriesLeft <= 0) return [];
  if (input.windowEndsAt.getTime() <= input.failedAt.getTime()) return [];
  const tz = isValidTimeZone(input.timezone) ? input.timezone : 'UTC';
  const delay = Math.max(MIN_RETRY_GAP_MS, adviceCodeDelayMs(input.decline.adviceCode));
  const ctx: Ctx = {
    input,
    tz,
    earliest: new Date(input.failedAt.getTime() + delay),
    n: Math.floor(input.retriesLeft),
  };
  const at = (ms: number) => later(new Date(input.failedAt.getTime() + ms), ctx.earliest);
  let candidates: Date[];
  switch (input.decline.strategy) {
    case 'after_payday':
      candidates = afterPayday(ctx);
      break;
    case 'in_24_48h':
      // +30 h then the next business-hours slot stays within 24–48 h for any failure time.
      candidates = thenSpread(daySlot(at(30 * HOUR), tz), ctx);
      break;
    case 'in_24h':
      candidates = thenSpread(daySlot(at(24 * HOUR), tz), ctx);
      break;
    case 'after_limit_reset':
      candidates = afterLimitReset(ctx);
      break;
    case 'immediate':
      candidates = immediate(ctx);
      break;
    case 'spaced':
    case 'after_card_update':
    default:
      // after_card_update: the account updater runs before each retry, so spacing gives it time.
      candidates = spread(input.failedAt, ctx.n, ctx.earliest, input, tz);
  }
  const planned = finalize(candidates, input, tz);
  if (planned.length > 0) return planned;
  // The strategy's slots all fall past the window (e.g. a replan hours before it closes): one last
  // try at the window's end beats giving up with budget left.
  const end = input.windowEndsAt;
  const last = inQuietHours(end, tz) ? atLocalDate(localDateOf(end, tz), 0, 0, tz) : end;
  return last.getTime() >= ctx.earliest.getTime() ? finalize([last], input, tz) : [];
}

export const automaticSchedule: SchedulePolicy = { name: 'automatic', plan: automaticPlan };

export function policyFor(schedule: PlanInput['schedule']): SchedulePolicy {
  return schedule.kind === 'custom' ? customSchedule : automaticSchedule;
}
