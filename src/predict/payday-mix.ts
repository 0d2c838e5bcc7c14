// The pay calendars an account's customers are paid on, as a mixture: which calendars, what share
// of the customers each, and how an insufficient-funds retry fares around a payday. A customer
// without a calendar of their own (payday.ts needs four recoveries) is scored against the mixture,
// the rescue's failed retries so far shifting the weight (Bayes' rule): a customer who was not in
// funds on the 26th is less likely paid on the 25th. Where the generic calendar (1st, 15th, Fridays)
// assumes US paydays, this learns the account's, and how much each matters: on the benchmark's
// `elsewhere` world (the 25th, the last Friday, Thursdays, Wednesdays) knowing the true mix is worth
// 1.6 points of the oracle's revenue (docs/prediction.md, "What an account's calendar mix adds").

import type { DeclineGroup } from './features.ts';
import { dayOfMonthOfDay, isBusinessDay, isPaydayOf, monthOfDay, PAYDAY_LAG_DAYS, weekdayOfDay, type PaydayFit } from './payday.ts';

/**
 * One calendar: the US semimonthly (1st/15th) or monthly (last business day) ones; every given
 * weekday (0 = Sunday); every other given weekday (`biweekly0-5`, `biweekly1-5`: the two parities);
 * a day of the month (a weekend one paid the Friday before); the month's last given weekday.
 */
export type MixCalendar = 'semimonthly' | 'monthly' | `weekly-${number}` | `biweekly${0 | 1}-${number}` | `dom-${number}` | `last-${number}`;

/** How a retry fares by where it falls: before any payday since the rescue began, on payday to payday + 2, 3–6 days after, later. */
export interface PaydayResponse {
  before: number;
  window: number;
  after: number;
  late: number;
}

export interface PaydayMix {
  calendars: { calendar: MixCalendar; share: number }[];
  /** A usual mixture (no account's own): whose pay customs its shares follow, as reasons say ("by US pay frequencies"). */
  usual?: string;
  /** The customers on none of the calendars: their share, and their rate whatever the day. */
  other: { share: number; rate: number };
  response: PaydayResponse;
  /** How many cards the mixture was fitted on. */
  cards: number;
}

/** An insufficient-funds rescue: the card, the local day it began, its retries (local day, paid). */
export interface PaydayRescue {
  card: string;
  startDay: number;
  retries: readonly { day: number; paid: boolean }[];
}

const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6];
export const MIX_CANDIDATES: readonly MixCalendar[] = [
  'semimonthly', 'monthly',
  ...WEEKDAYS.map((w) => `weekly-${w}` as MixCalendar),
  ...WEEKDAYS.flatMap((w) => [`biweekly0-${w}`, `biweekly1-${w}`] as MixCalendar[]),
  ...WEEKDAYS.map((w) => `last-${w}` as MixCalendar),
  ...Array.from({ length: 28 }, (_, d) => `dom-${d + 1}` as MixCalendar),
];

// Where the fit starts (research/retry-facts.md §3: insufficient funds clear after payday, "retry 1–3
// days after payday"; the sandbox follows the same numbers). The fit then learns the account's own.
export const START_RESPONSE: PaydayResponse = { before: 0.05, window: 0.65, after: 0.4, late: 0.2 };

/**
 * Fewer cards than this with an insufficient-funds retry, and the account has no mixture yet. Few:
 * the benchmark's 300-customer accounts hold 35–60 such cards after six months (120 on high-NSF), and
 * a noisy mixture is no risk, as it must still beat the model on the held-out retries (learnPaydayMix).
 */
export const MIX_MIN_CARDS = 30;
/**
 * A calendar is kept when it holds this share of the customers and at least MIX_MIN_CALENDAR_CARDS
 * cards' worth: with some sixty calendars to choose from, one or two cards whose paid retry happened
 * to fall after the 13th or the 22nd make a calendar of their own (seen on a 47-card account paid on
 * the last business day); the shares of those that are dropped go to the kept ones.
 */
const MIX_MIN_SHARE = 0.03;
/**
 * How many cards' worth the prior's shares count for in a fit. Twenty: on the benchmark's `elsewhere`
 * accounts (35–60 cards after six months, paid on the 25th and the last Friday) the account's own
 * calendars then hold two thirds of the mixture or more, while a 30-card account whose retries
 * happened to fall on odd days stays close to the usual calendars.
 */
const PRIOR_WEIGHT_CARDS = 20;
const MIX_MIN_CALENDAR_CARDS = 3;
const EM_ROUNDS = 40;

export function isMixPayday(calendar: MixCalendar, day: number): boolean {
  if (calendar === 'semimonthly' || calendar === 'monthly') return isPaydayOf(calendar, day);
  const dash = calendar.indexOf('-');
  const kind = calendar.slice(0, dash);
  const n = Number(calendar.slice(dash + 1));
  const w = weekdayOfDay(day);
  switch (kind) {
    case 'weekly': return w === n;
    case 'biweekly0':
    case 'biweekly1': return w === n && Math.floor(day / 7) % 2 === (kind === 'biweekly0' ? 0 : 1);
    case 'last': return w === n && monthOfDay(day + 7) !== monthOfDay(day);
    default: {
      if (!isBusinessDay(day)) return false;
      const due = (d: number) => dayOfMonthOfDay(d) === n;
      return due(day) || (w === 5 && (due(day + 1) || due(day + 2)));
    }
  }
}

const BEFORE = 0;
const WINDOW = 1;
const AFTER = 2;
const LATE = 3;

/** Days from the calendar's latest payday after `startDay` to `day`; null when there was none. */
export function daysSinceMixPayday(calendar: MixCalendar, startDay: number, day: number): number | null {
  for (let d = day; d > startDay && day - d <= 62; d--) if (isMixPayday(calendar, d)) return day - d;
  return null;
}

/** Where a retry on `day` falls on the calendar, for a rescue begun on `startDay`. */
function bucketOf(calendar: MixCalendar, startDay: number, day: number): number {
  const since = daysSinceMixPayday(calendar, startDay, day);
  if (since === null) return BEFORE;
  return since <= PAYDAY_LAG_DAYS ? WINDOW : since <= 6 ? AFTER : LATE;
}

const rateOf = (r: PaydayResponse, bucket: number) => (bucket === BEFORE ? r.before : bucket === WINDOW ? r.window : bucket === AFTER ? r.after : r.late);

/**
 * The mixture that best explains an account's insufficient-funds rescues (expectation–maximisation
 * over the candidate calendars and "none of them", the response refitted each round). Each card's
 * whole sequence of retries counts, failed and paid: a retry the day after a failed one is made only
 * for customers the first did not find in funds, so counting paid retries by day would learn the
 * planner's own habits back. Null with fewer than MIX_MIN_CARDS cards.
 */
export function fitPaydayMix(rescues: readonly PaydayRescue[], prior: PaydayMix): PaydayMix | null {
  const byCard = new Map<string, PaydayRescue[]>();
  for (const r of rescues) {
    if (r.retries.length === 0) continue;
    const list = byCard.get(r.card);
    if (list) list.push(r);
    else byCard.set(r.card, [r]);
  }
  if (byCard.size < MIX_MIN_CARDS) return null;
  const K = MIX_CANDIDATES.length;
  // Per card: each retry's bucket under each calendar, and whether it was paid.
  const cards = [...byCard.values()].map((list) => {
    const retries = list.flatMap((r) => r.retries.map((a) => ({ paid: a.paid, buckets: MIX_CANDIDATES.map((c) => bucketOf(c, r.startDay, a.day)) })));
    return retries;
  });
  const all = cards.flat();
  let otherRate = clampRate(all.filter((a) => a.paid).length / all.length);
  let response = { ...START_RESPONSE };
  // The prior's shares as PRIOR_WEIGHT_CARDS cards' worth of evidence (a Dirichlet prior): a small
  // account's mixture stays near the usual calendars until its own cards say otherwise.
  const priorShares = new Float64Array(K + 1);
  for (const { calendar, share } of prior.calendars) priorShares[MIX_CANDIDATES.indexOf(calendar)]! += share;
  priorShares[K] = prior.other.share;
  let shares = priorShares.map((p) => 0.5 * p + 0.5 / (K + 1));
  for (let round = 0; round < EM_ROUNDS; round++) {
    const nextShares = new Float64Array(K + 1);
    const paid = [1, 1, 1, 1];
    const seen = [2, 2, 2, 2];
    let otherPaid = 1;
    let otherSeen = 2;
    for (const retries of cards) {
      const logL = new Float64Array(K + 1);
      for (const a of retries) {
        for (let c = 0; c < K; c++) {
          const p = rateOf(response, a.buckets[c]!);
          logL[c]! += Math.log(a.paid ? p : 1 - p);
        }
        logL[K]! += Math.log(a.paid ? otherRate : 1 - otherRate);
      }
      let max = -Infinity;
      for (let c = 0; c <= K; c++) max = Math.max(max, logL[c]! + Math.log(shares[c]! + 1e-12));
      const resp = new Float64Array(K + 1);
      let sum = 0;
      for (let c = 0; c <= K; c++) sum += resp[c] = Math.exp(logL[c]! + Math.log(shares[c]! + 1e-12) - max);
      for (let c = 0; c <= K; c++) {
        const r = resp[c]! / sum;
        nextShares[c]! += r;
        if (r < 1e-6) continue;
        for (const a of retries) {
          if (c === K) {
            otherSeen += r;
            otherPaid += a.paid ? r : 0;
          } else {
            seen[a.buckets[c]!]! += r;
            paid[a.buckets[c]!]! += a.paid ? r : 0;
          }
        }
      }
    }
    shares = nextShares.map((s, c) => (s + PRIOR_WEIGHT_CARDS * priorShares[c]!) / (cards.length + PRIOR_WEIGHT_CARDS));
    response = { before: clampRate(paid[BEFORE]! / seen[BEFORE]!), window: clampRate(paid[WINDOW]! / seen[WINDOW]!), after: clampRate(paid[AFTER]! / seen[AFTER]!), late: clampRate(paid[LATE]! / seen[LATE]!) };
    otherRate = clampRate(otherPaid / otherSeen);
  }
  // The calendars too rare to keep hand their share to the kept ones, not to "none of them".
  const kept = MIX_CANDIDATES.map((calendar, c) => ({ calendar, share: shares[c]! })).filter((x) => x.share >= Math.max(MIX_MIN_SHARE, MIX_MIN_CALENDAR_CARDS / cards.length)).sort((a, b) => b.share - a.share);
  const keptShare = kept.reduce((s, x) => s + x.share, 0);
  const other = shares[K]!;
  const scale = keptShare > 0 ? (1 - other) / keptShare : 0;
  return { calendars: kept.map((x) => ({ calendar: x.calendar, share: x.share * scale })), other: { share: keptShare > 0 ? other : 1, rate: otherRate }, response, cards: cards.length };
}

function clampRate(p: number): number {
  return Math.min(0.98, Math.max(0.01, Number.isFinite(p) ? p : 0.05));
}

/**
 * The chance an insufficient-funds retry on `day` is paid, for a customer of the account whose own
 * calendar is unknown, given the rescue's retries that already failed on `failedDays`.
 */
export function mixChance(mix: PaydayMix, startDay: number, failedDays: readonly number[], day: number): number {
  let paid = 0;
  let total = 0;
  const weigh = (share: number, rate: (d: number) => number) => {
    const posterior = failedDays.reduce((w, d) => w * (1 - rate(d)), share);
    paid += posterior * rate(day);
    total += posterior;
  };
  for (const { calendar, share } of mix.calendars) weigh(share, (d) => rateOf(mix.response, bucketOf(calendar, startDay, d)));
  weigh(mix.other.share, () => mix.other.rate);
  return total > 0 ? paid / total : mix.other.rate;
}

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const ordinal = (n: number) => `${n}${n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th'}`;

/** A calendar as a reason names it. */
export function describeMixCalendar(calendar: MixCalendar): string {
  if (calendar === 'semimonthly') return 'the 1st and 15th';
  if (calendar === 'monthly') return 'the last business day';
  const dash = calendar.indexOf('-');
  const kind = calendar.slice(0, dash);
  const n = Number(calendar.slice(dash + 1));
  if (kind === 'weekly') return `${WEEKDAY_NAMES[n]}s`;
  if (kind === 'biweekly0' || kind === 'biweekly1') return `every other ${WEEKDAY_NAMES[n]}`;
  if (kind === 'last') return `the last ${WEEKDAY_NAMES[n]}`;
  return `the ${ordinal(n)}`;
}

/** The mixture's calendars with a payday from the day after `startDay` up to `day` that is at most PAYDAY_LAG_DAYS old. */
export function calendarsInWindow(mix: PaydayMix, startDay: number, day: number): { calendar: MixCalendar; share: number }[] {
  return mix.calendars.filter((c) => bucketOf(c.calendar, startDay, day) === WINDOW);
}

/** Whether the mixture times a retry: insufficient funds, for a customer without a calendar of their own. */
export function mixApplies(mix: PaydayMix | undefined, payday: PaydayFit, group: DeclineGroup): mix is PaydayMix {
  return mix !== undefined && group === 'nsf' && payday.family === 'generic';
}
