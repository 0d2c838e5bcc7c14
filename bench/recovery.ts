// npm run bench:recovery [-- --customers 150 --months 4 --engine postgres --populations us-mix,last-business-day,high-nsf,issuer-outages]
//
// The recovery benchmark (issue 5): six retry policies side by side on the same simulated customers
// and the same random draws, each in its own merchant account of one in-process Rescue, driven through
// the HTTP API and test clocks over the sandbox card network — exactly the path a merchant's backtest
// takes. Every policy has the same budget: 4 retries within 14 days.
//
// - Each population is a set of `pm_sim_*_declined` customers: every monthly renewal's first attempt
//   declines with the customer's own decline, and the retries are decided by the sandbox (network.ts).
//   A retry's draw is keyed by (customer, renewal, hour), so two policies trying the same renewal in the
//   same hour see the same luck (common random numbers).
// - Renewals are spread over the month (customer i renews on day i mod 28, 10:00 in its zone).
// - The learned account retrains (trainRetryTiming, what `rescue train` runs) at every simulated month
//   end, on its clock's time: it learns only from what had happened by then.
// - The oracle is the learned planner fed the sandbox's truth (retrySuccessProbability: the hidden
//   balance, payday, hold, latent unrecoverability, issuer outages) through overrideRetryScorer, wired
//   for its bench account only.
// - Scored on the renewals of the second half of the run (the first half is learning), after their
//   windows have closed.

import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { checkNetworkRules, type CardAttemptRecord } from '../src/domain/network-rules.ts';
import type { CardBrand } from '../src/domain/decline-types.ts';
import { retrySuccessProbability } from '../src/gateways/sandbox/network.ts';
import { generatePopulation, issuerOutageAt, parseSimToken, simulatedProfile, type SimulatedProfile } from '../src/gateways/sandbox/population.ts';
import { overrideRetryScorer } from '../src/predict/scorers.ts';
import { trainRetryTiming } from '../src/predict/train.ts';
import { timezoneForOffset } from './sandbox-examples.ts';
import { benchRescue, inLanes, table, type BenchRescue, type Engine } from './support.ts';

const DAY = 86_400_000;

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '150' },
    months: { type: 'string', default: '4' },
    populations: { type: 'string', default: 'us-mix,last-business-day,high-nsf,issuer-outages' },
    policies: { type: 'string', default: 'daily,fixed-1357,fixed-357,rule-based,learned,oracle' },
    start: { type: 'string', default: '2026-01-05' },
    engine: { type: 'string', default: 'postgres' },
  },
});

interface Population {
  name: string;
  description: string;
  tokens: string[];
}

/** Customers selected from the sandbox's generated population by their hidden profile. */
function population(name: string, n: number): Population {
  const pick = (seed: string, keep: (p: SimulatedProfile, i: number) => boolean, description: string): Population => {
    const out: string[] = [];
    let i = 0;
    const pool = generatePopulation(n * 40, seed, { declined: true });
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
    default:
      throw new Error(`unknown population ${name}`);
  }
}

interface Policy {
  name: string;
  learned: boolean;
  oracle?: boolean;
  days?: number[];
}

const POLICIES: Record<string, Policy> = {
  daily: { name: 'retry daily', learned: false, days: [1, 2, 3, 4] },
  'fixed-1357': { name: 'fixed [1,3,5,7]', learned: false, days: [1, 3, 5, 7] },
  'fixed-357': { name: 'fixed [3,5,7]', learned: false, days: [3, 5, 7] },
  'rule-based': { name: 'rule-based automatic', learned: false },
  learned: { name: 'learned automatic', learned: true },
  oracle: { name: 'oracle', learned: true, oracle: true },
};

/** The oracle's scorer: the sandbox's own per-attempt probability for this customer (bench only). */
function oracleFactory(paymentMethod: string) {
  const sim = parseSimToken(paymentMethod);
  const profile = sim ? simulatedProfile(sim.seed) : null;
  return (f: { atMs: number; rescueStartedAtMs: number; amount: number; retryNumber: number }) => {
    if (!profile || !sim) return 0;
    if (issuerOutageAt(profile.issuer, f.atMs)) return 0;
    const replaced = sim.updates > 0 && profile.firstDecline.bucket === 'expired';
    return retrySuccessProbability(profile, replaced, { atMs: f.atMs, firstMs: f.rescueStartedAtMs, tz: profile.timezoneOffsetMinutes, amount: f.amount, retryNumber: f.retryNumber });
  };
}

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
  post: (p: string, body?: unknown) => Promise<any>;
  get: (p: string) => Promise<any>;
}

const amountOf = (token: string) => 1000 + (parseInt(simulatedProfile(parseSimToken(token)!.seed).fingerprint.slice(0, 6), 16) % 60) * 250;

async function main() {
  const n = Number(values.customers);
  const months = Number(values.months);
  const start = new Date(`${values.start}T00:00:00Z`);
  const populations = values.populations.split(',').map((p) => population(p, n));
  const policies = values.policies.split(',').map((p) => POLICIES[p] ?? (() => { throw new Error(`unknown policy ${p}`); })());
  const t0 = performance.now();
  const oracleAccounts: string[] = [];
  const b = await benchRescue(values.engine as Engine, { RESCUE_WORKER_POLL_MS: '10' }, { worker: true });
  try {
    const lanes: Lane[] = [];
    for (const population of populations) {
      for (const policy of policies) {
        const a = await signup(b, `${population.name}-${policy.name.replace(/\W+/g, '-')}`);
        await a.post('/v2/settings/auto_rescue', { learned: policy.learned });
        if (policy.oracle) {
          overrideRetryScorer(a.accountId, oracleFactory as never);
          oracleAccounts.push(a.accountId);
        }
        const clock = (await a.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000, name: `${population.name} ${policy.name}` })).id as string;
        const customers: string[] = [];
        for (const token of population.tokens) {
          const p = simulatedProfile(parseSimToken(token)!.seed);
          customers.push((await a.post('/v2/customers', { timezone: timezoneForOffset(p.timezoneOffsetMinutes), test_clock: clock })).id);
        }
        lanes.push({ population, policy, accountId: a.accountId, clock, customers, post: a.post, get: a.get });
      }
    }
    const simDays = Math.round(months * 30.44);
    const scoreFrom = start.getTime() + Math.floor(simDays / 2) * DAY;
    const endMs = start.getTime() + simDays * DAY;
    let renewals = 0;
    // One simulated day at a time: each customer's renewal is due at 10:00 local on its day of the
    // month; create the payments whose time has come (at their clock's time), then advance every clock.
    for (let d = 0; d < simDays + 15; d++) {
      const dayStart = start.getTime() + d * DAY;
      const dayOfMonth = new Date(dayStart).getUTCDate();
      if (dayStart < endMs) {
        await inLanes(lanes, 4, async (lane) => {
          const due = lane.population.tokens.map((t, i) => ({ t, i })).filter(({ i }) => (i % 28) + 1 === dayOfMonth);
          for (const { t, i } of due) {
            await lane.post('/v2/payments', {
              amount: amountOf(t), currency: 'USD', customer: lane.customers[i], payment_method: t, off_session: true,
              auto_rescue: lane.policy.days
                ? { enabled: true, max_retries: 4, retry_window_days: 14, retry_schedule: 'custom', custom_schedule_days: lane.policy.days }
                : { enabled: true, max_retries: 4, retry_window_days: 14, retry_schedule: 'automatic' },
              metadata: { customer_index: String(i) },
            });
            renewals++;
          }
        });
      }
      await inLanes(lanes, lanes.length, async (lane) => {
        await lane.post(`/v2/test_clocks/${lane.clock}/advance`, { frozen_time: (dayStart + DAY) / 1000 });
      });
      for (const lane of lanes) {
        for (;;) {
          const c = await lane.get(`/v2/test_clocks/${lane.clock}`);
          if (c.status === 'ready') break;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      // Month end: the learned accounts retrain on what they have seen so far.
      if (new Date(dayStart + DAY).getUTCDate() === 1) {
        for (const lane of lanes.filter((l) => l.policy.learned && !l.policy.oracle)) {
          const r = await trainRetryTiming(b.rescue.db, { accountId: lane.accountId, livemode: false, now: new Date(dayStart + DAY) });
          process.stderr.write(`  ${new Date(dayStart + DAY).toISOString().slice(0, 10)} ${lane.population.name}: ${r.status}${'evaluation' in r ? ` (Brier ${r.evaluation.brier.toFixed(4)} vs incumbent ${r.incumbent.brier.toFixed(4)}, ${r.examples} retries)` : ` (${r.reason})`}\n`);
        }
      }
      if (d % 30 === 0) process.stderr.write(`day ${d}/${simDays + 15}: ${renewals} renewals, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    }

    const results = [];
    for (const lane of lanes) results.push({ lane, ...(await measure(b, lane.accountId, new Date(scoreFrom), new Date(endMs))) });
    const elapsed = (performance.now() - t0) / 1000;
    console.log(`\nRecovery benchmark: ${populations.length} populations × ${policies.length} policies, ${n} customers each, ${months} simulated months (learning on the first half, scored on renewals from ${new Date(scoreFrom).toISOString().slice(0, 10)} to ${new Date(endMs).toISOString().slice(0, 10)}); budget 4 retries / 14 days; ${renewals} renewals; ${elapsed.toFixed(0)} s\n`);
    const verdicts: string[] = [];
    for (const population of populations) {
      const rows = results.filter((r) => r.lane.population === population);
      const oracle = rows.find((r) => r.lane.policy.oracle);
      const score = (r: (typeof rows)[number]) => (oracle && oracle.recoveredAmount > 0 ? r.recoveredAmount / oracle.recoveredAmount : NaN);
      console.log(`${population.name}: ${population.description}`);
      console.log(table(rows.map((r) => ({
        policy: r.lane.policy.name,
        renewals: r.failed,
        'recovered revenue': pct(r.recoveredAmount / r.failedAmount),
        'recovered count': pct(r.recovered / r.failed),
        'attempts / recovered': r.recovered ? (r.retries / r.recovered).toFixed(2) : '-',
        'median days': r.medianDays === null ? '-' : r.medianDays.toFixed(1),
        'violations (hard/limit/double)': `${r.hardRetries}/${r.limitBreaches}/${r.doubleCharges}`,
        'score vs oracle': Number.isNaN(score(r)) ? '-' : score(r).toFixed(3),
      }))));
      const learned = rows.find((r) => r.lane.policy.learned && !r.lane.policy.oracle);
      const fixed = rows.filter((r) => r.lane.policy.days);
      if (learned && oracle && fixed.length > 0) {
        const bestFixed = fixed.reduce((a, c) => (c.recoveredAmount > a.recoveredAmount ? c : a));
        const beatsAll = fixed.every((f) => learned.recoveredAmount > f.recoveredAmount);
        const gap = oracle.recoveredAmount - bestFixed.recoveredAmount;
        const closed = gap > 0 ? (learned.recoveredAmount - bestFixed.recoveredAmount) / gap : NaN;
        const fewer = learned.recovered > 0 && bestFixed.recovered > 0 && learned.retries / learned.recovered < bestFixed.retries / bestFixed.recovered;
        const v = `${population.name}: learned ${beatsAll ? 'beats' : 'does NOT beat'} every fixed schedule; closes ${Number.isNaN(closed) ? '-' : pct(closed)} of the gap from the best fixed (${bestFixed.lane.policy.name}) to the oracle (target ≥ 50%); attempts per recovery ${fewer ? 'fewer' : 'NOT fewer'} than the best fixed`;
        verdicts.push(oracle.recoveredAmount < Math.max(...rows.map((r) => r.recoveredAmount))
          ? `${v} — but the oracle realized less than another policy: at this size the differences are within noise`
          : v);
      }
      console.log('');
    }
    for (const v of verdicts) console.log(v);
  } finally {
    for (const id of oracleAccounts) overrideRetryScorer(id, null);
    await b.close();
  }
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');

interface Measured {
  failed: number;
  failedAmount: number;
  recovered: number;
  recoveredAmount: number;
  retries: number;
  medianDays: number | null;
  hardRetries: number;
  limitBreaches: number;
  doubleCharges: number;
}

/** The account's renewals that failed in [from, to): what the policy recovered, at what cost, and any rule broken. */
async function measure(b: BenchRescue, accountId: string, from: Date, to: Date): Promise<Measured> {
  const db = b.rescue.db;
  // Every renewal whose first attempt declined in [from, to), whether or not the policy planned any retry.
  const rescues = await sql<{ payment_id: string; payment_method: string; amount: string; started_at: Date; recovered_at: Date | null; retries: number; successes: number; first_category: string | null }>`
    select p.id as payment_id, p.payment_method, p.amount, f.attempted_at as started_at,
      (select min(a.attempted_at) from attempts a where a.payment_id = p.id and a.status = 'succeeded') as recovered_at,
      (select count(*) from attempts a where a.payment_id = p.id and a.number > 1 and a.status in ('succeeded', 'failed'))::int as retries,
      (select count(*) from attempts a where a.payment_id = p.id and a.status = 'succeeded')::int as successes,
      f.decline_category as first_category
    from payments p join attempts f on f.payment_id = p.id and f.number = 1 and f.status = 'failed'
    where p.account_id = ${accountId} and f.attempted_at >= ${from} and f.attempted_at < ${to}`.execute(db);
  const rows = rescues.rows;
  const recovered = rows.filter((r) => r.successes > 0);
  const days = recovered.map((r) => (r.recovered_at!.getTime() - r.started_at.getTime()) / DAY).sort((a, b) => a - b);
  // Network rules: replay every merchant retry on each card against the card's history before it.
  const attempts = await sql<{ card_fingerprint: string; card_brand: string; attempted_at: Date; status: 'succeeded' | 'failed'; decline_code: string | null; advice_code: string | null; number: number }>`
    select card_fingerprint, card_brand, attempted_at, status, decline_code, advice_code, number from attempts
    where account_id = ${accountId} and status in ('succeeded', 'failed') order by card_fingerprint, attempted_at`.execute(db);
  let limitBreaches = 0;
  const byCard = new Map<string, typeof attempts.rows>();
  for (const a of attempts.rows) byCard.set(a.card_fingerprint, [...(byCard.get(a.card_fingerprint) ?? []), a]);
  for (const list of byCard.values()) {
    const history: CardAttemptRecord[] = [];
    for (const a of list) {
      if (a.number > 1 && a.attempted_at >= from && !checkNetworkRules({ brand: a.card_brand as CardBrand, history, at: a.attempted_at }).allowed) limitBreaches++;
      history.push({ at: a.attempted_at, outcome: a.status, ...(a.decline_code ? { declineCode: a.decline_code } : {}), ...(a.advice_code ? { adviceCode: a.advice_code } : {}), initiator: 'merchant', reattempt: a.number > 1 });
    }
  }
  if (process.env.BENCH_DEBUG) {
    const by = new Map<string, [number, number, number]>();
    for (const r of rows) {
      const k = simulatedProfile(parseSimToken(r.payment_method)!.seed).firstDecline.bucket;
      const v = by.get(k) ?? [0, 0, 0];
      v[0]++; if (r.successes > 0) v[1]++; v[2] += r.retries;
      by.set(k, v);
    }
    process.stderr.write(`${accountId}: ${[...by].map(([k, v]) => `${k} ${v[1]}/${v[0]} (${v[2]} retries)`).join(', ')}\n`);
  }
  return {
    failed: rows.length,
    failedAmount: rows.reduce((s, r) => s + Number(r.amount), 0),
    recovered: recovered.length,
    recoveredAmount: recovered.reduce((s, r) => s + Number(r.amount), 0),
    retries: rows.reduce((s, r) => s + r.retries, 0),
    medianDays: days.length ? days[Math.floor(days.length / 2)]! : null,
    hardRetries: rows.filter((r) => r.first_category === 'hard' && r.retries > 0).length,
    limitBreaches,
    doubleCharges: rows.filter((r) => r.successes > 1).length,
  };
}

await main();
process.exit(0);
