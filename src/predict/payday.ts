// A customer's likely paydays, learned from the days on which their earlier failed payments were
// finally paid. Days are local day numbers (days since 1970-01-01 in the customer's own zone).
// Families follow US pay frequency (BLS CES, research/retry-facts.md §3): weekly and biweekly
// Fridays, semimonthly 1st/15th, monthly on the last business day. Without enough history the
// generic calendar (1st, 15th, every Friday) stands in, as the rule-based schedule uses.

export type PaydayFamily = 'generic' | 'weekly' | 'biweekly0' | 'biweekly1' | 'semimonthly' | 'monthly';

export interface PaydayFit {
  family: PaydayFamily;
  /** How many successes the fit saw, and how many fell on payday through payday + 2. */
  support: number;
  hits: number;
}

const DAY_MS = 86_400_000;
/** Funds that arrive on payday pay a bill that day or within the next two. */
export const PAYDAY_LAG_DAYS = 2;
// Four recovered days before a calendar replaces the generic one (1st, 15th, Fridays), which covers
// every US pay calendar with a handful of candidate days in a 14-day window. With two, a wrong guess
// (a weekly payer read as biweekly, a biweekly payer on the wrong week) skips the real payday: on the
// benchmark's populations fitted calendars then recovered 1–2 points less of insufficient funds than
// the generic calendar. With three or four they match it after a quarter; after most of a year three
// gain 0.3–0.6 points of revenue but wait longer for sparser paydays (1–2 points fewer recoveries
// inside 10 days), four keep most of that gain and the generic calendar's speed (docs/prediction.md,
// "Payday calendars"; bench:policy-sim --warm).
const MIN_SUPPORT = 4;

export function weekdayOfDay(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function dayOfMonthOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCDate();
}

export function monthOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCMonth();
}

export function isBusinessDay(day: number): boolean {
  const w = weekdayOfDay(day);
  return w !== 0 && w !== 6;
}

export function isPaydayOf(family: PaydayFamily, day: number): boolean {
  const w = weekdayOfDay(day);
  const dom = dayOfMonthOfDay(day);
  switch (family) {
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
  }
}

// Sparser calendars first: when two explain the history equally well, the sparser one says more.
const FAMILIES: readonly PaydayFamily[] = ['monthly', 'semimonthly', 'biweekly0', 'biweekly1', 'weekly'];

function explained(family: PaydayFamily, day: number): boolean {
  for (let o = 0; o <= PAYDAY_LAG_DAYS; o++) if (isPaydayOf(family, day - o)) return true;
  return false;
}

/** The calendar that best explains the success days (ties go to the sparser calendar). */
export function fitPayday(successDays: readonly number[]): PaydayFit {
  const days = [...new Set(successDays)];
  if (days.length < MIN_SUPPORT) return { family: 'generic', support: days.length, hits: days.filter((d) => explained('generic', d)).length };
  let best: PaydayFit = { family: 'generic', support: days.length, hits: -1 };
  for (const family of FAMILIES) {
    const hits = days.filter((d) => explained(family, d)).length;
    if (hits > best.hits) best = { family, support: days.length, hits };
  }
  // A calendar that explains fewer than two thirds of the history is no pattern.
  if (best.hits < Math.max(MIN_SUPPORT, Math.ceil((2 * days.length) / 3))) return { family: 'generic', support: days.length, hits: days.filter((d) => explained('generic', d)).length };
  return best;
}

/** The latest payday in (afterDay, atDay], or null. */
export function latestPaydayIn(family: PaydayFamily, afterDay: number, atDay: number): number | null {
  for (let d = atDay; d > afterDay && atDay - d <= 62; d--) if (isPaydayOf(family, d)) return d;
  return null;
}

export function nextPaydayAfter(family: PaydayFamily, day: number): number {
  for (let d = day + 1; d <= day + 40; d++) if (isPaydayOf(family, d)) return d;
  return day + 40;
}

export function describeFamily(family: PaydayFamily): string {
  switch (family) {
    case 'generic': return 'the 1st, 15th or a Friday';
    case 'weekly': return 'a Friday';
    case 'biweekly0':
    case 'biweekly1': return 'every other Friday';
    case 'semimonthly': return 'the 1st or 15th';
    case 'monthly': return 'the last business day of the month';
  }
}
