// The instants a learned plan may use: the spacing between retries, the earliest allowed retry,
// candidate times of day in the customer's zone, all out of the 01:00–04:00 quiet hours.

import type { PlanInput } from '../domain/schedule-policy.ts';
import { adviceCodeDelayMs, avoidQuiet, inQuietHours, MIN_RETRY_GAP_MS } from '../domain/schedule-policy.ts';
import { declineGroup, localClock, type DeclineGroup } from './features.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Local times of day (minutes) offered each day: just after midnight (limits reset), morning, afternoon, evening. */
const DAILY_SLOTS = [10, 9 * 60, 13 * 60, 18 * 60, 22 * 60];
/** Hour-scale offsets after the failure, for technical errors. */
const NEAR_OFFSETS = [0, HOUR, 4 * HOUR + 10 * MINUTE];

/** After the first retry, the least time between two retries of the same rescue (see the header). */
export function retrySpacingMs(group: DeclineGroup, strategy: string): number {
  // Recurly retries communication errors at 4 h intervals (research/retry-facts.md §1).
  if (group === 'technical' && strategy === 'immediate') return 4 * HOUR;
  return DAY;
}

function inQuiet(atMs: number, tz: string): boolean {
  return inQuietHours(new Date(atMs), tz);
}

/** Local day number + minute of day → instant, with the offset taken near that time (fixed-offset and DST zones). */
export function atLocal(day: number, minute: number, tz: string): number {
  const guess = day * DAY + minute * MINUTE;
  const off1 = localClock(guess, tz);
  const offsetMs = (off1.day * DAY + off1.minute * MINUTE) - guess;
  return guess - offsetMs;
}

/** Out of 01:00–04:00 local: the end of the quiet hours that day. */
export function afterQuiet(atMs: number, tz: string): number {
  return avoidQuiet(new Date(atMs), tz).getTime();
}

/** The first instant a retry may take: the minimum gap, an advice-code delay, and after a retry the spacing. */
export function earliestRetry(input: PlanInput): number {
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
