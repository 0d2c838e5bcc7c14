// The recovery benchmark's customers and policies (issues 5 and 16): five generated populations —
// four in the sandbox's default US world the shipped prior was fitted on, and `elsewhere`, a world
// whose pay calendars, time zones and issuers differ — four more held-out worlds on request, and
// seven retry policies, all with the same budget (4 retries within 14 days).

import { retryApprovalChance, sandboxAccountUpdater } from '../../src/gateways/sandbox/network.ts';
import { generatePopulation, parseSimToken, simulatedProfile, type SimulatedProfile } from '../../src/gateways/sandbox/population.ts';

export interface Population {
  name: string;
  description: string;
  tokens: string[];
}

/** Customers selected from the sandbox's generated population by their hidden profile. */
export function population(name: string, n: number): Population {
  const pick = (seed: string, keep: (p: SimulatedProfile, i: number) => boolean, description: string, world?: string): Population => {
    const out: string[] = [];
    let i = 0;
    const pool = generatePopulation(n * 40, seed, world === undefined ? { declined: true } : { declined: true, world });
    for (const t of pool) {
      if (out.length >= n) break;
      if (keep(simulatedProfile(parseSimToken(t)!.seed), i++)) out.push(t);
    }
    return { name, description, tokens: out };
  };
  switch (name) {
    case 'us-mix':
      return pick('usmix', () => true, 'US pay-frequency mix (BLS: 42% biweekly, 34% weekly, 19% semimonthly, 5% monthly), the Recurly decline mix');
    case 'last-business-day':
      return pick('lbd', (p) => p.paySchedule.kind === 'monthly', 'everyone paid on the last business day of the month');
    case 'high-nsf': {
      let k = 0;
      // Two in three customers' renewals fail for insufficient funds (the rest: the usual mix).
      return pick('nsf', (p) => p.firstDecline.bucket === 'nsf' || k++ % 3 === 0, 'two thirds insufficient funds, the rest the usual mix');
    }
    case 'issuer-outages': {
      let k = 0;
      return pick('outage', (p) => p.firstDecline.bucket === 'technical' || k++ % 2 === 0, 'half technical / issuer-unavailable declines (issuers have 1–4 h outages), half the usual mix');
    }
    case 'elsewhere':
      // The sandbox's `elsewhere` world (src/gateways/sandbox/worlds.ts, SIM_WORLDS): the usual
      // card and decline mix, but none of the prior's US calendar.
      return pick('elsewhere', () => true, 'Europe and Asia (UTC+0 to +9, incl. +5:30; GB/DE/FI/IN/SG/JP cards): paid monthly on the 25th (45%) or the last Friday (30%), biweekly Thursdays (15%), weekly Wednesdays (10%); issuers down twice as often, 22:00–06:00 UTC', 'elsewhere');
    // Held-out worlds beyond `elsewhere` (SIM_WORLDS): in bench:policy-sim's default run, in
    // bench:recovery's with `--populations` (docs/prediction.md, "Held-out worlds").
    case 'canada':
      return pick('canada', () => true, 'Canadian cards and zones (UTC−8 to −4): every other Thursday (50%), every other Friday (20%), the 1st/15th (20%), month end (10%)', 'canada');
    case 'gulf':
      return pick('gulf', () => true, 'the Gulf and India (UTC+3 to +5:30; AE/SA/IN cards): monthly on the 28th (40%), the last Thursday (20%), the last business day (25%), the 1st (15%)', 'gulf');
    case 'early-week':
      return pick('early-week', () => true, 'US cards and zones, paid weekly on Mondays (30%) or Wednesdays (30%), every other Tuesday (20%), monthly on the 10th (20%)', 'early-week');
    case 'south':
      return pick('south', () => true, 'BR/MX/AU/ZA cards (UTC−6 to +10): monthly on the 5th (25%) or the 25th (15%), the 1st/15th (25%), every other Thursday (20%), weekly Fridays (15%)', 'south');
    default:
      throw new Error(`unknown population ${name}`);
  }
}

export interface Policy {
  name: string;
  learned: boolean;
  oracle?: boolean;
  /** A brand-new account that starts at the scored half: no history, the shipped prior (it retrains on its clock as the product does). */
  cold?: boolean;
  days?: number[];
}

/** Every policy's budget in the benchmarks: 4 retries within 14 days of the first decline. */
export const BUDGET = { retries: 4, windowDays: 14 } as const;

export const POLICIES: Record<string, Policy> = {
  daily: { name: 'retry daily', learned: false, days: [1, 2, 3, 4] },
  'fixed-1357': { name: 'fixed [1,3,5,7]', learned: false, days: [1, 3, 5, 7] },
  'fixed-357': { name: 'fixed [3,5,7]', learned: false, days: [3, 5, 7] },
  'rule-based': { name: 'rule-based automatic', learned: false },
  learned: { name: 'learned automatic', learned: true },
  'learned-cold': { name: 'learned (cold start)', learned: true, cold: true },
  oracle: { name: 'oracle', learned: true, oracle: true },
};

/** The IANA zone a customer with this fixed offset gets (Etc/GMT±h; India's +5:30 has no Etc zone). */
export function timezoneNameFor(offsetMinutes: number): string {
  if (offsetMinutes === 330) return 'Asia/Kolkata';
  if (offsetMinutes % 60 !== 0) throw new Error(`no time zone for UTC offset ${offsetMinutes} min`);
  const h = -offsetMinutes / 60;
  return h === 0 ? 'UTC' : `Etc/GMT${h > 0 ? '+' : '-'}${Math.abs(h)}`;
}

/** A renewal's amount: $10–$157.50, fixed per customer. */
export const amountOf = (token: string) => 1000 + (parseInt(simulatedProfile(parseSimToken(token)!.seed).fingerprint.slice(0, 6), 16) % 60) * 250;

/**
 * The sandbox's exact chance that a retry of this customer's renewal approves at `atMs`: what the
 * oracle plans with, and what the expected-recovery estimate sums. `replaced`: the account updater
 * has swapped the (expired) card by then.
 */
export function trueRetryChance(paymentMethod: string, o: { atMs: number; firstMs: number; amount: number; retryNumber: number; replaced: boolean }): number {
  const sim = parseSimToken(paymentMethod);
  if (!sim) return 0;
  const profile = simulatedProfile(sim.seed);
  // The account updater runs before a retry's charge: where it will find the expired card's
  // replacement by then, the retry charges the new card.
  const replaced = profile.firstDecline.bucket === 'expired' && (o.replaced || sim.updates > 0 || sandboxAccountUpdater(paymentMethod, new Date(o.atMs)).updated);
  return retryApprovalChance(profile, replaced, { atMs: o.atMs, firstMs: o.firstMs, tz: profile.timezoneOffsetMinutes, amount: o.amount, retryNumber: o.retryNumber });
}

/** The oracle's scorer: the sandbox's truth for this customer (wired for the oracle's account only). */
export function oracleFactory(paymentMethod: string) {
  return (f: { atMs: number; rescueStartedAtMs: number; amount: number; retryNumber: number }) =>
    trueRetryChance(paymentMethod, { atMs: f.atMs, firstMs: f.rescueStartedAtMs, amount: f.amount, retryNumber: f.retryNumber, replaced: false });
}
