// npm run bench:policy-sim [-- --customers 2000 --populations us-mix,high-nsf --policies fixed-1357,learned,learned-mix,oracle --hazard 0.077 --warm 3 --account-mix]
//
// A fast, noise-free companion to `bench:recovery`: the retry planners called directly (no app, no
// database, no test clocks) on the same generated populations, each rescue scored by its exact
// expected outcome instead of a draw. Along the path where every retry fails the plan is fixed
// (replans are deterministic), so a rescue recovers at retry k with probability
// Π_{i<k}(1 − p_i)·p_k, p_i the sandbox's true approval chance (bench/recovery/populations.ts). That
// gives revenue, median / p90 days and the shares within 1, 3 and 10 days without sampling noise, in
// a minute or two, so a planner change can be judged before the full benchmark (which also runs the
// engine and the account's own retraining) confirms it. It values what bench:recovery values:
// revenue recovered and how soon (docs/prediction.md, "Recovery benchmark").
//
// What it leaves out: an account's own model (every account plans with the shipped prior, as a
// cold-start account does until it has earned a decline group). `--warm N` plays N months out first
// with seeded luck and keeps each card's recovery days (its payday history); 0 is a cold start. An
// expired card counts as replaced when the sandbox's account updater would have found its new card
// by the retry, for every policy alike. SIM_TRACE=<group> (nsf, hold, technical, generic, …) prints
// every retry of that group's rescues to stderr.
//
// `learned` times insufficient funds for customers without a calendar of their own on the usual
// calendars of the card's country (usualPaydayMix), as the engine does. `--account-mix` (with `--warm N`): its account
// fits its customers' pay-calendar mixture (src/predict/payday-mix.ts) on the warm months'
// insufficient-funds retries and times insufficient funds with it, as the engine does once
// retraining keeps one (here without the held-out test the engine applies, so it shows the mixture
// wherever it would be used).
//
// `learned-mix` is a bound, not a policy: the learned planner with insufficient funds scored by the
// population's true pay-calendar mix (each calendar's share of its customers, updated by the rescue's
// failed retries as Bayes' rule says) and the sandbox's own payday response. No account can know
// either; it measures what the best learned account calendars could add (docs/prediction.md, "What
// an account's calendar mix could add").

import { parseArgs } from 'node:util';
import { classifyDecline } from '../src/domain/decline-taxonomy.ts';
import { policyFor, type PlanInput } from '../src/domain/schedule-policy.ts';
import { adviceCodeFor, NSF_BEFORE_PAYDAY_P, NSF_DAILY_DECAY, NSF_LARGE_AMOUNT, NSF_LARGE_AMOUNT_FACTOR, NSF_PAYDAY_P, sandboxCardDetails, sandboxCharge } from '../src/gateways/sandbox/network.ts';
import { issuerOutageAt, latestPaydayBetween, parseSimToken, simulatedProfile, type PaySchedule } from '../src/gateways/sandbox/population.ts';
import type { RetryFeatureInput } from '../src/predict/features.ts';
import { fitPaydayMix, type PaydayMix, type PaydayRescue } from '../src/predict/payday-mix.ts';
import { usualPaydayMix } from '../src/predict/usual-paydays.ts';
import { mostCommon } from '../src/predict/learn-payday-mix.ts';
import { declineGroup, localClock } from '../src/predict/features.ts';
import { hash32, mix32 } from '../src/gateways/sandbox/hash.ts';
import { learnedPlan, type LearnedContext } from '../src/predict/learned-policy.ts';
import { fitPayday } from '../src/predict/payday.ts';
import { PRIOR_RETRY_MODEL } from '../src/predict/scorers.ts';
import { retryScorer } from '../src/predict/retry-model.ts';
import { weightedQuantile } from './recovery/report.ts';
import { amountOf, BUDGET, oracleFactory, POLICIES, population, timezoneNameFor, trueRetryChance } from './recovery/populations.ts';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '2000' },
    populations: { type: 'string', default: 'us-mix,last-business-day,high-nsf,issuer-outages,elsewhere,canada,gulf,early-week,south' },
    'account-mix': { type: 'boolean', default: false },
    policies: { type: 'string', default: 'fixed-1357,learned,oracle' },
    hazard: { type: 'string' },
    months: { type: 'string', default: '3' },
    /** Months played out before the scored ones, to learn each card's paydays (0: cold start). */
    warm: { type: 'string', default: '0' },
  },
});

const DAY = 86_400_000;
const MAX_RETRIES = BUDGET.retries;
const WINDOW_DAYS = BUDGET.windowDays;
const prior = retryScorer(PRIOR_RETRY_MODEL);

/** A policy by its bench:recovery name (POLICIES: daily, fixed-1357, fixed-357, rule-based, learned, oracle; learned-cold is --warm 0), or the learned-mix bound. */
type Kind = 'fixed-1357' | 'fixed-357' | 'daily' | 'rule-based' | 'learned' | 'learned-mix' | 'oracle';

interface Outcome {
  amount: number;
  /** (probability, days from the first decline) of each retry's recovery. */
  recoveries: { p: number; days: number }[];
  attempts: number;
  group: string;
  firstRetryHours: number | null;
}

/** What a failed retry at `atMs` answers: the issuer's outage, else the customer's own decline (a renewal that met an outage shows it once that is over) with its advice code then. */
function declineAt(token: string, atMs: number) {
  const p = simulatedProfile(parseSimToken(token)!.seed);
  const code = issuerOutageAt(p.issuer, atMs) ? 'issuer_unavailable' : p.firstDecline.code;
  return classifyDecline({ code, adviceCode: adviceCodeFor(p, code, atMs, p.timezoneOffsetMinutes) ?? null });
}

/** The population's pay calendars and each one's share of its customers (what `learned-mix` knows). */
function calendarMix(tokens: readonly string[]): [PaySchedule, number][] {
  const counts = new Map<string, [PaySchedule, number]>();
  for (const t of tokens) {
    const s = simulatedProfile(parseSimToken(t)!.seed).paySchedule;
    const key = JSON.stringify(s);
    counts.set(key, [s, (counts.get(key)?.[1] ?? 0) + 1 / tokens.length]);
  }
  return [...counts.values()];
}


/**
 * An insufficient-funds retry's chance on `day` for a customer drawn from `mix`, given the rescue's
 * failed retries so far (the posterior over calendars); other declines the prior scores.
 */
function mixScorer(mix: readonly [PaySchedule, number][], tz: string, failedDays: readonly number[]) {
  return (f: RetryFeatureInput): number => {
    if (declineGroup(f.declineCode, f.strategy) !== 'nsf') return prior(f);
    const startDay = localClock(f.rescueStartedAtMs, tz).day;
    const chance = (s: PaySchedule, day: number) => {
      const payday = latestPaydayBetween(s, startDay, day);
      const p = payday === null ? NSF_BEFORE_PAYDAY_P : NSF_PAYDAY_P * NSF_DAILY_DECAY ** Math.max(0, day - payday - 2);
      return f.amount > NSF_LARGE_AMOUNT ? p * NSF_LARGE_AMOUNT_FACTOR : p;
    };
    const day = localClock(f.atMs, tz).day;
    let paid = 0;
    let total = 0;
    for (const [s, share] of mix) {
      const posterior = failedDays.reduce((w, d) => w * (1 - chance(s, d)), share);
      paid += posterior * chance(s, day);
      total += posterior;
    }
    return total > 0 ? paid / total : NSF_BEFORE_PAYDAY_P;
  };
}

/**
 * One rescue. `history`: the local days this card's earlier rescues were recovered (its payday
 * calendar, as the engine reads it); with `draw`, the rescue is played out with that luck instead of
 * scored by expectation, and its recovery day is added to the history (the warm account's months).
 */
function rescue(kind: Kind, token: string, index: number, failedAtMs: number, history: number[] = [], draw?: () => number, mix: readonly [PaySchedule, number][] = [], account?: { mix: PaydayMix | null; rescues: PaydayRescue[] }): Outcome | null {
  const amount = amountOf(token);
  const first = sandboxCharge({ token, amount, currency: 'USD', at: new Date(failedAtMs), attemptKey: `sim|${token}|${failedAtMs}` });
  if (first.status !== 'failed') return null;
  const profile = simulatedProfile(parseSimToken(token)!.seed);
  const card = sandboxCardDetails(token);
  const tz = timezoneNameFor(profile.timezoneOffsetMinutes);
  let decline = classifyDecline({ code: first.declineCode, adviceCode: first.adviceCode ?? null });
  const out: Outcome = { amount, recoveries: [], attempts: 0, group: declineGroup(decline.code, decline.strategy), firstRetryHours: null };
  const windowEndsAt = new Date(failedAtMs + WINDOW_DAYS * DAY);
  const failedNsfDays: number[] = [];
  const failedNsfMs: number[] = [];
  const ctx: LearnedContext = {
    score: kind === 'oracle' ? (oracleFactory(token) as never) : kind === 'learned-mix' ? mixScorer(mix, tz, failedNsfDays) : prior,
    amount,
    brand: card.brand,
    paymentMethodType: 'card',
    payday: fitPayday(history),
    card: { funding: card.funding, cardCountry: card.country, customerCreatedAtMs: failedAtMs - 400 * DAY, cardWasUpdated: false },
    explorationKey: `pay_${index}_${failedAtMs}`,
    freeGroups: kind === 'oracle' ? 'all' : kind === 'learned-mix' ? new Set(['nsf'] as const) : new Set(),
    // The engine's learned policy: the account's mixture (--account-mix), else the usual calendars.
    ...(kind === 'learned' ? { paydayMix: account?.mix ?? usualPaydayMix(card.country), failedNsfRetries: failedNsfMs } : {}),
    resolution: kind === 'oracle' ? 0 : undefined,
    ...(values.hazard !== undefined ? { dailyChurnHazard: Number(values.hazard) } : {}),
  };
  let reached = 1;
  let lastMs = failedAtMs;
  const nsfRetries: { day: number; paid: boolean }[] = [];
  if (draw) account?.rescues.push({ card: token, startDay: localClock(failedAtMs, tz).day, retries: nsfRetries });
  for (let made = 0; made < MAX_RETRIES; made++) {
    const input: PlanInput = {
      decline,
      failedAt: new Date(lastMs),
      rescueStartedAt: new Date(failedAtMs),
      windowEndsAt,
      retriesLeft: MAX_RETRIES - made,
      retriesMade: made,
      timezone: tz,
      schedule: POLICIES[kind]?.days ? { kind: 'custom', days: POLICIES[kind]!.days! } : { kind: 'automatic' },
    };
    const plan = kind === 'learned' || kind === 'learned-mix' || kind === 'oracle' ? learnedPlan(input, ctx).map((s) => s.at) : policyFor(input.schedule).plan(input);
    if (plan.length === 0 || decline.category === 'hard') break;
    const atMs = plan[0]!.getTime();
    if (made === 0) out.firstRetryHours = (atMs - failedAtMs) / 3_600_000;
    const p = trueRetryChance(token, { atMs, firstMs: failedAtMs, amount, retryNumber: made + 1, replaced: false });
    out.attempts += reached;
    out.recoveries.push({ p: reached * p, days: (atMs - failedAtMs) / DAY });
    if (process.env.SIM_TRACE === out.group) console.error(`${kind} ${token.slice(-12)} retry ${made + 1} ${decline.code}/${decline.adviceCode ?? '-'} at +${((atMs - failedAtMs) / 3_600_000).toFixed(1)} h (local ${localLabel(atMs, tz)}, paid ${JSON.stringify(profile.paySchedule)}) p=${p.toFixed(2)} reached=${reached.toFixed(2)}`);
    reached *= 1 - p;
    const paid = draw !== undefined && draw() < p;
    if (draw && declineGroup(decline.code, decline.strategy) === 'nsf') nsfRetries.push({ day: localClock(atMs, tz).day, paid });
    if (paid) {
      history.push(localClock(atMs, tz).day);
      break;
    }
    lastMs = atMs;
    if (declineGroup(decline.code, decline.strategy) === 'nsf') {
      failedNsfDays.push(localClock(atMs, tz).day);
      failedNsfMs.push(atMs);
    }
    decline = declineAt(token, atMs);
  }
  return out;
}

/** A trace's local instant: weekday, day of month and time in the customer's zone. */
function localLabel(atMs: number, tz: string): string {
  const c = localClock(atMs, tz);
  const d = new Date(c.day * DAY);
  return `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]} ${d.getUTCDate()} ${String(Math.floor(c.minute / 60)).padStart(2, '0')}:${String(c.minute % 60).padStart(2, '0')}`;
}

/** The chance that this rescue recovers at all. */
const recoveredChance = (o: Outcome) => o.recoveries.reduce((s, r) => s + r.p, 0);

function summarise(outcomes: Outcome[]) {
  const failed = outcomes.reduce((s, o) => s + o.amount, 0);
  // Revenue by amount; days over recoveries (each renewal's chance of recovering then), as bench:recovery counts them.
  const recovered = outcomes.reduce((s, o) => s + recoveredChance(o) * o.amount, 0);
  const points = outcomes.flatMap((o) => o.recoveries);
  const count = points.reduce((s, p) => s + p.p, 0);
  const within = (days: number) => points.filter((p) => p.days <= days).reduce((s, p) => s + p.p, 0) / count;
  const byGroup = new Map<string, { failed: number; recovered: number; hours: number[] }>();
  for (const o of outcomes) {
    const g = byGroup.get(o.group) ?? { failed: 0, recovered: 0, hours: [] };
    g.failed += o.amount;
    g.recovered += recoveredChance(o) * o.amount;
    if (o.firstRetryHours !== null) g.hours.push(o.firstRetryHours);
    byGroup.set(o.group, g);
  }
  return {
    share: recovered / failed,
    median: weightedQuantile(points, 0.5),
    p90: weightedQuantile(points, 0.9),
    within1: within(1),
    within3: within(3),
    within10: within(10),
    attemptsPerRecovery: outcomes.reduce((s, o) => s + o.attempts, 0) / count,
    byGroup,
  };
}

const n = Number(values.customers);
const months = Number(values.months);
const warmMonths = Number(values.warm);
const kinds = values.policies.split(',') as Kind[];
const t0 = performance.now();
for (const name of values.populations.split(',')) {
  const pop = population(name, n);
  const mix = calendarMix(pop.tokens);
  const rows: { kind: Kind; s: ReturnType<typeof summarise> }[] = [];
  for (const kind of kinds) {
    const outcomes: Outcome[] = [];
    // Warm: every card's first months played out (seeded luck) to learn its paydays (and, with
    // --account-mix, the account's calendar mixture), as the engine would; then the scored months.
    const account = { mix: null as PaydayMix | null, rescues: [] as PaydayRescue[] };
    const histories = pop.tokens.map((token, i) => {
      const history: number[] = [];
      let seed = hash32(`${name}|${kind}|${token}`);
      const draw = () => ((seed = mix32(seed, 1)) >>> 0) / 2 ** 32;
      for (let m = 0; m < warmMonths; m++) rescue(kind, token, i, Date.UTC(2026, 3 - warmMonths + m, (i % 28) + 1), history, draw, mix, account);
      return history;
    });
    if (values['account-mix'] && kind === 'learned') {
      // Fitted from the usual calendars of the most common country among its insufficient-funds cards, as the engine does.
      account.mix = fitPaydayMix(account.rescues, usualPaydayMix(mostCommon(account.rescues.map((r) => sandboxCardDetails(r.card).country))));
      if (account.mix) console.error(`${name}: ${account.mix.cards} cards: ${account.mix.calendars.map((c) => `${c.calendar} ${c.share.toFixed(2)}`).join(', ')}; other ${account.mix.other.share.toFixed(2)} at ${account.mix.other.rate.toFixed(2)}; response ${JSON.stringify(account.mix.response, (_, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
    }
    pop.tokens.forEach((token, i) => {
      for (let m = 0; m < months; m++) {
        const o = rescue(kind, token, i, Date.UTC(2026, 3 + m, (i % 28) + 1), histories[i], undefined, mix, account.mix ? account : undefined);
        if (o) outcomes.push(o);
      }
    });
    rows.push({ kind, s: summarise(outcomes) });
  }
  const oracle = rows.find((r) => r.kind === 'oracle')?.s.share;
  console.log(`\n${name} (${pop.tokens.length} customers × ${months} renewals, expected outcomes)`);
  console.log('| policy | recovered | vs oracle | median d | p90 d | ≤ 1 d | ≤ 3 d | ≤ 10 d | retries / recovery |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const { kind, s } of rows) {
    console.log(`| ${kind} | ${(s.share * 100).toFixed(1)}% | ${oracle ? (s.share / oracle).toFixed(3) : '-'} | ${s.median.toFixed(1)} | ${s.p90.toFixed(1)} | ${(s.within1 * 100).toFixed(1)}% | ${(s.within3 * 100).toFixed(1)}% | ${(s.within10 * 100).toFixed(1)}% | ${s.attemptsPerRecovery.toFixed(2)} |`);
  }
  const groups = [...rows[0]!.s.byGroup.keys()].sort();
  console.log(`| per group: recovered % (median h to 1st retry) | ${groups.join(' | ')} |`);
  console.log(`| --- | ${groups.map(() => '---').join(' | ')} |`);
  for (const { kind, s } of rows) {
    console.log(`| ${kind} | ${groups.map((g) => {
      const x = s.byGroup.get(g)!;
      const h = [...x.hours].sort((a, b) => a - b)[Math.floor(x.hours.length / 2)];
      return `${((x.recovered / x.failed) * 100).toFixed(1)}% (${h === undefined ? '-' : h.toFixed(1)})`;
    }).join(' | ')} |`);
  }
}
console.error(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
