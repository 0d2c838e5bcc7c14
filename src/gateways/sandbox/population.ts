// Simulated customers behind `pm_sim_<seed>` tokens. Everything about a customer — card, pay schedule,
// the decline their renewal hits and whether it can ever recover — is derived from the seed by hashing,
// so a population of any size needs no storage and every benchmark run sees the same customers.
//
// Parameters come from /work/shared/research/retry-facts.md ("Suggested simulator parameters", §S below,
// and the numbered sections §1–§6). **[A]** marks our own calibration where the research gives no figure.

import type { CardBrand } from '../../domain/decline-types.ts';
import { fingerprintOf, hash32, mix32, normalFrom, pickWeighted, toUnit } from './hash.ts';
import { SIM_WORLDS, US_OUTAGES, worldOfSeed, type IssuerOutages } from './worlds.ts';

export type SimFunding = 'credit' | 'debit';

/** Buckets of the decline-mix table (§S.2); the network's per-attempt model is defined per bucket. */
export type DeclineBucket =
  | 'generic'
  | 'hold'
  | 'velocity'
  | 'nsf'
  | 'fraud'
  | 'invalid_card'
  | 'invalid_transaction'
  | 'technical'
  | 'expired';

export type PaySchedule =
  /** weekday: 0 = Sunday … 6 = Saturday; Friday when absent. */
  | { kind: 'weekly'; weekday?: number }
  /**
   * parity: which alternate Friday is payday (the anchor), counted from Friday 1970-01-02; with
   * `weekday`, which alternate such weekday, counted from the first one on or after 1970-01-01.
   */
  | { kind: 'biweekly'; parity: 0 | 1; weekday?: number }
  | { kind: 'semimonthly' }
  /**
   * The last business day of the month when neither field is given; `day`: that day of the month
   * (a weekend payday moves to the Friday before); `lastWeekday`: the month's last such weekday.
   */
  | { kind: 'monthly'; day?: number; lastWeekday?: number };

export interface SimulatedProfile {
  seed: string;
  brand: CardBrand;
  funding: SimFunding;
  country: string;
  last4: string;
  expMonth: number;
  expYear: number;
  fingerprint: string;
  /** Fixed offset east of UTC; DST is ignored (one hour does not move a payday). */
  timezoneOffsetMinutes: number;
  /** Probability that a renewal's first attempt declines, before the time-of-day effect. */
  firstAttemptFailRate: number;
  firstDecline: { code: string; bucket: DeclineBucket };
  /** Latent: this customer's decline never clears, whatever the schedule (§S.3). */
  unrecoverable: boolean;
  paySchedule: PaySchedule;
  /** Days after the failure when a temporary hold clears (§S.3, lognormal). */
  holdClearDays: number;
  /** When a velocity/amount limit resets, in the customer's local time. */
  velocityReset: 'daily' | 'weekly';
  /** Issuer bucket; issuers have short outage windows (see issuerOutageAt). Ids from 64 are a world's own issuers (SIM_WORLDS). */
  issuer: number;
  /** Account updater finds a replacement for an expired card (§S.3, p = 0.75). */
  updaterFindsCard: boolean;
  /** The world this customer lives in (SIM_WORLDS), when the seed names one; absent: the default US world. */
  world?: string;
}


// §S.1 / §1: 53% credit / 47% debit for B2C.
const DEBIT_SHARE = 0.47;

// §S.1: base 7%, debit fails more. Credit 5.5% and debit 8.7% blend to 7.0% at 53/47 [A: the split].
const BASE_FAIL_RATE: Record<SimFunding, number> = { credit: 0.055, debit: 0.087 };
// Customers differ: a lognormal multiplier with mean 1 (σ = 0.5) spreads individual rates over roughly
// 2–15%, the §6 range of published renewal failure rates, and makes some customers fail repeatedly [A].
const FAIL_RATE_SIGMA = 0.5;

// Brand mix [A]: no figure in the research; roughly US card-not-present share. Amex issues no debit.
const CREDIT_BRANDS: readonly (readonly [CardBrand, number])[] = [['visa', 0.52], ['mastercard', 0.28], ['amex', 0.16], ['discover', 0.04]];
const DEBIT_BRANDS: readonly (readonly [CardBrand, number])[] = [['visa', 0.72], ['mastercard', 0.28]];

// §1 Recurly recurring-failure table, one column per funding. The blended §S.2 table is exactly the
// 53/47 average of these columns, and "debit shifts NSF to ~29%, hold to ~10%" is the debit column.
// "Other" is technical; the part of each column the study left unallocated is expired_card (§S.2 [A]).
// Temporary hold is split into a hold that clears by itself (70%) and a velocity limit (30%) [A].
const DECLINE_MIX: Record<SimFunding, readonly (readonly [DeclineBucket, number])[]> = {
  credit: [
    ['generic', 51.74], ['hold', 25.48 * 0.7], ['velocity', 25.48 * 0.3], ['nsf', 6.94], ['fraud', 5.15],
    ['invalid_card', 1.67], ['invalid_transaction', 1.51], ['technical', 6.31], ['expired', 1.2],
  ],
  debit: [
    ['generic', 37.77], ['hold', 10.05 * 0.7], ['velocity', 10.05 * 0.3], ['nsf', 28.99], ['fraud', 6.03],
    ['invalid_card', 8.32], ['invalid_transaction', 1.51], ['technical', 4.63], ['expired', 2.7],
  ],
};

// Codes within a bucket [A]: Stripe says most declines are generic_decline / do_not_honor (§1); the
// other names are the seed's and Stripe's codes for the same reasons.
const BUCKET_CODES: Record<DeclineBucket, readonly (readonly [string, number])[]> = {
  generic: [['generic_decline', 0.6], ['do_not_honor', 0.4]],
  hold: [['try_again_later', 1]],
  velocity: [['card_velocity_exceeded', 0.5], ['exceeds_limit', 0.5]],
  nsf: [['insufficient_funds', 1]],
  fraud: [['lost_card', 0.3], ['stolen_card', 0.3], ['fraudulent', 0.4]],
  invalid_card: [['incorrect_number', 0.4], ['account_closed', 0.6]],
  invalid_transaction: [['restricted_card', 0.6], ['card_not_supported', 0.2], ['transaction_not_allowed', 0.2]],
  technical: [['processing_error', 0.45], ['issuer_unavailable', 0.25], ['gateway_error', 0.15], ['network_timeout', 0.15]],
  expired: [['expired_card', 1]],
};

/** Buckets that no retry can fix (§S.3 "Hard codes: p = 0 forever"). */
export const HARD_BUCKETS: ReadonlySet<DeclineBucket> = new Set(['fraud', 'invalid_card', 'invalid_transaction']);

// §S.3: 35% of generic and 30% of NSF declines are latently unrecoverable.
const UNRECOVERABLE_SHARE: Partial<Record<DeclineBucket, number>> = { generic: 0.35, nsf: 0.3 };

// §3 BLS CES 2019 pay frequency: weekly 33.8, biweekly 42.2, semimonthly 18.6, monthly 5.4 (§S.3 rounds).
const PAY_SCHEDULES: readonly (readonly [PaySchedule['kind'], number])[] = [
  ['biweekly', 0.42], ['weekly', 0.34], ['semimonthly', 0.19], ['monthly', 0.05],
];

// §S.3 hold clear: lognormal, median 5 days, 95th percentile 15 days → σ = ln(15/5) / 1.645.
const HOLD_MEDIAN_DAYS = 5;
const HOLD_SIGMA = Math.log(15 / 5) / 1.6449;

/** The day a temporary hold clears, from two uniform draws (bench/hold-bound.ts reads the same law). */
export function holdClearDaysFrom(u1: number, u2: number): number {
  return HOLD_MEDIAN_DAYS * Math.exp(HOLD_SIGMA * normalFrom(u1, u2));
}

// US time zones weighted by population [A] (Eastern, Central, Mountain, Pacific; standard time).
const TIMEZONES: readonly (readonly [number, number])[] = [[-300, 0.47], [-360, 0.29], [-420, 0.07], [-480, 0.17]];

const ISSUERS = 64;
// §S.3 updater coverage 0.75, the middle of Recurly's 70–85% (§4).
const UPDATER_SUCCESS = 0.75;

/** Salts for the independent draws of one profile. */
const SALT = { funding: 1, brand: 2, failRate1: 3, failRate2: 4, bucket: 5, code: 6, unrecoverable: 7, pay: 8, parity: 9,
  hold1: 10, hold2: 11, velocity: 12, tz: 13, issuer: 14, updater: 15, last4: 16, exp: 17 } as const;

/**
 * `pm_sim_<seed>` with an optional `_u<n>` (card replaced n times by the account updater), an
 * optional `_declined` (this renewal's first attempt declines: the population a merchant hands to a
 * recovery engine, used by backtests and benchmarks) and an optional `_failing` after it (every retry
 * declines too, with the code a failed retry would get: the path along which a rescue's exact expected
 * outcome is computed, bench/recovery); other suffixes are ignored.
 */
const SIM_PATTERN = /^pm_sim_([A-Za-z0-9.-]+)(?:_u(\d{1,3}))?(_declined)?(_failing)?(?:_|$)/;

export interface SimToken {
  seed: string;
  updates: number;
  declined: boolean;
  failing: boolean;
}

export function parseSimToken(token: string): SimToken | null {
  const m = SIM_PATTERN.exec(token);
  if (m === null || m[1] === undefined) return null;
  return { seed: m[1], updates: m[2] === undefined ? 0 : Number(m[2]), declined: m[3] !== undefined, failing: m[4] !== undefined };
}

/** The token's suffixes after the seed and the updater's count, as written (`_declined`, `_failing`). */
export function simTokenFlags(t: SimToken): string {
  return `${t.declined ? '_declined' : ''}${t.failing ? '_failing' : ''}`;
}

export function simulatedProfile(seed: string | number): SimulatedProfile {
  const s = String(seed);
  const h = hash32(`pm_sim:${s}`);
  const u = (salt: number): number => toUnit(mix32(h, salt));

  const funding: SimFunding = u(SALT.funding) < DEBIT_SHARE ? 'debit' : 'credit';
  const brand = pickWeighted(funding === 'debit' ? DEBIT_BRANDS : CREDIT_BRANDS, u(SALT.brand));
  const heterogeneity = Math.exp(FAIL_RATE_SIGMA * normalFrom(u(SALT.failRate1), u(SALT.failRate2)) - (FAIL_RATE_SIGMA ** 2) / 2);
  const firstAttemptFailRate = Math.min(0.6, Math.max(0.01, BASE_FAIL_RATE[funding] * heterogeneity));

  const bucket = pickWeighted(DECLINE_MIX[funding], u(SALT.bucket));
  const code = pickWeighted(BUCKET_CODES[bucket], u(SALT.code));
  const unrecoverable = HARD_BUCKETS.has(bucket) || u(SALT.unrecoverable) < (UNRECOVERABLE_SHARE[bucket] ?? 0);

  const worldName = worldOfSeed(s);
  const world = worldName === null ? null : SIM_WORLDS[worldName]!;
  const payKind = pickWeighted(PAY_SCHEDULES, u(SALT.pay));
  let paySchedule: PaySchedule = payKind === 'biweekly'
    ? { kind: 'biweekly', parity: u(SALT.parity) < 0.5 ? 0 : 1 }
    : { kind: payKind };
  if (world !== null) {
    const calendar = pickWeighted(world.payCalendars, u(SALT.pay));
    paySchedule = calendar.kind === 'biweekly' ? { ...calendar, parity: u(SALT.parity) < 0.5 ? 0 : 1 } : calendar;
  }
  const zone = world === null ? null : pickWeighted(world.timezones.map(([offset, w, country]) => [[offset, country] as const, w] as const), u(SALT.tz));

  const holdClearDays = holdClearDaysFrom(u(SALT.hold1), u(SALT.hold2));
  const expiryDraw = mix32(h, SALT.exp);
  // Expiry is arbitrary but stable; a customer whose renewal hits expired_card holds a card that
  // expired in 2025 (the research is dated November 2026), everyone else a card valid into 2027–2031.
  const expYear = bucket === 'expired' ? 2025 : 2027 + (expiryDraw % 5);

  const profile: SimulatedProfile = {
    seed: s,
    brand,
    funding,
    country: zone?.[1] ?? 'US',
    last4: String(mix32(h, SALT.last4) % 10000).padStart(4, '0'),
    expMonth: 1 + ((expiryDraw >>> 8) % 12),
    expYear,
    fingerprint: fingerprintOf(`pm_sim:${s}`),
    timezoneOffsetMinutes: zone?.[0] ?? pickWeighted(TIMEZONES, u(SALT.tz)),
    firstAttemptFailRate,
    firstDecline: { code, bucket },
    unrecoverable,
    paySchedule,
    holdClearDays,
    velocityReset: u(SALT.velocity) < 0.5 ? 'daily' : 'weekly',
    issuer: (world?.issuers.firstIssuer ?? 0) + (mix32(h, SALT.issuer) % ISSUERS),
    updaterFindsCard: u(SALT.updater) < UPDATER_SUCCESS,
  };
  if (worldName !== null) profile.world = worldName;
  return profile;
}

/**
 * `count` tokens of a population named by `seed`; the same arguments always give the same customers.
 * With `declined`, every token's next first attempt declines with the customer's decline code.
 */
export function generatePopulation(count: number, seed: string | number, o: { declined?: boolean; world?: string } = {}): string[] {
  const raw = String(seed);
  const prefix = /^[A-Za-z0-9.]+$/.test(raw) ? raw : hash32(raw).toString(36);
  const suffix = o.declined ? '_declined' : '';
  if (o.world !== undefined && !Object.hasOwn(SIM_WORLDS, o.world)) throw new Error(`unknown simulated world ${o.world}`);
  const world = o.world === undefined ? '' : `.world-${o.world}`;
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) tokens.push(`pm_sim_${prefix}-${i}${world}${suffix}`);
  return tokens;
}

// --- Local calendar arithmetic on day numbers (days since 1970-01-01 in the customer's local time). ---

const DAY_MS = 86_400_000;

export function localDayOf(atMs: number, offsetMinutes: number): number {
  return Math.floor((atMs + offsetMinutes * 60_000) / DAY_MS);
}

/** 0 = Sunday … 6 = Saturday; day 0 was a Thursday. */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

function isBusinessDay(day: number): boolean {
  const w = weekdayOf(day);
  return w !== 0 && w !== 6;
}

function dayOfMonth(day: number): number {
  return new Date(day * DAY_MS).getUTCDate();
}

function monthOf(day: number): number {
  return new Date(day * DAY_MS).getUTCMonth();
}

/**
 * Whether `day` is a payday. Weekend paydays move to the previous business day; bank holidays are
 * ignored. Semimonthly pays on the 1st and 15th (§3, Recurly's CEO), monthly on the last business day.
 */
export function isPayday(schedule: PaySchedule, day: number): boolean {
  if (!isBusinessDay(day)) return false;
  switch (schedule.kind) {
    case 'weekly':
      return weekdayOf(day) === (schedule.weekday ?? 5);
    case 'biweekly': {
      // Fridays are days 1, 8, 15, …; alternate weeks by parity (another weekday: its first day ≥ 0).
      const weekday = schedule.weekday ?? 5;
      const anchor = (weekday - 4 + 7) % 7;
      return weekdayOf(day) === weekday && Math.floor((day - anchor) / 7) % 2 === schedule.parity;
    }
    case 'semimonthly': {
      const target = (d: number): boolean => dayOfMonth(d) === 1 || dayOfMonth(d) === 15;
      if (target(day)) return true;
      // Friday takes the following weekend's payday.
      return weekdayOf(day) === 5 && (target(day + 1) || target(day + 2));
    }
    case 'monthly': {
      if (schedule.lastWeekday !== undefined) return weekdayOf(day) === schedule.lastWeekday && monthOf(day + 7) !== monthOf(day);
      if (schedule.day !== undefined) {
        const target = (d: number): boolean => dayOfMonth(d) === schedule.day;
        // Friday takes the following weekend's payday.
        return target(day) || (weekdayOf(day) === 5 && (target(day + 1) || target(day + 2)));
      }
      const next = weekdayOf(day) === 5 ? day + 3 : day + 1;
      return monthOf(next) !== monthOf(day);
    }
  }
}

/** The latest payday in (afterDay, atDay], or null; a bounded scan (rescue windows are ≤ 60 days). */
export function latestPaydayBetween(schedule: PaySchedule, afterDay: number, atDay: number): number | null {
  for (let d = atDay; d > afterDay && atDay - d <= 62; d--) if (isPayday(schedule, d)) return d;
  return null;
}

/** The first payday after `day`. */
export function nextPaydayAfter(schedule: PaySchedule, day: number): number {
  for (let d = day + 1; d <= day + 40; d++) if (isPayday(schedule, d)) return d;
  return day + 40;
}

/**
 * Issuer outages [A]: each issuer has a 2% chance per UTC day of a 1–4 hour outage starting at a random
 * hour; during one every attempt gets issuer_unavailable. This is ~0.2% of time, inside the §S.2
 * "technical 5.5%" share, and gives an immediate-retry policy something real to learn.
 */
export function issuerOutageAt(issuer: number, atMs: number): boolean {
  const outages = outagesOf(issuer);
  const day = Math.floor(atMs / DAY_MS);
  for (const d of [day, day - 1]) {
    const h = mix32(hash32(`issuer:${issuer}`), d);
    if (toUnit(h) >= outages.dailyChance) continue;
    const startHour = (outages.startHourUtc.from + (mix32(h, 1) % outages.startHourUtc.span)) % 24;
    const start = d * DAY_MS + startHour * 3_600_000;
    const end = start + (1 + (mix32(h, 2) % 4)) * 3_600_000;
    if (atMs >= start && atMs < end) return true;
  }
  return false;
}

/** The outage regime of an issuer id: a world's own issuers (ids from its firstIssuer) or the default. */
function outagesOf(issuer: number): IssuerOutages {
  if (issuer < ISSUERS) return US_OUTAGES;
  for (const w of Object.values(SIM_WORLDS)) if (issuer >= w.issuers.firstIssuer && issuer < w.issuers.firstIssuer + ISSUERS) return w.issuers.outages;
  return US_OUTAGES;
}
