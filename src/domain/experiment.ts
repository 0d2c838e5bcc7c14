import type { RetrySchedule } from './auto-rescue-policy.ts';

// The control group: an account may hold back a share of its hand-offs (0–20 %) from the automatic
// policy and retry them on a plain fixed schedule instead, so the dashboard can show what the policy
// adds, with a confidence interval, rather than claim it. Pure: assignment is a hash, not a draw.

export const CONTROL_GROUP_PERCENT = { min: 0, max: 20 } as const;

export type ExperimentGroup = 'treatment' | 'control';

/**
 * Assignment is a deterministic function of the hand-off's unit key (its idempotency key, else its
 * recovery id), so it is reproducible, independent of anything about the payment, and the same if the
 * hand-off is ever re-evaluated. Null when no experiment runs.
 */
export function experimentGroup(unitKey: string, controlPercent: number): ExperimentGroup | null {
  if (!(controlPercent > 0)) return null;
  return unitDraw(`control-group\u0000${unitKey}`) * 100 < controlPercent ? 'control' : 'treatment';
}

/** A uniform draw in [0, 1) named by a string: FNV-1a finished with murmur3's fmix32. */
export function unitDraw(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * The control group's plain fixed schedule: the same budget as the policy (max retries, window), the
 * retries on whole days spread evenly over the window, whatever the decline — what a billing system
 * without a retry policy does (e.g. 4 retries in 14 days: days 4, 7, 11, 14).
 */
export function fixedSchedule(maxRetries: number, windowDays: number): Extract<RetrySchedule, { kind: 'custom' }> {
  const n = Math.max(1, Math.floor(maxRetries));
  const days: number[] = [];
  for (let k = 1; k <= n; k++) {
    const previous = days.length > 0 ? days[days.length - 1]! : 0;
    const day = Math.max(previous + 1, Math.round((k * windowDays) / n));
    if (day > windowDays) break;
    days.push(day);
  }
  return { kind: 'custom', days };
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** 1.959964: the two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

/** Wilson score interval for a proportion x/n (Wilson 1927). */
export function wilsonInterval(x: number, n: number, z = Z95): Interval {
  if (n <= 0) return { estimate: 0, low: 0, high: 1 };
  const p = x / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At x = 0 and x = n the bounds are exactly 0 and 1; say so rather than leave rounding residue.
  return { estimate: p, low: x === 0 ? 0 : Math.max(0, centre - half), high: x === n ? 1 : Math.min(1, centre + half) };
}

/**
 * Difference of two independent proportions x1/n1 − x2/n2 with Newcombe's hybrid score interval
 * (Newcombe 1998, "Interval estimation for the difference between independent proportions", method
 * 10): it combines the two Wilson intervals, stays inside [−1, 1], and keeps close to its nominal
 * coverage for the small groups a 0–20 % control group gives, where the Wald interval does not.
 * Null when either group is empty.
 */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, z = Z95): Interval | null {
  if (n1 <= 0 || n2 <= 0) return null;
  const a = wilsonInterval(x1, n1, z);
  const b = wilsonInterval(x2, n2, z);
  const d = a.estimate - b.estimate;
  return {
    estimate: d,
    low: d - Math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2),
    high: d + Math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2),
  };
}
