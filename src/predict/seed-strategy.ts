// Seed 003's strategy table ("Decline Categories and Handling") as the first retry's instant: the
// prior a fresh account's learned schedule follows (learned-policy.ts).

import type { PlanInput } from '../domain/schedule-policy.ts';
import { localClock } from './features.ts';
import { describeFamily, isPaydayOf, type PaydayFit } from './payday.ts';
import { afterQuiet, atLocal, earliestRetry } from './plan-slots.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A payday retry's local time: just after midnight, when the day's deposit is usually posted and
 * before the payday's other bills reach it — about half of the spending spike right after a paycheck
 * is recurring bills (Gelman et al. 2014), and Stripe sees debit cards in some countries approve
 * slightly more at 12:01 AM local (research/retry-facts.md §3). The benchmark chose it over 09:00
 * and 06:00: the same revenue, insufficient funds recovered 6–9 hours sooner (docs/prediction.md).
 */
const PAYDAY_MINUTE = 10;
/** Just after a daily limit's reset at local midnight. */
const RESET_MINUTE = 10;

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
      reason = `insufficient funds; retried just after midnight on ${calendar} (seed strategy: after payday)`;
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
