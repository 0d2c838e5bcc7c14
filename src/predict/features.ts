// Features of one retry attempt at a candidate instant, from what Rescue knows when it plans: the
// decline (code, advice code, strategy), how many retries came before, time since the failure and
// since the last attempt, the local hour / weekday / day of month in the customer's zone, where the
// instant falls relative to the customer's learned paydays, card brand, wallet, amount, the card's
// funding (credit / debit / prepaid) and whether it is foreign, the customer's tenure, and whether the
// account updater replaced the card during this rescue. Pure.
//
// Card facts may be unknown (attempts written before migration 0012, a gateway that does not say):
// unknown funding weighs like credit plus its own indicator, an unknown country counts as domestic, an
// unknown tenure has its own indicator, so an old row is never read as a debit or foreign card.
//
// Most effects differ by kind of decline (insufficient funds waits for a payday, a hold for time, a
// velocity limit for a reset, a technical error for a few hours), so the time features are crossed
// with the decline group; a linear model over these crosses stays interpretable and calibrated.

import type { RetryStrategy } from '../domain/decline-types.ts';
import { offsetAt } from '../domain/local-time.ts';
import { adviceCodeDelayMs } from '../domain/schedule-policy.ts';
import { dayOfMonthOfDay, latestPaydayIn, nextPaydayAfter, PAYDAY_LAG_DAYS, weekdayOfDay, type PaydayFit } from './payday.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type DeclineGroup = 'nsf' | 'generic' | 'hold' | 'velocity' | 'technical' | 'expired';

export function declineGroup(code: string, strategy: RetryStrategy): DeclineGroup {
  if (code === 'insufficient_funds' || strategy === 'after_payday') return 'nsf';
  switch (strategy) {
    case 'in_24_48h': return 'hold';
    case 'after_limit_reset': return 'velocity';
    case 'immediate':
    case 'in_24h': return 'technical';
    case 'after_card_update': return 'expired';
    default: return 'generic';
  }
}

export interface RetryFeatureInput {
  declineCode: string;
  strategy: RetryStrategy;
  adviceCode: string | null;
  /** 1 for the first retry after the initial decline. */
  retryNumber: number;
  /** The initial decline that started the rescue (or the current payment method's first decline). */
  rescueStartedAtMs: number;
  /** The latest failed attempt. */
  lastAttemptAtMs: number;
  /** The candidate instant. */
  atMs: number;
  timezone: string;
  brand: string;
  paymentMethodType: string;
  /** Minor units. */
  amount: number;
  payday: PaydayFit;
  /** credit / debit / prepaid; null or absent: unknown. */
  funding?: string | null;
  /** The card's issuing country (ISO alpha-2); null or absent: unknown (counted as domestic). */
  cardCountry?: string | null;
  /** The merchant's (customer's) country when known; absent: US, the sandbox's and most accounts'. */
  homeCountry?: string | null;
  /** When the customer was created, on the payment's clock; null or absent: unknown. */
  customerCreatedAtMs?: number | null;
  /** The account updater (or the customer) replaced the card during this rescue, before this attempt. */
  cardWasUpdated?: boolean;
}

export const DEFAULT_HOME_COUNTRY = 'US';

/** The card and customer facts of a retry that do not depend on its instant (planner, API, risk). */
export type CardContext = Pick<RetryFeatureInput, 'funding' | 'cardCountry' | 'homeCountry' | 'customerCreatedAtMs' | 'cardWasUpdated'>;

export const FEATURE_NAMES = [
  'bias',
  'g_nsf', 'g_hold', 'g_velocity', 'g_technical', 'g_expired',
  'generic_retry', 'generic_logdays',
  'nsf_window', 'nsf_decay', 'nsf_window_known', 'nsf_decay_known', 'nsf_passed', 'nsf_large', 'nsf_retry', 'nsf_days_to_payday',
  'hold_days', 'hold_logdays', 'hold_retry',
  'vel_midnight', 'vel_monday', 'vel_retry',
  'tech_cleared', 'tech_retry',
  'expired_retry',
  'night', 'hour_sin', 'hour_cos', 'dom_sin', 'dom_cos', 'weekend',
  'log_amount', 'mastercard', 'amex', 'wallet', 'advice_delay_met', 'log_hours_since_last',
  'debit', 'prepaid', 'funding_unknown', 'debit_nsf', 'debit_generic', 'debit_hold',
  'foreign_card', 'log_tenure', 'new_customer', 'tenure_unknown',
  'card_updated', 'expired_updated',
  'nsf_payday_tried', 'generic_log_hours',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

/**
 * Local day number and minute of day of an instant in a zone (offset taken at the instant). Called for
 * every candidate slot of every plan: the offset comes from local-time.ts's per-zone hour cache, so
 * after a zone's first plan this hour no Intl conversion runs.
 */
export function localClock(atMs: number, timezone: string): { day: number; minute: number } {
  let off = 0;
  try {
    off = offsetAt(atMs, timezone);
  } catch {
    off = 0;
  }
  const local = atMs + off;
  const day = Math.floor(local / DAY_MS);
  return { day, minute: Math.floor((local - day * DAY_MS) / 60_000) };
}

/** Numbers the model reads for f; same order as FEATURE_NAMES. */
export function featurize(f: RetryFeatureInput): number[];
export function featurize(f: RetryFeatureInput, out: Float64Array): Float64Array;
export function featurize(f: RetryFeatureInput, out?: Float64Array): number[] | Float64Array {
  const group = declineGroup(f.declineCode, f.strategy);
  const is = (g: DeclineGroup) => (group === g ? 1 : 0);
  const k = Math.max(0, f.retryNumber - 1);
  const days = Math.max(0, f.atMs - f.rescueStartedAtMs) / DAY_MS;
  const hoursSinceLast = Math.max(0, f.atMs - f.lastAttemptAtMs) / HOUR_MS;
  const at = localClock(f.atMs, f.timezone);
  const start = localClock(f.rescueStartedAtMs, f.timezone);

  // Paydays since the rescue began, on the customer's learned calendar.
  const payday = latestPaydayIn(f.payday.family, start.day, at.day);
  const sincePayday = payday === null ? -1 : at.day - payday;
  const window = payday !== null && sincePayday <= PAYDAY_LAG_DAYS ? 1 : 0;
  const decay = payday === null ? 0 : 0.85 ** Math.max(0, sincePayday - PAYDAY_LAG_DAYS);
  const known = f.payday.family === 'generic' ? 0 : 1;
  const toPayday = Math.min(30, nextPaydayAfter(f.payday.family, at.day) - at.day);
  // A retry already ran on or after that payday and failed: the calendar may not be this customer's
  // (an off week of a biweekly pay, another country's payday), so the payday says less.
  const paydayTried = group === 'nsf' && payday !== null && f.lastAttemptAtMs > f.rescueStartedAtMs && localClock(f.lastAttemptAtMs, f.timezone).day >= payday ? 1 : 0;

  const weekdayAt = weekdayOfDay(at.day);
  const mondaysCrossed = (() => {
    for (let d = start.day + 1; d <= at.day && d <= start.day + 8; d++) if (weekdayOfDay(d) === 1) return 1;
    return 0;
  })();
  const hourAngle = (2 * Math.PI * at.minute) / 1440;
  const domAngle = (2 * Math.PI * (dayOfMonthOfDay(at.day) - 1)) / 31;
  const nsf = is('nsf');
  const hold = is('hold');
  const vel = is('velocity');
  const tech = is('technical');
  const delay = adviceCodeDelayMs(f.adviceCode ?? undefined);
  const funding = f.funding?.toLowerCase() ?? null;
  const debit = funding === 'debit' ? 1 : 0;
  const prepaid = funding === 'prepaid' ? 1 : 0;
  const fundingUnknown = funding === 'debit' || funding === 'prepaid' || funding === 'credit' ? 0 : 1;
  const home = (f.homeCountry ?? DEFAULT_HOME_COUNTRY).toUpperCase();
  const foreign = f.cardCountry && f.cardCountry.toUpperCase() !== home ? 1 : 0;
  const tenureDays = f.customerCreatedAtMs == null ? null : Math.max(0, f.atMs - f.customerCreatedAtMs) / DAY_MS;
  const updated = f.cardWasUpdated ? 1 : 0;

  // Written into `out` when given (the planner's scorer reuses one buffer for every candidate slot).
  const v: number[] | Float64Array = out ?? new Array<number>(FEATURE_NAMES.length);
  v[0] = 1;
  v[1] = nsf;
  v[2] = hold;
  v[3] = vel;
  v[4] = tech;
  v[5] = is('expired');
  v[6] = is('generic') * k;
  v[7] = is('generic') * Math.log1p(days);
  v[8] = nsf * window;
  v[9] = nsf * decay;
  v[10] = nsf * window * known;
  v[11] = nsf * decay * known;
  v[12] = nsf * (payday === null ? 0 : 1);
  v[13] = nsf * (f.amount > 20_000 ? 1 : 0);
  v[14] = nsf * k;
  v[15] = nsf * (toPayday / 10);
  v[16] = hold * (Math.min(days, 20) / 10);
  v[17] = hold * Math.log1p(days);
  v[18] = hold * k;
  v[19] = vel * (at.day > start.day ? 1 : 0);
  v[20] = vel * mondaysCrossed;
  v[21] = vel * k;
  v[22] = tech * (f.atMs - f.rescueStartedAtMs >= 4 * HOUR_MS ? 1 : 0);
  v[23] = tech * k;
  v[24] = is('expired') * k;
  v[25] = at.minute >= 60 && at.minute < 240 ? 1 : 0;
  v[26] = Math.sin(hourAngle);
  v[27] = Math.cos(hourAngle);
  v[28] = Math.sin(domAngle);
  v[29] = Math.cos(domAngle);
  v[30] = weekdayAt === 0 || weekdayAt === 6 ? 1 : 0;
  v[31] = Math.log(Math.max(1, f.amount) / 100) / 5;
  v[32] = f.brand === 'mastercard' ? 1 : 0;
  v[33] = f.brand === 'amex' ? 1 : 0;
  v[34] = f.paymentMethodType === 'card' ? 0 : 1;
  v[35] = delay > 0 && f.atMs - f.lastAttemptAtMs >= delay ? 1 : 0;
  v[36] = (1 - is('generic')) * (Math.log1p(hoursSinceLast) / 5);
  v[37] = debit;
  v[38] = prepaid;
  v[39] = fundingUnknown;
  v[40] = debit * nsf;
  v[41] = debit * is('generic');
  v[42] = debit * hold;
  v[43] = foreign;
  v[44] = tenureDays === null ? 0 : Math.log1p(tenureDays) / 5;
  v[45] = tenureDays !== null && tenureDays < 60 ? 1 : 0;
  v[46] = tenureDays === null ? 1 : 0;
  v[47] = updated;
  v[48] = updated * is('expired');
  v[49] = nsf * paydayTried;
  // A generic decline's own slope in the hours since the last attempt. Shared with the groups that wait
  // for something (a payday, a hold, a reset), it read a generic decline as likelier hours later, where
  // its chance falls per retry, not with the hour (the prior fits +0.07 apart, against their +0.35).
  v[50] = is('generic') * (Math.log1p(hoursSinceLast) / 5);
  return v;
}
