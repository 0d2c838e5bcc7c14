// npm run bench:recovery [-- --customers 300 --months 6 --engine postgres --populations us-mix,last-business-day,high-nsf,issuer-outages,elsewhere --policies daily,fixed-1357,fixed-357,rule-based,learned,learned-cold,oracle]
// A quick run (about 6 minutes on the local Postgres): npm run bench:recovery -- --customers 60 --months 4
//
// The recovery benchmark (issues 5 and 16): seven retry policies side by side on the same simulated
// customers and the same random draws, each in its own merchant account of one in-process Rescue,
// driven through the engine and test clocks over the sandbox card network — the path a merchant's
// backtest takes. Every policy has the same budget: 4 retries within 14 days. docs/prediction.md has
// the results.
//
// What it values (a product decision, issue 16): revenue recovered AND how soon. A payment that waits
// leaves the customer in limbo — access cut, voluntary churn rising, dunning losing its pull — so a
// policy is judged on its recovered revenue (as a share of the oracle's) and on its time to recover:
// the median and 90th-percentile days, and the share recovered within 10 days. Recurly: "90% of
// recovered transactions are recovered within the first 10 days" (../shared/research/retry-facts.md §2);
// Baremetrics, over a million dunning emails: recovery per email 13.3% on day 0, 11.5% on day 7, 4.2% on
// day 15 (../shared/research/peers-2026.md). Issue 16's targets for the default automatic policy, warm
// and cold, on every population: ≥ 0.95 of the oracle's revenue, a median time to recover no longer
// than the best fixed schedule's, ≥ 90% of recoveries within 10 days, no violations.
//
// - Each population is a set of `pm_sim_*_declined` customers: every monthly renewal's first attempt
//   declines with the customer's own decline.
// - Every policy is scored exactly, without luck: its scored account charges `pm_sim_*_declined_failing`,
//   whose retries all decline with the code a failed retry gets, so the engine runs each rescue along
//   its failing path — after k failed retries the plan is the one it would have made then — and a
//   renewal is recovered at retry k with probability Π(1 − p_i, i < k)·p_k, the p's the sandbox's exact
//   chances (recovery/measure.ts). At 300 customers the realized outcomes moved ±0.03–0.04 of the
//   oracle's revenue between runs of the same code; the exact figures move only with the customers.
// - A learned policy learns from real outcomes, so it also runs with real draws in an account of its
//   own (retraining on its clock, as the product does); its scored twin plans with that account's
//   model (shareRetryModel). The twin starts at the scored half with no payday history of its own (a
//   calendar needs four recoveries: few cards have them within six months). The real run's violations
//   count, and its realized recovery is printed beside the exact one.
// - Four populations live in the sandbox's default US world, the one the shipped prior was fitted on;
//   `elsewhere` lives in another (Europe/Asia time zones, other pay calendars, other issuers' outage
//   hours: SIM_WORLDS in src/gateways/sandbox/worlds.ts), to show what generalises.
// - Renewals are spread over the month (customer i renews on day i mod 28).
// - The warm learned account (`learned`) runs all the months and retrains as the product does: the
//   worker's scheduled retraining, on its clock's time, on what had happened by then. The cold one
//   (`learned-cold`) is a brand-new account that starts at the scored half with no history: the
//   shipped prior, retraining on its clock from there. The other policies learn nothing from one
//   renewal to the next, so they run only the scored half, along the failing path.
// - The oracle is the same planner fed the sandbox's exact approval chance (recovery/populations.ts)
//   through overrideRetryScorer, wired for its bench account only.
// - Scored on the renewals of the second half of the run, after their windows have closed, with paired
//   bootstrap intervals over customers (recovery/report.ts). Times to recover are over every recovery
//   weighted by its probability; the first-retry table groups renewals by the first decline's code
//   (what the planner saw, measure.ts declineGroup), not by the hidden bucket.

import { parseArgs } from 'node:util';
import { parseSimToken, simulatedProfile } from '../src/gateways/sandbox/population.ts';
import type { PaydayMix } from '../src/predict/payday-mix.ts';
import { overrideRetryScorer, shareRetryModel } from '../src/predict/scorers.ts';
import { sql } from 'kysely';
import { systemClock } from '../src/clock.ts';
import { createPayments } from '../src/engine/payments.ts';
import { measure, type Renewal, type Violations } from './recovery/measure.ts';
import { amountOf, BUDGET, oracleFactory, population, POLICIES, timezoneNameFor, type Policy, type Population } from './recovery/populations.ts';
import { reportPopulation, type LaneResult } from './recovery/report.ts';
import { benchRescue, inLanes, type BenchRescue, type Engine } from './support.ts';

const DAY = 86_400_000;

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '300' },
    months: { type: 'string', default: '6' },
    populations: { type: 'string', default: 'us-mix,last-business-day,high-nsf,issuer-outages,elsewhere' },
    policies: { type: 'string', default: 'daily,fixed-1357,fixed-357,rule-based,learned,learned-cold,oracle' },
    start: { type: 'string', default: '2026-01-05' },
    engine: { type: 'string', default: 'postgres' },
    // The learned schedule's price of time for every account (auto_rescue.daily_churn_hazard); default: the product's.
    hazard: { type: 'string' },
  },
});

const HEADER = `
What it values: revenue recovered AND how soon (issue 16). Every day a payment waits the customer is in
limbo and dunning loses its pull — Recurly: 90% of recovered transactions are recovered within the first
10 days (../shared/research/retry-facts.md §2); Baremetrics: recovery per dunning email 13.3% on day 0,
11.5% on day 7, 4.2% on day 15 (../shared/research/peers-2026.md).
- Exact expectations, no luck: each policy's rescues run along their failing path and a renewal recovers at
  retry k with probability Π(1 − p_i, i < k)·p_k, the p's the sandbox's exact chances.
- recovered revenue: expected share of the failed amount recovered; vs oracle: its ratio to the oracle's,
  with a 95% bootstrap interval over customers.
- median / p90 days, ≤ 10 days: days from the first decline to the recovering retry, over recoveries weighted
  by their probability.
- retries / recovery; violations: retries of hard declines / network-rule limit breaches / double charges
  (a learned policy's real run, which learns from real draws, counted too).
- second table: median hours from the first decline to the first retry, per group of the first decline's code
  (technical: network_timeout, gateway_error, issuer_unavailable; processing: processing_error; try-later:
  try_again_later; limit: exceeds_limit, card_velocity_exceeded; nsf: insufficient_funds; generic:
  generic_decline, do_not_honor; expired: expired_card; hard: hard-category codes, never retried; other: the
  remaining soft codes, e.g. restricted_card), renewals per group in brackets.
- learned automatic: warm, the account ran all the months; learned (cold start): a new account from the
  scored half on, with the shipped prior. Best fixed: the fixed schedule with the most recovered revenue.
Targets (issue 16), for the default automatic policy warm and cold on every population: ≥ 0.95 of the
oracle's revenue; median days ≤ the best fixed schedule's; ≥ 90% of recoveries within 10 days; no violations.
`;

async function signup(b: BenchRescue, label: string): Promise<{ accountId: string; post: (p: string, body?: unknown) => Promise<any>; get: (p: string) => Promise<any> }> {
  const call = async (method: string, path: string, key: string | null, body?: unknown) => {
    const res = await fetch(b.url + path, { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const json = await res.json();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json as any;
  };
  const s = await call('POST', '/signup', null, { email: `bench-${label}@example.com`, password: 'bench-password', business_name: label });
  const key = s.api_keys.test as string;
  return { accountId: s.account.id, post: (p, body) => call('POST', p, key, body), get: (p) => call('GET', p, key) };
}

interface Lane {
  population: Population;
  policy: Policy;
  accountId: string;
  clock: string;
  customers: string[];
  /** The renewals' payment methods: `…_declined_failing` on a lane scored along the failing path. */
  tokens: string[];
  /**
   * Scored exactly, along the failing path (every policy's scored lane). A learned policy also runs
   * with real draws, in its own account, to learn from its outcomes as the product does; its scored
   * twin plans with that account's model (shareRetryModel).
   */
  failingPath: boolean;
  /** The lane's first simulated day: only the warm learned policy needs the learning months. */
  fromMs: number;
  post: (p: string, body?: unknown) => Promise<any>;
  get: (p: string) => Promise<any>;
}

const autoRescue = (policy: Policy) =>
  policy.days
    ? { enabled: true, max_retries: BUDGET.retries, retry_window_days: BUDGET.windowDays, retry_schedule: 'custom' as const, custom_schedule_days: policy.days }
    : { enabled: true, max_retries: BUDGET.retries, retry_window_days: BUDGET.windowDays, retry_schedule: 'automatic' as const };

async function main() {
  const n = Number(values.customers);
  const months = Number(values.months);
  const start = new Date(`${values.start}T00:00:00Z`).getTime();
  const simDays = Math.round(months * 30.44);
  const scoreFrom = start + Math.floor(simDays / 2) * DAY;
  const endMs = start + simDays * DAY;
  const populations = values.populations.split(',').map((p) => population(p, n));
  const policies = values.policies.split(',').map((p) => POLICIES[p] ?? (() => { throw new Error(`unknown policy ${p}`); })());
  const t0 = performance.now();
  const oracleAccounts: string[] = [];
  const twins: string[] = [];
  // Four worker loops overlap their database round trips; they wake on every clock advance, so they
  // need not poll often.
  const b = await benchRescue(values.engine as Engine, { RESCUE_WORKER_POLL_MS: '250', RESCUE_WORKER_LOOPS: '4' }, { worker: true, asyncCommit: true });
  try {
    const lanes: Lane[] = [];
    const openLane = async (population: Population, policy: Policy, failingPath: boolean, fromMs: number): Promise<Lane> => {
      const a = await signup(b, `${population.name}-${policy.name.replace(/\W+/g, '-')}${failingPath ? '' : '-learning'}`);
      await a.post('/v2/settings/auto_rescue', { learned: policy.learned, ...(values.hazard !== undefined ? { daily_churn_hazard: Number(values.hazard) } : {}) });
      if (policy.oracle) {
        overrideRetryScorer(a.accountId, oracleFactory as never);
        oracleAccounts.push(a.accountId);
      }
      const clock = (await a.post('/v2/test_clocks', { frozen_time: fromMs / 1000, name: `${population.name} ${policy.name}` })).id as string;
      const customers: string[] = [];
      for (const token of population.tokens) {
        const p = simulatedProfile(parseSimToken(token)!.seed);
        customers.push((await a.post('/v2/customers', { timezone: timezoneNameFor(p.timezoneOffsetMinutes), test_clock: clock })).id);
      }
      const tokens = failingPath ? population.tokens.map((t) => `${t}_failing`) : population.tokens;
      const lane = { population, policy, accountId: a.accountId, clock, customers, tokens, failingPath, fromMs, post: a.post, get: a.get };
      lanes.push(lane);
      return lane;
    };
    await inLanes(populations.flatMap((population) => policies.map((policy) => ({ population, policy }))), 6, async ({ population, policy }) => {
      // Every policy is scored from the scored half on. Fixed schedules, the rule-based one and the
      // oracle carry nothing from one renewal to the next (no model, no payday history); the learned
      // policy's real run learns, from the start (warm) or from the scored half (cold start).
      const scored = await openLane(population, policy, true, scoreFrom);
      if (policy.learned && !policy.oracle) {
        const learning = await openLane(population, policy, false, policy.cold ? scoreFrom : start);
        shareRetryModel(scored.accountId, learning.accountId);
        twins.push(scored.accountId);
      }
    });
    lanes.sort((x, y) => populations.indexOf(x.population) - populations.indexOf(y.population) || policies.indexOf(x.policy) - policies.indexOf(y.policy) || Number(y.failingPath) - Number(x.failingPath));
    process.stderr.write(`${lanes.length} accounts set up in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    const deps = { db: b.rescue.db, clock: systemClock, gatewayFor: b.rescue.gatewayFor, leaseMs: 60_000, workerId: 'bench' };
    let renewals = 0;
    // One simulated day at a time: each customer renews on its day of the month. The day's renewals
    // of each account are created together through the engine (createPayments: what POST /v2/payments
    // does, batched), each charged once at its clock's time; then every clock advances a day and the
    // worker runs the retries that came due, in time order.
    for (let d = 0; d < simDays + 15; d++) {
      const dayStart = start + d * DAY;
      const dayOfMonth = new Date(dayStart).getUTCDate();
      const active = lanes.filter((l) => l.fromMs <= dayStart);
      if (dayStart < endMs) {
        await inLanes(active, 4, async (lane) => {
          const due = lane.tokens.map((t, i) => ({ t, i })).filter(({ i }) => (i % 28) + 1 === dayOfMonth);
          await createPayments(deps, { accountId: lane.accountId, livemode: false }, due.map(({ t, i }) => ({
            amount: amountOf(t), currency: 'USD', customer: lane.customers[i]!, payment_method: t, off_session: true,
            auto_rescue: autoRescue(lane.policy), metadata: { customer_index: String(i) }, idempotencyKey: null,
          })));
          renewals += due.length;
        });
      }
      await inLanes(active, active.length, async (lane) => {
        await lane.post(`/v2/test_clocks/${lane.clock}/advance`, { frozen_time: (dayStart + DAY) / 1000 });
      });
      await inLanes(active, active.length, async (lane) => {
        while ((await lane.get(`/v2/test_clocks/${lane.clock}`)).status !== 'ready') await new Promise((r) => setTimeout(r, 20));
      });
      if (d % 30 === 0) process.stderr.write(`day ${d}/${simDays + 15}: ${renewals} renewals, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    }
    for (const lane of lanes.filter((l) => !l.failingPath)) {
      const models = await sql<{ status: string; n: number; mixed: number; mix: PaydayMix | null }>`
        select status, count(*) filter (where kind = 'retry_timing')::int as n, count(*) filter (where kind = 'payday_mix')::int as mixed,
               (array_agg(params order by trained_at desc) filter (where kind = 'payday_mix'))[1] as mix
        from models where account_id = ${lane.accountId} group by status`.execute(b.rescue.db);
      const mix = models.rows.find((m) => m.status === 'active')?.mix;
      const calendars = mix ? `; active pay calendars (${mix.cards} cards): ${mix.calendars.map((c) => `${c.calendar} ${c.share.toFixed(2)}`).join(', ')}` : '';
      process.stderr.write(`${lane.population.name} ${lane.policy.name}: retrained on its clock — retry-timing models ${models.rows.map((m) => `${m.n} ${m.status}`).join(', ') || 'none (the shipped prior throughout)'}; pay-calendar mixtures ${models.rows.map((m) => `${m.mixed} ${m.status}`).join(', ')}${calendars}\n`);
    }
    const elapsed = (performance.now() - t0) / 1000;
    console.log(`\nRecovery benchmark: ${populations.length} populations × ${policies.length} policies, ${n} customers each, ${months} simulated months (learning on the first half, scored on renewals from ${new Date(scoreFrom).toISOString().slice(0, 10)} to ${new Date(endMs).toISOString().slice(0, 10)}); budget 4 retries / 14 days; ${renewals} renewals; ${elapsed.toFixed(0)} s`);
    console.log(HEADER);
    const verdicts: string[] = [];
    for (const population of populations) {
      const results: LaneResult[] = [];
      const realized: string[] = [];
      for (const lane of lanes.filter((l) => l.population === population && l.failingPath)) {
        const scored = await measure(b.rescue.db, lane.accountId, new Date(scoreFrom), new Date(endMs), { failingPath: true });
        const learning = lanes.find((l) => l.population === population && l.policy === lane.policy && !l.failingPath);
        if (learning) {
          // The real run's rules broken count too (it is the one that can charge twice), and its
          // realized recoveries, luck included, should sit near the exact figure.
          const real = await measure(b.rescue.db, learning.accountId, new Date(scoreFrom), new Date(endMs), { failingPath: false });
          for (const k of Object.keys(scored.violations) as (keyof Violations)[]) scored.violations[k] += real.violations[k];
          realized.push(`${lane.policy.name}: ${realizedShare(real.renewals)} of the failed amount recovered in its real run (luck included)`);
        }
        results.push({ policy: lane.policy, ...scored });
      }
      verdicts.push(reportPopulation(population, results));
      if (realized.length) console.log(`${realized.join('; ')}\n`);
    }
    console.log(`Verdicts (issue 16's targets for the automatic policy, warm and cold; issue 5's in short):\n${verdicts.join('\n')}`);
  } finally {
    for (const id of oracleAccounts) overrideRetryScorer(id, null);
    for (const id of twins) shareRetryModel(id, null);
    await b.close();
  }
}

function realizedShare(renewals: readonly Renewal[]): string {
  const amount = renewals.reduce((a, r) => a + r.amount, 0);
  return `${((100 * renewals.reduce((a, r) => a + r.recovered * r.amount, 0)) / amount).toFixed(1)}%`;
}

await main();
process.exit(0);
