// The recovery benchmark's tables and verdicts. Every policy saw the same renewals, so policies are
// compared renewal by renewal, and the uncertainty comes from a bootstrap over customers (a customer's
// renewals share its hidden type, so they are resampled together).

import { seededRandom } from '../sandbox-examples.ts';
import { table } from '../support.ts';
import type { Policy, Population } from './populations.ts';
import type { Renewal, Violations } from './measure.ts';

export interface LaneResult {
  policy: Policy;
  renewals: Renewal[];
  violations: Violations;
}

const BOOTSTRAP = 1000;
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

/** Sums per customer and policy: amount, realized and expected recovered amount, retries, realized and expected recoveries. */
interface Sums { amount: number; realized: number; expected: number; retries: number; realizedCount: number; expectedCount: number }

function sumsByCustomer(lanes: LaneResult[]): { customers: string[]; sums: Sums[][] } {
  const customers = [...new Set(lanes.flatMap((l) => l.renewals.map((r) => r.customer)))].sort();
  const index = new Map(customers.map((c, i) => [c, i]));
  const sums = lanes.map(() => customers.map(() => ({ amount: 0, realized: 0, expected: 0, retries: 0, realizedCount: 0, expectedCount: 0 })));
  lanes.forEach((lane, p) => {
    for (const r of lane.renewals) {
      const s = sums[p]![index.get(r.customer)!]!;
      s.amount += r.amount;
      s.realized += r.recovered ? r.amount : 0;
      s.expected += r.expected * r.amount;
      s.retries += r.retries;
      s.expectedCount += r.expected;
      s.realizedCount += r.recovered ? 1 : 0;
    }
  });
  return { customers, sums };
}

/**
 * Per policy, over a sample of customers: the recovered share of the failed amount, and retries per
 * recovery, each estimated with a control variate. The realized outcome I and the sum S of the
 * sandbox's exact approval chances over the retries made have the same expectation, so M = I − S has
 * mean zero, and I − c·M (c = Cov(I, M) / Var(M), fitted on the sample) keeps I's expectation with
 * the least variance of the family: the luck of the draws is mostly removed, the policy's choices are
 * not. (c = 0 is the plain realized rate; c = 1 is S alone, which is noisier than I where chances are
 * high.)
 */
function statistics(sums: Sums[][], sample: number[]): { share: number[]; attemptsPerRecovery: number[] } {
  const adjusted = (byCustomer: Sums[], realized: (s: Sums) => number, expected: (s: Sums) => number) => {
    const n = sample.length;
    let sI = 0, sM = 0;
    for (const c of sample) { sI += realized(byCustomer[c]!); sM += realized(byCustomer[c]!) - expected(byCustomer[c]!); }
    const mI = sI / n, mM = sM / n;
    let cov = 0, varM = 0;
    for (const c of sample) {
      const i = realized(byCustomer[c]!), m = i - expected(byCustomer[c]!);
      cov += (i - mI) * (m - mM);
      varM += (m - mM) ** 2;
    }
    return sI - (varM > 0 ? cov / varM : 0) * sM;
  };
  return {
    share: sums.map((byCustomer) => {
      let amount = 0;
      for (const c of sample) amount += byCustomer[c]!.amount;
      return amount > 0 ? adjusted(byCustomer, (s) => s.realized, (s) => s.expected) / amount : NaN;
    }),
    attemptsPerRecovery: sums.map((byCustomer) => {
      let retries = 0;
      for (const c of sample) retries += byCustomer[c]!.retries;
      const recoveries = adjusted(byCustomer, (s) => s.realizedCount, (s) => s.expectedCount);
      return recoveries > 0 ? retries / recoveries : NaN;
    }),
  };
}

const quantile = (xs: number[], q: number) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]! : NaN;
};
const interval = (xs: number[]) => [quantile(xs, 0.025), quantile(xs, 0.975)] as const;

/** Prints one population's table and returns its verdict line. */
export function reportPopulation(population: Population, lanes: LaneResult[]): string {
  const { customers, sums } = sumsByCustomer(lanes);
  const all = customers.map((_, i) => i);
  const point = statistics(sums, all);
  const oracle = lanes.findIndex((l) => l.policy.oracle);
  const learned = lanes.findIndex((l) => l.policy.learned && !l.policy.oracle);
  const fixed = lanes.map((l, i) => (l.policy.days ? i : -1)).filter((i) => i >= 0);
  const bestFixed = fixed.reduce((a, c) => (point.share[c]! > point.share[a]! ? c : a), fixed[0] ?? -1);

  // Bootstrap over customers: the same resample for every policy keeps the comparison paired.
  const random = seededRandom(0x5eed);
  const boot = { score: lanes.map(() => [] as number[]), margin: lanes.map(() => [] as number[]), closed: [] as number[], attempts: [] as number[] };
  for (let b = 0; b < BOOTSTRAP; b++) {
    const sample = all.map(() => Math.floor(random() * all.length));
    const s = statistics(sums, sample);
    lanes.forEach((_, p) => {
      if (oracle >= 0) boot.score[p]!.push(s.share[p]! / s.share[oracle]!);
      if (learned >= 0) boot.margin[p]!.push(s.share[learned]! - s.share[p]!);
    });
    if (learned >= 0 && oracle >= 0 && bestFixed >= 0) {
      boot.closed.push((s.share[learned]! - s.share[bestFixed]!) / (s.share[oracle]! - s.share[bestFixed]!));
      boot.attempts.push(s.attemptsPerRecovery[learned]! - s.attemptsPerRecovery[bestFixed]!);
    }
  }

  console.log(`${population.name}: ${population.description}`);
  console.log(table(lanes.map((lane, p) => {
    const r = lane.renewals;
    const failedAmount = r.reduce((a, x) => a + x.amount, 0);
    const recovered = r.filter((x) => x.recovered);
    const days = recovered.map((x) => x.daysToRecover!).sort((a, b) => a - b);
    const retries = r.reduce((a, x) => a + x.retries, 0);
    const [lo, hi] = interval(boot.score[p]!);
    return {
      policy: lane.policy.name,
      renewals: r.length,
      'recovered revenue': pct(recovered.reduce((a, x) => a + x.amount, 0) / failedAmount),
      'recovered revenue (variance-reduced)': pct(point.share[p]!),
      'recovered count': pct(recovered.length / r.length),
      'attempts / recovered': recovered.length ? (retries / recovered.length).toFixed(2) : '-',
      'median days': days.length ? days[Math.floor(days.length / 2)]!.toFixed(1) : '-',
      'violations (hard/limit/double)': `${lane.violations.hardRetries}/${lane.violations.limitBreaches}/${lane.violations.doubleCharges}`,
      'score vs oracle [95% CI]': oracle < 0 ? '-' : `${(point.share[p]! / point.share[oracle]!).toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}]`,
    };
  })));
  if (process.env.BENCH_DEBUG) console.log(bucketBreakdown(lanes));
  console.log('');
  if (learned < 0 || oracle < 0 || bestFixed < 0) return `${population.name}: (no learned / oracle / fixed policy in this run)`;

  const margins = fixed.map((f) => {
    const [lo, hi] = interval(boot.margin[f]!);
    return { name: lanes[f]!.policy.name, margin: point.share[learned]! - point.share[f]!, lo, hi };
  });
  const beatsAll = margins.every((m) => m.lo > 0);
  const closed = (point.share[learned]! - point.share[bestFixed]!) / (point.share[oracle]! - point.share[bestFixed]!);
  const [cLo, cHi] = interval(boot.closed);
  const attemptsDiff = point.attemptsPerRecovery[learned]! - point.attemptsPerRecovery[bestFixed]!;
  const [aLo, aHi] = interval(boot.attempts);
  return [
    `${population.name}:`,
    `  beats every fixed schedule: ${beatsAll ? 'yes' : 'NO'} (margin in recovered revenue, points [95% CI]: ${margins.map((m) => `${m.name} ${pts(m.margin)} [${pts(m.lo)}, ${pts(m.hi)}]`).join('; ')})`,
    `  closes ${pct(closed)} [${pct(cLo)}, ${pct(cHi)}] of the gap from the best fixed (${lanes[bestFixed]!.policy.name}, ${pct(point.share[bestFixed]!)}) to the oracle (${pct(point.share[oracle]!)}): target ≥ 50% ${closed >= 0.5 ? (cLo >= 0.5 ? 'met' : 'met at the point estimate, not at the lower bound') : 'NOT met'}`,
    `  retries per recovery ${point.attemptsPerRecovery[learned]!.toFixed(2)} vs ${point.attemptsPerRecovery[bestFixed]!.toFixed(2)} for ${lanes[bestFixed]!.policy.name} (${attemptsDiff.toFixed(2)} [${aLo.toFixed(2)}, ${aHi.toFixed(2)}]): ${aHi < 0 ? 'fewer' : attemptsDiff < 0 ? 'fewer at the point estimate' : 'NOT fewer'}`,
  ].join('\n');
}

/** Expected recovered share and retries per renewal, by the customers' hidden kind of decline. */
function bucketBreakdown(lanes: LaneResult[]): string {
  const buckets = [...new Set(lanes.flatMap((l) => l.renewals.map((r) => r.bucket)))].sort();
  return table(lanes.map((lane) => Object.fromEntries([
    ['policy', lane.policy.name],
    ...buckets.map((b) => {
      const rs = lane.renewals.filter((r) => r.bucket === b);
      const amount = rs.reduce((a, r) => a + r.amount, 0);
      return [`${b} (${rs.length})`, `${pct(rs.reduce((a, r) => a + r.expected * r.amount, 0) / amount)} ${(rs.reduce((a, r) => a + r.retries, 0) / rs.length).toFixed(1)}`];
    }),
  ])));
}
