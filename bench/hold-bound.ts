// npm run bench:hold-bound [-- --plan 1.6,8,9.1,10.1]
//
// How much of a temporary hold ("try again later") any schedule can win back without knowing the
// day the hold clears, against the benchmark's oracle, which knows it. bench:policy-sim reads the
// learned schedule's holds 6–14 points below the oracle's in every population (docs/prediction.md,
// "Where the gap is"); this asks how much of that any plan could close. It reads the sandbox's own
// law (src/gateways/sandbox: the clear day lognormal, median 5 days and 95th percentile 15; a retry
// 3% before it and 60% after it) and the planner's own budget and objective (4 retries in 14 days, a
// day apart; a recovery worth recoveryValue(days) at the default price of time), and searches every
// plan on a quarter-day grid for the best one:
// - with the first retry where seed 003's table puts it (24–48 h), as every fresh account must;
// - with the first retry anywhere (what an account whose own data earned the group may do);
// - for revenue alone, the time price off (what the oracle's revenue share rewards).
// It values what the planner values (expected value with the price of time), and prints beside it
// the revenue recovered and the share within 10 days, as every recovery figure must come with time.
// Each row's "vs clairvoyant" is its revenue over the plan that retries from the clear day on.

import { parseArgs } from 'node:util';
import { DEFAULT_DAILY_CHURN_HAZARD } from '../src/domain/auto-rescue-policy.ts';
import { holdChance } from '../src/gateways/sandbox/network.ts';
import { holdClearDaysFrom } from '../src/gateways/sandbox/population.ts';
import { retrySpacingMs } from '../src/predict/plan-slots.ts';
import { recoveryValue } from '../src/predict/recovery-value.ts';
import { BUDGET } from './recovery/populations.ts';

const { values } = parseArgs({
  options: {
    /** Another plan to score beside the best ones (days after the decline), e.g. the learned one from SIM_TRACE=hold. */
    plan: { type: 'string', default: '1.6,8,9.1,10.1' },
    draws: { type: 'string', default: '20000' },
  },
});

const RETRIES = BUDGET.retries;
const WINDOW_DAYS = BUDGET.windowDays;
const SPACING_DAYS = retrySpacingMs('hold', 'in_24_48h') / 86_400_000;
const STEP = 0.25;
/** Seed 003's band for a "try later" first retry, in days (seedFirstRetry keeps it inside 24–48 h). */
const SEED_FIRST: readonly [number, number] = [1, 2];

/** Clear days from the sandbox's own law, on a Fibonacci lattice so a run is exact and repeatable. */
function clearDays(n: number): Float64Array {
  const out = new Float64Array(n);
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < n; i++) out[i] = holdClearDaysFrom((i + 0.5) / n, (i * phi) % 1);
  return out;
}

interface Score {
  revenue: number;
  value: number;
  within10: number;
}

/** A plan's expected revenue, value and 10-day share over the clear days; `planFor` may read the clear day (the clairvoyant). */
function score(planFor: (clear: number) => readonly number[], clear: Float64Array): Score {
  let revenue = 0;
  let value = 0;
  let early = 0;
  for (const c of clear) {
    let reached = 1;
    for (const t of planFor(c)) {
      const won = reached * holdChance(t, c);
      revenue += won;
      value += won * recoveryValue(t, DEFAULT_DAILY_CHURN_HAZARD);
      if (t <= 10) early += won;
      reached -= won;
    }
  }
  return { revenue: revenue / clear.length, value: value / clear.length, within10: revenue > 0 ? early / revenue : 0 };
}

/** The clairvoyant plan: retries from the clear day on, a day apart, inside the window. */
function clairvoyant(c: number): number[] {
  return Array.from({ length: RETRIES }, (_, k) => c + k * SPACING_DAYS).filter((t) => t <= WINDOW_DAYS);
}

/** Every plan on the grid with its first retry in [from, to]: the best by `objective`. */
function best(from: number, to: number, clear: Float64Array, objective: (s: Score) => number): { plan: number[]; s: Score } {
  let top: { plan: number[]; s: Score } | null = null;
  const grid: number[] = [];
  for (let t = STEP; t <= WINDOW_DAYS + 1e-9; t += STEP) grid.push(Math.round(t / STEP) * STEP);
  const visit = (plan: number[]) => {
    if (plan.length === RETRIES) {
      const s = score(() => plan, clear);
      if (!top || objective(s) > objective(top.s)) top = { plan: [...plan], s };
      return;
    }
    const after = plan.length === 0 ? from : plan[plan.length - 1]! + SPACING_DAYS;
    const upTo = plan.length === 0 ? to : WINDOW_DAYS;
    for (const t of grid) if (t >= after - 1e-9 && t <= upTo + 1e-9) visit([...plan, t]);
  };
  visit([]);
  return top!;
}

const draws = Number(values.draws);
// The search runs on a coarser sample; the table scores each winner on the full one.
const coarse = clearDays(Math.min(draws, 1500));
const clear = clearDays(draws);
const perfect = score(clairvoyant, clear);
const rows: [string, number[] | null, Score][] = [['clairvoyant (retries from the clear day on)', null, perfect]];
const add = (label: string, plan: number[]) => rows.push([label, plan, score(() => plan, clear)]);
add('best without the clear day, first retry in 24–48 h (seed 003)', best(SEED_FIRST[0], SEED_FIRST[1], coarse, (s) => s.value).plan);
add('best without the clear day, first retry anywhere', best(STEP, WINDOW_DAYS, coarse, (s) => s.value).plan);
add('best for revenue alone (no price of time), first retry in 24–48 h', best(SEED_FIRST[0], SEED_FIRST[1], coarse, (s) => s.revenue).plan);
add('this plan (--plan)', values.plan.split(',').map(Number));
add('fixed [1,3,5,7]', [1, 3, 5, 7]);

console.log(`\nA temporary hold, ${draws} clear days from the sandbox's law; ${RETRIES} retries in ${WINDOW_DAYS} days, a day apart; price of time ${DEFAULT_DAILY_CHURN_HAZARD}\n`);
console.log('| plan | retries (days after the decline) | recovered | vs clairvoyant | value (planner objective) | ≤ 10 d |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [label, plan, s] of rows) {
  console.log(`| ${label} | ${plan ? plan.join(', ') : `clear day + ${clairvoyant(0).join(', ')}`} | ${(s.revenue * 100).toFixed(1)}% | ${(s.revenue / perfect.revenue).toFixed(3)} | ${s.value.toFixed(3)} | ${(s.within10 * 100).toFixed(1)}% |`);
}
