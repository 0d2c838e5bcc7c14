// Training examples drawn straight from the sandbox card network (no server, no database): each
// simulated customer's renewal declines once a month, and its retries are tried at random instants
// within a 14-day window, so the prior sees every kind of timing, good and bad. The customer's
// earlier recoveries become their payday history, as they would in the attempts table. Each example
// carries the card's funding and country (population.ts: debit and credit have their own decline
// mixes), the customer's tenure (a signup 0–3 years before the first renewal, from a hash of the
// customer so the retry draws are unchanged) and whether the account updater replaced the card.

import { classifyDecline } from '../src/domain/decline-taxonomy.ts';
import type { CardBrand } from '../src/domain/decline-types.ts';
import { unitOf } from '../src/gateways/sandbox/hash.ts';
import { HARD_BUCKETS, generatePopulation, parseSimToken, simulatedProfile } from '../src/gateways/sandbox/population.ts';
import { sandboxAccountUpdater, sandboxCharge } from '../src/gateways/sandbox/network.ts';
import { localClock } from '../src/predict/features.ts';
import { fitPayday } from '../src/predict/payday.ts';
import type { Example } from '../src/predict/retry-model.ts';

const DAY = 86_400_000;
const MIN = 60_000;

/** A fixed-offset IANA zone for a simulated customer's offset (Etc/GMT+5 is UTC−5). */
export function timezoneForOffset(offsetMinutes: number): string {
  const h = -offsetMinutes / 60;
  return h === 0 ? 'UTC' : `Etc/GMT${h > 0 ? '+' : '-'}${Math.abs(h)}`;
}

/** mulberry32: a small seeded generator, so the prior is the same on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimulateOptions {
  customers: number;
  months: number;
  seed: string;
  start?: Date;
  retries?: number;
  windowDays?: number;
}

export function simulateExamples(o: SimulateOptions): Example[] {
  const rnd = seededRandom(Number.parseInt(o.seed.replace(/\D/g, '').slice(0, 8) || '7', 10) + o.customers);
  const start = (o.start ?? new Date('2026-01-05T15:00:00Z')).getTime();
  const retries = o.retries ?? 4;
  const windowMs = (o.windowDays ?? 14) * DAY;
  const examples: Example[] = [];
  for (const token of generatePopulation(o.customers, o.seed, { declined: true })) {
    const profile = simulatedProfile(parseSimToken(token)!.seed);
    if (HARD_BUCKETS.has(profile.firstDecline.bucket)) continue;
    const tz = timezoneForOffset(profile.timezoneOffsetMinutes);
    const successDays: number[] = [];
    // The sandbox decides nothing by tenure [A]: the prior should learn (close to) no effect from it.
    const createdAtMs = start - Math.floor(unitOf(`pm_sim:${profile.seed}`, 'signup') * 3 * 365) * DAY;
    for (let m = 0; m < o.months; m++) {
      const failedAt = start + m * 30 * DAY + Math.floor(rnd() * 20) * DAY + Math.floor(rnd() * 14 * 60) * MIN;
      const first = sandboxCharge({ token, amount: amountOf(profile.seed), currency: 'USD', at: new Date(failedAt), attemptKey: `${token}|${m}|0` });
      if (first.status === 'succeeded') continue;
      let adviceCode = first.adviceCode ?? null;
      const times = Array.from({ length: retries }, () => failedAt + 10 * MIN + Math.floor(rnd() * (windowMs - 10 * MIN)))
        .sort((a, b) => a - b);
      let last = failedAt;
      let payToken = token;
      const payday = fitPayday(successDays);
      for (let k = 1; k <= retries; k++) {
        const at = times[k - 1]!;
        if (at - last < 10 * MIN) continue;
        const update = sandboxAccountUpdater(payToken, new Date(at));
        if (update.updated && update.newToken) payToken = update.newToken;
        const decline = classifyDecline({ code: profile.firstDecline.code, adviceCode, brand: profile.brand as CardBrand });
        const amount = amountOf(profile.seed);
        const out = sandboxCharge({ token: payToken, amount, currency: 'USD', at: new Date(at), attemptKey: `${token}|${m}|${k}`, firstFailureAt: new Date(failedAt), retryNumber: k });
        examples.push({
          atMs: at,
          y: out.status === 'succeeded' ? 1 : 0,
          input: {
            declineCode: decline.code,
            strategy: decline.strategy,
            adviceCode,
            retryNumber: k,
            rescueStartedAtMs: failedAt,
            lastAttemptAtMs: last,
            atMs: at,
            timezone: tz,
            brand: profile.brand,
            paymentMethodType: 'card',
            amount,
            payday,
            funding: profile.funding,
            cardCountry: profile.country,
            customerCreatedAtMs: createdAtMs,
            cardWasUpdated: payToken !== token,
          },
        });
        last = at;
        if (out.status === 'succeeded') {
          successDays.push(localClock(at, tz).day);
          break;
        }
        adviceCode = out.adviceCode ?? null;
      }
    }
  }
  return examples;
}

/** A stable subscription price per customer: $5–$300. */
export function amountOf(seed: string): number {
  let h = 0;
  for (const ch of seed) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 500 + (h % 60) * 500;
}
