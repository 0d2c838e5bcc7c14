// The recovery benchmark's tables and verdicts. Every policy saw the same renewals, so policies are
// compared renewal by renewal, and the uncertainty comes from a bootstrap over customers (a customer's
// renewals share its hidden type, so they are resampled together).

import { seededRandom } from '../sandbox-examples.ts';
import { table } from '../support.ts';
import type { Policy, Population } from './populations.ts';
import { DECLINE_GROUPS, type DeclineGroup, type Renewal, type Violations } from './measure.ts';

export interface LaneResult {
  policy: Policy;
  renewals: Renewal[];
  violations: Violations;
}

const BOOTSTRAP = 1000;
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

/** Sums per customer and policy: amount, recovered amount, retries, recoveries (expected along the failing path). */
interface Sums { amount: number; recovered: number; retries: number; recoveries: number }

function sumsByCustomer(lanes: LaneResult[]): { customers: string[]; sums: Sums[][] } {
  const customers = [...new Set(lanes.flatMap((l) => l.renewals.map((r) => r.customer)))].sort();
  const index = new Map(customers.map((c, i) => [c, i]));
  const sums = lanes.map(() => customers.map(() => ({ amount: 0, recovered: 0, retries: 0, recoveries: 0 })));
  lanes.forEach((lane, p) => {
    for (const r of lane.renewals) {
      const s = sums[p]![index.get(r.customer)!]!;
      s.amount += r.amount;
      s.recovered += r.recovered * r.amount;
      s.retries += r.retries;
      s.recoveries += r.recovered;
    }
  });
  return { customers, sums };
}

/** Per policy, over a sample of customers: the recovered share of the failed amount, and retries per recovery. */
function statistics(sums: Sums[][], sample: number[]): { share: number[]; attemptsPerRecovery: number[] } {
  const total = (byCustomer: Sums[], f: (s: Sums) => number) => sample.reduce((a, c) => a + f(byCustomer[c]!), 0);
  return {
    share: sums.map((byCustomer) => total(byCustomer, (s) => s.recovered) / total(byCustomer, (s) => s.amount)),
    attemptsPerRecovery: sums.map((byCustomer) => total(byCustomer, (s) => s.retries) / total(byCustomer, (s) => s.recoveries)),
  };
}

const quantile = (xs: number[], q: number) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]! : NaN;
};
const interval = (xs: number[]) => [quantile(xs, 0.025), quantile(xs, 0.975)] as const;

/** The smallest day by which a share q of the recoveries' probability has come in. */
export function weightedQuantile(points: readonly { days: number; p: number }[], q: number): number {
  const sorted = [...points].sort((a, b) => a.days - b.days);
  const total = sorted.reduce((a, x) => a + x.p, 0);
  let seen = 0;
  for (const x of sorted) {
    seen += x.p;
    if (seen >= q * total - 1e-12) return x.days;
  }
  return NaN;
}

/** Days to recover, over every recovery weighted by its probability: median, 90th percentile, share within 10 days. */
export function recoveryTimes(renewals: Renewal[]): { median: number; p90: number; within10: number } {
  const points = renewals.flatMap((r) => r.outcomes);
  const total = points.reduce((a, x) => a + x.p, 0);
  return {
    median: weightedQuantile(points, 0.5),
    p90: weightedQuantile(points, 0.9),
    within10: total > 0 ? points.filter((x) => x.days <= 10).reduce((a, x) => a + x.p, 0) / total : NaN,
  };
}

const days1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const violationCount = (v: Violations) => v.hardRetries + v.limitBreaches + v.doubleCharges;
const violationText = (v: Violations) => `${v.hardRetries}/${v.limitBreaches}/${v.doubleCharges}`;

// Issue 16's targets for the default automatic policy, warm and cold.
const TARGET_SHARE_OF_ORACLE = 0.95;
const TARGET_WITHIN_10_DAYS = 0.9;

/** Prints one population's tables and returns its verdict lines. */
export function reportPopulation(population: Population, lanes: LaneResult[]): string {
  const { customers, sums } = sumsByCustomer(lanes);
  const all = customers.map((_, i) => i);
  const point = statistics(sums, all);
  const oracle = lanes.findIndex((l) => l.policy.oracle);
  const learned = lanes.findIndex((l) => l.policy.learned && !l.policy.oracle && !l.policy.cold);
  const automatic = lanes.map((l, i) => (l.policy.learned && !l.policy.oracle ? i : -1)).filter((i) => i >= 0);
  const fixed = lanes.map((l, i) => (l.policy.days ? i : -1)).filter((i) => i >= 0);
  const bestFixed = fixed.reduce((a, c) => (point.share[c]! > point.share[a]! ? c : a), fixed[0] ?? -1);
  const times = lanes.map((l) => recoveryTimes(l.renewals));

  // Bootstrap over customers: the same resample for every policy keeps the comparison paired.
  const random = seededRandom(0x5eed);
  const boot = { score: lanes.map(() => [] as number[]), margin: lanes.map(() => [] as number[]), closed: [] as number[] };
  for (let b = 0; b < BOOTSTRAP; b++) {
    const sample = all.map(() => Math.floor(random() * all.length));
    const s = statistics(sums, sample);
    lanes.forEach((_, p) => {
      if (oracle >= 0) boot.score[p]!.push(s.share[p]! / s.share[oracle]!);
      if (learned >= 0) boot.margin[p]!.push(s.share[learned]! - s.share[p]!);
    });
    if (learned >= 0 && oracle >= 0 && bestFixed >= 0) boot.closed.push((s.share[learned]! - s.share[bestFixed]!) / (s.share[oracle]! - s.share[bestFixed]!));
  }

  console.log(`${population.name}: ${population.description}`);
  console.log(table(lanes.map((lane, p) => {
    const [lo, hi] = interval(boot.score[p]!);
    const t = times[p]!;
    return {
      policy: lane.policy.name,
      renewals: lane.renewals.length,
      'recovered revenue': pct(point.share[p]!),
      'vs oracle [95% CI]': oracle < 0 ? '-' : `${(point.share[p]! / point.share[oracle]!).toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}]`,
      'median days': days1(t.median),
      'p90 days': days1(t.p90),
      '≤ 10 days': pct(t.within10),
      'retries / recovery': Number.isFinite(point.attemptsPerRecovery[p]!) ? point.attemptsPerRecovery[p]!.toFixed(2) : '-',
      'violations (hard/limit/double)': violationText(lane.violations),
    };
  })));
  console.log(firstRetryTable(lanes));
  if (process.env.BENCH_DEBUG) console.log(bucketBreakdown(lanes));
  console.log('');

  const out = [`${population.name}:`];
  if (oracle < 0 || bestFixed < 0) return [...out, '  (no oracle or fixed schedule in this run: no verdict)'].join('\n');
  const best = lanes[bestFixed]!.policy.name;
  // Issue 16: the default automatic policy, warm and cold.
  for (const a of automatic) {
    const t = times[a]!;
    const score = point.share[a]! / point.share[oracle]!;
    const [lo, hi] = interval(boot.score[a]!);
    const checks = [
      { ok: score >= TARGET_SHARE_OF_ORACLE, text: `revenue ${score.toFixed(3)} of the oracle's [${lo.toFixed(3)}, ${hi.toFixed(3)}] (≥ ${TARGET_SHARE_OF_ORACLE})` },
      { ok: t.median <= times[bestFixed]!.median, text: `median ${days2(t.median, times[bestFixed]!.median)} for the best fixed, ${best} (≤)` },
      { ok: t.within10 >= TARGET_WITHIN_10_DAYS, text: `${pct(t.within10)} within 10 days (≥ ${pct(TARGET_WITHIN_10_DAYS)})` },
      { ok: violationCount(lanes[a]!.violations) === 0, text: `violations ${violationText(lanes[a]!.violations)} (none)` },
    ];
    const met = checks.filter((c) => c.ok).length;
    out.push(`  ${lanes[a]!.policy.name}: issue 16 targets ${met === checks.length ? 'met' : `NOT met (${met} of ${checks.length} met)`} — ${checks.map((c) => `${c.text} ${c.ok ? 'met' : 'NOT met'}`).join('; ')}`);
  }
  // Issue 5, in short: the warm learned schedule against the fixed ones.
  if (learned >= 0) {
    const margins = fixed.map((f) => {
      const [mlo] = interval(boot.margin[f]!);
      return { name: lanes[f]!.policy.name, margin: point.share[learned]! - point.share[f]!, lo: mlo };
    });
    const closed = (point.share[learned]! - point.share[bestFixed]!) / (point.share[oracle]! - point.share[bestFixed]!);
    const [cLo, cHi] = interval(boot.closed);
    out.push(`  issue 5 (${lanes[learned]!.policy.name}): beats every fixed schedule ${margins.every((m) => m.lo > 0) ? 'yes' : 'NO'} (${margins.map((m) => `${m.name} ${pts(m.margin)}`).join(', ')} points); closes ${pct(closed)} [${pct(cLo)}, ${pct(cHi)}] of the gap from ${best} to the oracle (≥ 50%: ${closed >= 0.5 ? 'met' : 'NOT met'}); retries per recovery ${point.attemptsPerRecovery[learned]!.toFixed(2)} vs ${point.attemptsPerRecovery[bestFixed]!.toFixed(2)}`);
  }
  return out.join('\n');
}

/** Per decline group (the first decline's code, declineGroup): the median hours from the first decline to the first retry. */
function firstRetryTable(lanes: LaneResult[]): string {
  const groups = DECLINE_GROUPS.filter((g) => lanes.some((l) => l.renewals.some((r) => r.group === g)));
  const count = (g: DeclineGroup) => Math.max(...lanes.map((l) => l.renewals.filter((r) => r.group === g).length));
  return table(lanes.map((lane) => Object.fromEntries([
    ['median hours to the first retry', lane.policy.name],
    ...groups.map((g) => {
      const hours = lane.renewals.filter((r) => r.group === g && r.firstRetryHours !== null).map((r) => r.firstRetryHours!);
      return [`${g} (${count(g)})`, hours.length ? (quantile(hours, 0.5) < 10 ? quantile(hours, 0.5).toFixed(1) : quantile(hours, 0.5).toFixed(0)) : '-'];
    }),
  ])));
}

/** Recovered share and retries per renewal, by the customers' hidden kind of decline. */
function bucketBreakdown(lanes: LaneResult[]): string {
  const buckets = [...new Set(lanes.flatMap((l) => l.renewals.map((r) => r.bucket)))].sort();
  return table(lanes.map((lane) => Object.fromEntries([
    ['policy', lane.policy.name],
    ...buckets.map((b) => {
      const rs = lane.renewals.filter((r) => r.bucket === b);
      const amount = rs.reduce((a, r) => a + r.amount, 0);
      return [`${b} (${rs.length})`, `${pct(rs.reduce((a, r) => a + r.recovered * r.amount, 0) / amount)} ${(rs.reduce((a, r) => a + r.retries, 0) / rs.length).toFixed(1)}`];
    }),
  ])));
}

/** Two medians side by side, with two decimals where one would show them equal (1.04 vs 1.00 days). */
function days2(a: number, b: number): string {
  const digits = days1(a) === days1(b) && a !== b ? 2 : 1;
  return `${a.toFixed(digits)} d vs ${b.toFixed(digits)} d`;
}
