// A customer's likely paydays, learned from the days on which their earlier failed payments were
// finally paid. Days are local day numbers (days since 1970-01-01 in the customer's own zone).
// Families follow US pay frequency first (BLS CES, research/retry-facts.md §3): weekly and biweekly
// Fridays, semimonthly 1st/15th, monthly on the last business day. Other calendars are common
// elsewhere (a fixed day of the month such as the 25th, the last Friday, another weekday): they are
// fitted too, but only on more evidence (PARAMETRIC_MIN_HITS), since with more calendars to choose
// from two recovered payments fit one by chance more often.
//
// Without enough history of the customer's own, the account's calendar stands in (`account`: the
// calendars common among the account's customers, fitted at training, accountPaydayCalendars), and
// without that the generic calendar (1st, 15th, every Friday), as the rule-based schedule uses.

/** A calendar of paydays: a US family, or one of the parametric ones. */
export type PaydayFamily =
  | 'generic' | 'account' | 'weekly' | 'biweekly0' | 'biweekly1' | 'semimonthly' | 'monthly'
  | `weekly-${number}` | `biweekly${0 | 1}-${number}` | `monthly-${number}` | 'last-friday';

export interface PaydayFit {
  family: PaydayFamily;
  /** How many successes the fit saw, and how many fell on payday through payday + 2. */
  support: number;
  hits: number;
  /** For `account`: the account's calendars, any of whose days is a payday. */
  calendars?: readonly PaydayFamily[];
}

const DAY_MS = 86_400_000;
/** Funds that arrive on payday pay a bill that day or within the next two. */
export const PAYDAY_LAG_DAYS = 2;
const MIN_SUPPORT = 2;
/** A calendar outside the US families needs this many explained payments of the customer's own. */
const PARAMETRIC_MIN_HITS = 3;
const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function weekdayOfDay(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function dayOfMonthOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCDate();
}

function monthOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCMonth();
}

function isBusinessDay(day: number): boolean {
  const w = weekdayOfDay(day);
  return w !== 0 && w !== 6;
}

/** Paid on day-of-month `target` of each month, or the last business day before it when it is not one. */
function isMonthlyOn(target: number, day: number): boolean {
  if (!isBusinessDay(day)) return false;
  const due = (d: number) => dayOfMonthOfDay(d) === Math.min(target, daysInMonthOf(d));
  const w = weekdayOfDay(day);
  return due(day) || (w === 5 && (due(day + 1) || due(day + 2)));
}

function daysInMonthOf(day: number): number {
  const d = new Date(day * DAY_MS);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

function parametric(family: string, day: number): boolean | null {
  const w = weekdayOfDay(day);
  let m: RegExpMatchArray | null;
  if ((m = family.match(/^weekly-(\d)$/))) return w === Number(m[1]);
  if ((m = family.match(/^biweekly([01])-(\d)$/))) return w === Number(m[2]) && Math.floor((day - 1) / 7) % 2 === Number(m[1]);
  if ((m = family.match(/^monthly-(\d+)$/))) return isMonthlyOn(Number(m[1]), day);
  if (family === 'last-friday') return w === 5 && monthOfDay(day + 7) !== monthOfDay(day);
  return null;
}

/** Whether `day` is a payday of the fit: its family's, or for `account` any of the account's calendars'. */
export function isPayday(fit: PaydayFit, day: number): boolean {
  if (fit.family === 'account') return (fit.calendars ?? ['generic']).some((f) => isPaydayOf(f, day));
  return isPaydayOf(fit.family, day);
}

export function isPaydayOf(family: PaydayFamily, day: number): boolean {
  const w = weekdayOfDay(day);
  const dom = dayOfMonthOfDay(day);
  const p = parametric(family, day);
  if (p !== null) return p;
  switch (family) {
    case 'account':
    case 'generic':
      return dom === 1 || dom === 15 || w === 5;
    case 'weekly':
      return w === 5;
    case 'biweekly0':
    case 'biweekly1':
      return w === 5 && Math.floor((day - 1) / 7) % 2 === (family === 'biweekly0' ? 0 : 1);
    case 'semimonthly': {
      if (!isBusinessDay(day)) return false;
      const target = (d: number) => dayOfMonthOfDay(d) === 1 || dayOfMonthOfDay(d) === 15;
      return target(day) || (w === 5 && (target(day + 1) || target(day + 2)));
    }
    case 'monthly': {
      if (!isBusinessDay(day)) return false;
      return monthOfDay(w === 5 ? day + 3 : day + 1) !== monthOfDay(day);
    }
    default:
      return false;
  }
}

// Sparser calendars first: when two explain the history equally well, the sparser one says more.
const FAMILIES: readonly PaydayFamily[] = ['monthly', 'semimonthly', 'biweekly0', 'biweekly1', 'weekly'];
const OTHER_WEEKDAYS = [1, 2, 3, 4, 6, 0];
const PARAMETRIC_FAMILIES: readonly PaydayFamily[] = [
  'last-friday',
  ...Array.from({ length: 28 }, (_, i) => `monthly-${i + 1}` as PaydayFamily),
  ...OTHER_WEEKDAYS.flatMap((w) => [`biweekly0-${w}`, `biweekly1-${w}`] as PaydayFamily[]),
  ...OTHER_WEEKDAYS.map((w) => `weekly-${w}` as PaydayFamily),
];
/** What an account's calendar is made of: biweekly customers of one weekday pay on either parity. */
const ACCOUNT_FAMILIES: readonly PaydayFamily[] = ['monthly', 'last-friday', 'semimonthly',
  ...Array.from({ length: 28 }, (_, i) => `monthly-${i + 1}` as PaydayFamily), 'weekly', ...OTHER_WEEKDAYS.map((w) => `weekly-${w}` as PaydayFamily)];

function explained(family: PaydayFamily, day: number): boolean {
  for (let o = 0; o <= PAYDAY_LAG_DAYS; o++) if (isPaydayOf(family, day - o)) return true;
  return false;
}

/** The best of `families` for the days: most explained, ties to the earlier (sparser) one. */
function bestOf(families: readonly PaydayFamily[], days: readonly number[]): { family: PaydayFamily; hits: number } {
  let best = { family: 'generic' as PaydayFamily, hits: -1 };
  for (const family of families) {
    const hits = days.filter((d) => explained(family, d)).length;
    if (hits > best.hits) best = { family, hits };
  }
  return best;
}

const isPattern = (hits: number, n: number, min: number) => hits >= Math.max(min, Math.ceil((2 * n) / 3));

/**
 * The calendar that best explains the success days (ties go to the sparser calendar): another calendar
 * when it explains more of them than the US families, on two thirds and at least PARAMETRIC_MIN_HITS;
 * else a US family on two thirds; else the account's calendars (when it has them), else the generic one.
 */
export function fitPayday(successDays: readonly number[], accountCalendars: readonly PaydayFamily[] = []): PaydayFit {
  const days = [...new Set(successDays)];
  const fallback = (): PaydayFit => accountCalendars.length > 0
    ? { family: 'account', support: days.length, hits: days.filter((d) => accountCalendars.some((f) => explained(f, d))).length, calendars: accountCalendars }
    : { family: 'generic', support: days.length, hits: days.filter((d) => explained('generic', d)).length };
  if (days.length < MIN_SUPPORT) return fallback();
  const us = bestOf(FAMILIES, days);
  const other = bestOf(PARAMETRIC_FAMILIES, days);
  // A calendar that explains fewer than two thirds of the history is no pattern; another calendar
  // must explain more of it than the US ones do.
  if (other.hits > us.hits && isPattern(other.hits, days.length, PARAMETRIC_MIN_HITS)) return { ...other, support: days.length };
  if (isPattern(us.hits, days.length, MIN_SUPPORT)) return { ...us, support: days.length };
  return fallback();
}

/** Fewer cards with a history than this, and the account has no calendar of its own yet. */
const ACCOUNT_MIN_CARDS = 20;
/** A calendar joins the account's when it explains at least this share of the cards with a history… */
const ACCOUNT_MIN_SHARE = 0.05;
/** …and at least twice as many as chance would… */
const ACCOUNT_MIN_LIFT = 2;
/** …up to this many calendars; the account's calendar stands only if together they explain half. */
const ACCOUNT_MAX_CALENDARS = 6;

/** Paydays a month, on average: how often a day falls in a calendar's window by chance. */
function paydaysPerMonth(family: PaydayFamily): number {
  if (family.startsWith('weekly')) return 30.44 / 7;
  if (family.startsWith('biweekly')) return 30.44 / 14;
  if (family === 'semimonthly') return 2;
  if (family === 'generic' || family === 'account') return 2 + 30.44 / 7;
  return 1;
}

/** The chance that a card's `n` recovered days fit the calendar (two thirds in its windows) by luck alone. */
function chanceFit(family: PaydayFamily, n: number): number {
  const q = Math.min(1, (paydaysPerMonth(family) * (PAYDAY_LAG_DAYS + 1)) / 30.44);
  const need = Math.max(MIN_SUPPORT, Math.ceil((2 * n) / 3));
  let p = 0;
  for (let k = need; k <= n; k++) p += binomial(n, k) * q ** k * (1 - q) ** (n - k);
  return p;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * The calendars common among an account's customers, from each card's recovered days (two or more):
 * greedily, the calendar that explains the most cards beyond what luck would, while it explains at
 * least ACCOUNT_MIN_SHARE of them and ACCOUNT_MIN_LIFT times its chance. Chance fits scatter over
 * many calendars; real paydays pile up on a few. Empty when there is too little history or no
 * pattern: the generic calendar stays.
 */
export function accountPaydayCalendars(cards: readonly (readonly number[])[]): PaydayFamily[] {
  const histories = cards.map((c) => [...new Set(c)]).filter((c) => c.length >= MIN_SUPPORT);
  if (histories.length < ACCOUNT_MIN_CARDS) return [];
  const fits = (f: PaydayFamily, days: number[]) => isPattern(days.filter((d) => explained(f, d)).length, days.length, MIN_SUPPORT);
  let left = histories;
  const chosen: PaydayFamily[] = [];
  while (chosen.length < ACCOUNT_MAX_CALENDARS && left.length > 0) {
    let best: { family: PaydayFamily; excess: number; n: number; expected: number } | null = null;
    for (const family of ACCOUNT_FAMILIES) {
      if (chosen.includes(family)) continue;
      const n = left.filter((days) => fits(family, days)).length;
      const expected = left.reduce((a, days) => a + chanceFit(family, days.length), 0);
      if (!best || n - expected > best.excess) best = { family, excess: n - expected, n, expected };
    }
    if (!best || best.n < ACCOUNT_MIN_SHARE * histories.length || best.n < ACCOUNT_MIN_LIFT * best.expected) break;
    chosen.push(best.family);
    left = left.filter((days) => !fits(best!.family, days));
  }
  return left.length <= histories.length / 2 ? chosen : [];
}

/** The latest payday in (afterDay, atDay], or null. */
export function latestPaydayIn(fit: PaydayFit, afterDay: number, atDay: number): number | null {
  for (let d = atDay; d > afterDay && atDay - d <= 62; d--) if (isPayday(fit, d)) return d;
  return null;
}

export function nextPaydayAfter(fit: PaydayFit, day: number): number {
  for (let d = day + 1; d <= day + 40; d++) if (isPayday(fit, d)) return d;
  return day + 40;
}

/** Whether the fit is the customer's own calendar (not the account's or the generic stand-in). */
export function isOwnCalendar(fit: PaydayFit): boolean {
  return fit.family !== 'generic' && fit.family !== 'account';
}

const ordinal = (n: number) => `${n}${n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th'}`;

/** The calendar as a reason names it: the customer's own, the account's, or the generic one. */
export function paydayCalendarText(fit: PaydayFit): string {
  if (isOwnCalendar(fit)) return `${describeFit(fit)}, this customer's calendar`;
  if (fit.family === 'account') return `${describeFit(fit)}: the paydays common among this account's customers`;
  return describeFamily('generic');
}

export function describeFit(fit: PaydayFit): string {
  if (fit.family === 'account') return (fit.calendars ?? []).map(describeFamily).join(', or ');
  return describeFamily(fit.family);
}

export function describeFamily(family: PaydayFamily): string {
  let m: RegExpMatchArray | null;
  if ((m = family.match(/^weekly-(\d)$/))) return `a ${WEEKDAY_NAMES[Number(m[1])]}`;
  if ((m = family.match(/^biweekly[01]-(\d)$/))) return `every other ${WEEKDAY_NAMES[Number(m[1])]}`;
  if ((m = family.match(/^monthly-(\d+)$/))) return `the ${ordinal(Number(m[1]))} of the month`;
  if (family === 'last-friday') return 'the last Friday of the month';
  switch (family) {
    case 'account': return "a payday common among this account's customers";
    case 'generic': return 'the 1st, 15th or a Friday';
    case 'weekly': return 'a Friday';
    case 'biweekly0':
    case 'biweekly1': return 'every other Friday';
    case 'semimonthly': return 'the 1st or 15th';
    case 'monthly': return 'the last business day of the month';
    default: return 'a likely payday';
  }
}
