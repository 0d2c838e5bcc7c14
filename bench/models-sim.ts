// Simulated subscription customers for the churn and risk models (bench/models.ts, the shipped priors
// and test/predict/churn-risk-quality.test.ts). No server: each customer of the sandbox card network
// (`pm_sim_*`, src/gateways/sandbox/population.ts) renews monthly; a renewal whose first charge
// declines is retried on days 1, 3, 5, 7 (4 retries in 14 days, none after a hard decline). A rescue
// that ends without a success loses the customer: the subscription ends there (that is what churn
// means), so a customer churns at most once and nothing is charged after it.
//
// Renewal instants are spread over the whole day (a subscription renews at the hour it was created),
// so the sandbox's night effect (declines 1.5× as likely at 01:00–04:00 local) is in the data.

import { classifyDecline } from '../src/domain/decline-taxonomy.ts';
import type { CardBrand } from '../src/domain/decline-types.ts';
import { hash32 } from '../src/gateways/sandbox/hash.ts';
import { sandboxCharge } from '../src/gateways/sandbox/network.ts';
import { generatePopulation, parseSimToken, simulatedProfile } from '../src/gateways/sandbox/population.ts';
import type { RescueHistoryItem } from '../src/predict/churn.ts';
import type { CardAttempt } from '../src/predict/risk.ts';
import { amountOf, timezoneForOffset } from './sandbox-examples.ts';

export const DAY = 86_400_000;
const MIN = 60_000;
export const RETRY_DAYS = [1, 3, 5, 7];
export const SIM_START = Date.parse('2026-01-05T00:00:00Z');
export const MONTH_MS = 30 * DAY;

export interface SimAttempt extends CardAttempt {
  /** The decline of the attempt before it (retries), for the per-situation baseline. */
  prevCode: string | null;
}

export interface SimRenewal {
  month: number;
  at: number;
  failed: boolean;
  lost: boolean;
  /** When the renewal was settled: its first charge, its recovering retry, or its last retry. */
  endedAt: number;
}

export interface SimCustomer {
  token: string;
  timezone: string;
  brand: string;
  amount: number;
  attempts: SimAttempt[];
  rescues: RescueHistoryItem[];
  renewals: SimRenewal[];
  /** When the customer was lost (a rescue ended lost), or null. */
  lostAt: number | null;
}

export function simulateCustomers(seed: string, customers: number, months: number): SimCustomer[] {
  const out: SimCustomer[] = [];
  generatePopulation(customers, seed).forEach((token, i) => {
    const profile = simulatedProfile(parseSimToken(token)!.seed);
    const c: SimCustomer = { token, timezone: timezoneForOffset(profile.timezoneOffsetMinutes), brand: profile.brand, amount: amountOf(profile.seed), attempts: [], rescues: [], renewals: [], lostAt: null };
    const renewalDay = i % 28;
    const minuteOfDay = hash32(`${seed}|${i}|minute`) % 1440;
    const info = (code: string, advice: string | null) => classifyDecline({ code, adviceCode: advice, brand: profile.brand as CardBrand, count: false });
    for (let m = 0; m < months && c.lostAt === null; m++) {
      const at = SIM_START + m * MONTH_MS + renewalDay * DAY + minuteOfDay * MIN;
      const first = sandboxCharge({ token, amount: c.amount, currency: 'USD', at: new Date(at), attemptKey: `${token}|${m}|0` });
      if (first.status === 'succeeded') {
        c.attempts.push({ at: new Date(at), status: 'succeeded', number: 1, amount: c.amount, declineCode: null, declineCategory: null, adviceCode: null, prevCode: null });
        c.renewals.push({ month: m, at, failed: false, lost: false, endedAt: at });
        continue;
      }
      const d0 = info(first.declineCode, first.adviceCode ?? null);
      c.attempts.push({ at: new Date(at), status: 'failed', number: 1, amount: c.amount, declineCode: d0.code, declineCategory: d0.category, adviceCode: first.adviceCode ?? null, prevCode: null });
      let recovered = false;
      let endedAt = at;
      let prevCode = d0.code;
      if (d0.category !== 'hard') {
        for (const [k, days] of RETRY_DAYS.entries()) {
          const t = at + days * DAY;
          const r = sandboxCharge({ token, amount: c.amount, currency: 'USD', at: new Date(t), attemptKey: `${token}|${m}|${k + 1}`, firstFailureAt: new Date(at), retryNumber: k + 1 });
          endedAt = t;
          if (r.status === 'succeeded') {
            c.attempts.push({ at: new Date(t), status: 'succeeded', number: k + 2, amount: c.amount, declineCode: null, declineCategory: null, adviceCode: null, prevCode });
            recovered = true;
            break;
          }
          const d = info(r.declineCode, r.adviceCode ?? null);
          c.attempts.push({ at: new Date(t), status: 'failed', number: k + 2, amount: c.amount, declineCode: d.code, declineCategory: d.category, adviceCode: r.adviceCode ?? null, prevCode });
          prevCode = d.code;
        }
      }
      c.rescues.push({ startedAt: new Date(at), outcome: recovered ? 'kept' : 'lost', endedAt: new Date(endedAt), declineCategory: d0.category, declineCode: d0.code, amount: c.amount });
      c.renewals.push({ month: m, at, failed: true, lost: !recovered, endedAt });
      if (!recovered) c.lostAt = endedAt;
    }
    out.push(c);
  });
  return out;
}

/** The customer's rescues as known at `atMs`: later ones dropped, unfinished ones open. */
export function rescuesAsOf(c: SimCustomer, atMs: number): RescueHistoryItem[] {
  return c.rescues
    .filter((r) => r.startedAt.getTime() < atMs)
    .map((r) => (r.endedAt!.getTime() < atMs ? r : { ...r, outcome: null, endedAt: null }));
}

/** Renewals made before `atMs` and how many of them failed their first charge. */
export function paymentsAsOf(c: SimCustomer, atMs: number): { payments: number; failed: number } {
  const before = c.renewals.filter((r) => r.at < atMs);
  return { payments: before.length, failed: before.filter((r) => r.failed).length };
}

/**
 * Customer-months: a customer still subscribed at the month's start, labelled 1 when a rescue of
 * theirs ends lost within the month (30 days from `SIM_START + m·30 d`).
 */
export function customerMonths(cs: readonly SimCustomer[], months: number, fromMonth = 1): { c: SimCustomer; startMs: number; y: number }[] {
  const out: { c: SimCustomer; startMs: number; y: number }[] = [];
  for (const c of cs) for (let m = fromMonth; m < months; m++) {
    const startMs = SIM_START + m * MONTH_MS;
    if (c.lostAt !== null && c.lostAt < startMs) break;
    out.push({ c, startMs, y: c.lostAt !== null && c.lostAt < startMs + MONTH_MS ? 1 : 0 });
  }
  return out;
}
