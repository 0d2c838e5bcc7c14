import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/sandbox-examples.ts';
import { classifyDecline } from '../../src/domain/decline-taxonomy.ts';
import { localMinuteOfDay } from '../../src/domain/local-time.ts';
import { adviceCodeDelayMs, MIN_RETRY_GAP_MS, type PlanInput } from '../../src/domain/schedule-policy.ts';
import { learnedPlan, PLAN_RESOLUTION, type LearnedContext } from '../../src/predict/learned-policy.ts';
import { retrySpacingMs } from '../../src/predict/plan-slots.ts';
import { declineGroup } from '../../src/predict/features.ts';
import { fitPayday, isPaydayOf } from '../../src/predict/payday.ts';
import { retryScorer } from '../../src/predict/retry-model.ts';
import { perGroupScorer, PRIOR_RETRY_MODEL } from '../../src/predict/scorers.ts';
import { hash32, toUnit } from '../../src/gateways/sandbox/hash.ts';

const DAY = 86_400_000;
const CODES = ['insufficient_funds', 'generic_decline', 'do_not_honor', 'try_again_later', 'card_velocity_exceeded', 'processing_error', 'issuer_unavailable', 'expired_card', 'stolen_card', 'lost_card'];
const ZONES = ['UTC', 'America/New_York', 'America/Los_Angeles', 'Europe/London', 'Asia/Kolkata', 'Australia/Sydney', 'Pacific/Chatham', 'Etc/GMT+5'];
const BRANDS = ['visa', 'mastercard', 'amex'];
const ADVICE = [null, '24', '26', '30', '02'];

function randomCase(rnd: () => number, i: number): { input: PlanInput; ctx: LearnedContext } {
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const brand = pick(BRANDS);
  const decline = classifyDecline({ code: pick(CODES), adviceCode: brand === 'mastercard' ? pick(ADVICE) : null, brand: brand as never, count: false });
  const startedAt = Date.UTC(2026, 0, 1) + Math.floor(rnd() * 365 * DAY);
  const windowDays = 7 + Math.floor(rnd() * 24);
  const retriesMade = Math.floor(rnd() * 4);
  const failedAt = startedAt + Math.floor(rnd() * windowDays * DAY * (retriesMade ? 0.9 : 0));
  const history = Array.from({ length: Math.floor(rnd() * 4) }, () => 20_400 + Math.floor(rnd() * 100));
  // A random model: any probabilities at all must still give a plan within the budget.
  const salt = Math.floor(rnd() * 1e9);
  const score = rnd() < 0.5 ? retryScorer(PRIOR_RETRY_MODEL) : (f: { atMs: number; retryNumber: number }) => toUnit(hash32(`${salt}|${f.atMs}|${f.retryNumber}`)) ** 3;
  return {
    input: {
      decline,
      failedAt: new Date(failedAt),
      rescueStartedAt: new Date(startedAt),
      windowEndsAt: new Date(startedAt + windowDays * DAY),
      retriesLeft: Math.floor(rnd() * 9),
      retriesMade,
      timezone: pick(ZONES),
      schedule: { kind: 'automatic' },
    },
    ctx: { score: score as never, amount: 100 + Math.floor(rnd() * 50_000), brand, paymentMethodType: pick(['card', 'apple_pay']), payday: fitPayday(history), explorationKey: `pay_${i}`, explorationShare: rnd() * 0.5 },
  };
}

describe('learned schedule: never breaks the budget (property-based, 600 random cases)', () => {
  it('respects retries left, window, quiet hours, minimum gap, advice-code delay and hard declines', () => {
    const rnd = seededRandom(2026);
    let planned = 0;
    let explored = 0;
    for (let i = 0; i < 600; i++) {
      const { input, ctx } = randomCase(rnd, i);
      const plan = learnedPlan(input, ctx);
      planned += plan.length;
      explored += plan.filter((s) => s.reason.startsWith('exploring')).length;
      const where = `case ${i}: ${input.decline.code} ${input.timezone}`;
      expect(plan.length, where).toBeLessThanOrEqual(Math.max(0, input.retriesLeft));
      if (input.decline.category === 'hard') expect(plan, where).toEqual([]);
      let prev = input.failedAt.getTime();
      const delay = Math.max(MIN_RETRY_GAP_MS, adviceCodeDelayMs(input.decline.adviceCode));
      plan.forEach((s, k) => {
        const t = s.at.getTime();
        expect(t - prev, where).toBeGreaterThanOrEqual(MIN_RETRY_GAP_MS);
        if (k === 0) expect(t - input.failedAt.getTime(), where).toBeGreaterThanOrEqual(delay);
        expect(t, where).toBeLessThanOrEqual(input.windowEndsAt.getTime());
        const m = localMinuteOfDay(s.at, input.timezone);
        expect(m >= 60 && m < 240, `${where} quiet hours at ${s.at.toISOString()}`).toBe(false);
        expect(s.p).toBeGreaterThanOrEqual(0);
        expect(s.p).toBeLessThanOrEqual(1);
        expect(s.reason.length).toBeGreaterThan(10);
        // After the first retry of the plan (or any retry of a replan), the spacing rule holds.
        if (k > 0 || input.retriesMade > 0) {
          const g = declineGroup(input.decline.code, input.decline.strategy);
          expect(t - prev, `${where} spacing`).toBeGreaterThanOrEqual(retrySpacingMs(g, input.decline.strategy));
        }
        prev = t;
      });
      // Reproducible: the same payment and input give the same plan, exploration included.
      expect(learnedPlan(input, ctx).map((s) => s.at.getTime())).toEqual(plan.map((s) => s.at.getTime()));
    }
    expect(planned).toBeGreaterThan(300);
    expect(explored).toBeGreaterThan(0);
    // Exploration is bounded: at most one explored retry per plan, and the share is capped at 20%.
    expect(explored).toBeLessThan(600 * 0.3);
  });

  it('times an insufficient-funds retry for the customer\'s learned payday and says so', () => {
    // A monthly (last business day) customer: four recoveries on the day after payday.
    const april20 = Date.UTC(2026, 3, 20) / DAY;
    const history: number[] = [];
    for (let d = april20 - 115; d < april20; d++) if (isPaydayOf('monthly', d)) history.push(d + 1);
    expect(history.length).toBeGreaterThanOrEqual(4);
    const payday = fitPayday(history);
    expect(payday.family).toBe('monthly');
    const failedAt = new Date('2026-04-20T15:00:00Z'); // a Monday; payday is Thursday 30 April
    const decline = classifyDecline({ code: 'insufficient_funds', adviceCode: null, brand: 'visa', count: false });
    const plan = learnedPlan(
      { decline, failedAt, rescueStartedAt: failedAt, windowEndsAt: new Date(failedAt.getTime() + 14 * DAY), retriesLeft: 1, retriesMade: 0, timezone: 'UTC', schedule: { kind: 'automatic' } },
      { score: retryScorer(PRIOR_RETRY_MODEL), amount: 2500, brand: 'visa', paymentMethodType: 'card', payday, explorationKey: 'pay_fixed', explorationShare: 0 },
    );
    expect(plan).toHaveLength(1);
    const day = plan[0]!.at.toISOString().slice(0, 10);
    expect(['2026-04-30', '2026-05-01', '2026-05-02']).toContain(day);
    expect(plan[0]!.reason).toContain('last business day of the month');
    expect(plan[0]!.p).toBeGreaterThan(0.3);
  });
});

describe('ties', () => {
  it('equal chances at every instant are taken as early as the rules allow, not bunched at the window end', () => {
    const failedAt = new Date('2026-03-10T15:00:00Z');
    const input: PlanInput = {
      decline: classifyDecline({ code: 'generic_decline', count: false }),
      failedAt, rescueStartedAt: failedAt, windowEndsAt: new Date(failedAt.getTime() + 14 * DAY),
      retriesLeft: 3, retriesMade: 0, timezone: 'UTC', schedule: { kind: 'automatic' },
    };
    const plan = learnedPlan(input, { score: () => 0.3, amount: 2000, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: 'ties', explorationShare: 0 });
    expect(plan).toHaveLength(3);
    expect(plan[0]!.at.getTime()).toBe(failedAt.getTime() + MIN_RETRY_GAP_MS);
    // Spaced a day apart (the spacing rule), not bunched: the 3rd retry on day 2, not day 14.
    expect(plan[1]!.at.getTime() - plan[0]!.at.getTime()).toBeGreaterThanOrEqual(DAY);
    expect(plan[2]!.at.getTime() - plan[1]!.at.getTime()).toBeGreaterThanOrEqual(DAY);
    expect(plan[2]!.at.getTime() - failedAt.getTime()).toBeLessThan(2 * DAY + 10 * 3_600_000);
  });
});

describe('a rise the model cannot resolve is a tie', () => {
  // A generic decline scored 0.4 points likelier 4 h on than now: the size of the shipped prior's own
  // slope toward the next local midnight, where the network's chance does not move with the hour.
  const failedAt = new Date('2026-03-10T15:00:00Z');
  const input: PlanInput = {
    decline: classifyDecline({ code: 'generic_decline', count: false }),
    failedAt, rescueStartedAt: failedAt, windowEndsAt: new Date(failedAt.getTime() + 14 * DAY),
    retriesLeft: 1, retriesMade: 0, timezone: 'UTC', schedule: { kind: 'automatic' },
  };
  const stepUp = (gain: number) => (f: { atMs: number }) => (f.atMs - failedAt.getTime() >= 4 * 3_600_000 ? 0.3 + gain : 0.3);
  const ctx = (gain: number, resolution?: number): LearnedContext => ({
    score: stepUp(gain) as never, amount: 2000, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: 'resolution', explorationShare: 0,
    ...(resolution === undefined ? {} : { resolution }),
  });
  const hoursToFirst = (c: LearnedContext) => (learnedPlan(input, c)[0]!.at.getTime() - failedAt.getTime()) / 3_600_000;

  it(`within PLAN_RESOLUTION (${PLAN_RESOLUTION}) of the amount the earliest slot is taken; an exact model (resolution 0) waits the 4 h`, () => {
    expect(hoursToFirst(ctx(0.004))).toBeLessThan(1);
    expect(hoursToFirst(ctx(0.004, 0))).toBeGreaterThanOrEqual(4);
  });

  it('a rise beyond it is worth the wait', () => {
    expect(hoursToFirst(ctx(0.02))).toBeGreaterThanOrEqual(4);
  });

  it('the shipped prior retries a generic decline within the hour (11:00 in New York, 13 h before local midnight)', () => {
    const ny = { ...input, failedAt: new Date('2026-03-24T15:00:00Z'), rescueStartedAt: new Date('2026-03-24T15:00:00Z'), windowEndsAt: new Date(Date.parse('2026-03-24T15:00:00Z') + 14 * DAY), retriesLeft: 4, timezone: 'America/New_York' };
    for (const code of ['generic_decline', 'do_not_honor']) {
      const plan = learnedPlan({ ...ny, decline: classifyDecline({ code, count: false }) }, { ...ctx(0), score: retryScorer(PRIOR_RETRY_MODEL) });
      expect((plan[0]!.at.getTime() - ny.failedAt.getTime()) / 3_600_000, `${code}: ${plan[0]!.reason}`).toBeLessThan(1);
    }
  });
});

describe('time has a price', () => {
  // A model that, like the shipped prior on "try again later", sees a slowly rising chance: 5% more
  // by day 13 than on day 1. Without a price on time the plan waits for the window's end.
  const failedAt = new Date('2026-03-10T15:00:00Z');
  const input: PlanInput = {
    decline: classifyDecline({ code: 'generic_decline', count: false }),
    failedAt, rescueStartedAt: failedAt, windowEndsAt: new Date(failedAt.getTime() + 14 * DAY),
    retriesLeft: 1, retriesMade: 1, timezone: 'UTC', schedule: { kind: 'automatic' },
  };
  const rising = (f: { atMs: number }) => 0.4 + 0.05 * Math.min(1, (f.atMs - failedAt.getTime()) / (13 * DAY));
  const ctx = { score: rising as never, amount: 2000, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: 'time', explorationShare: 0 };

  it('with a hazard of 0 the latest high slot wins; with the default it is taken within a day', () => {
    const free = learnedPlan(input, { ...ctx, dailyChurnHazard: 0 });
    expect(free[0]!.at.getTime() - failedAt.getTime()).toBeGreaterThan(12 * DAY);
    const priced = learnedPlan(input, ctx);
    expect(priced[0]!.at.getTime() - failedAt.getTime()).toBeLessThanOrEqual(DAY + 10 * 60_000);
  });
});

describe('the seed strategy table places the first retry on a fresh account', () => {
  // Tuesday 24 March 2026, 11:00 in New York (15:00 UTC).
  const failedAt = new Date('2026-03-24T15:00:00Z');
  const plan = (code: string, free?: 'all') => learnedPlan(
    { decline: classifyDecline({ code, count: false }), failedAt, rescueStartedAt: failedAt, windowEndsAt: new Date(failedAt.getTime() + 14 * DAY), retriesLeft: 4, retriesMade: 0, timezone: 'America/New_York', schedule: { kind: 'automatic' } },
    { score: retryScorer(PRIOR_RETRY_MODEL), amount: 2500, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: `seed-${code}`, ...(free ? { freeGroups: free } : {}) },
  );
  const hoursToFirst = (code: string) => (plan(code)[0]!.at.getTime() - failedAt.getTime()) / 3_600_000;
  it.each([
    ['network_timeout', 0.1, 1],
    ['issuer_unavailable', 0.1, 1],
    ['processing_error', 23.9, 24.1],
    ['try_again_later', 24, 48],
    ['exceeds_limit', 13, 14], // Wednesday 00:10 in New York is 13 h 10 min later
    ['insufficient_funds', 61.1, 61.2], // Friday 27 March 00:10 in New York (04:10 UTC), the next generic payday
  ])('%s: first retry %f–%f h after the decline', (code, lo, hi) => {
    expect(hoursToFirst(code)).toBeGreaterThanOrEqual(lo);
    expect(hoursToFirst(code)).toBeLessThanOrEqual(hi);
    expect(plan(code)[0]!.reason).toContain('seed strategy');
  });

  it('a dead card plans one check and waits for a new card', () => {
    const p = plan('expired_card');
    expect(p).toHaveLength(1);
    expect(p[0]!.reason).toContain('new card');
  });

  it('a group the account\'s own model has earned is placed by the model, and the reason does not cite the seed', () => {
    const p = plan('try_again_later', 'all');
    expect(p[0]!.reason).not.toContain('seed strategy');
  });
});

describe("the account's own model times only the decline groups it has earned", () => {
  const at = Date.UTC(2026, 2, 24, 15);
  const features = (code: string) => {
    const d = classifyDecline({ code, count: false });
    return { declineCode: d.code, strategy: d.strategy, adviceCode: null, retryNumber: 2, rescueStartedAtMs: at, lastAttemptAtMs: at + DAY, atMs: at + 3 * DAY, timezone: 'America/New_York', brand: 'visa', paymentMethodType: 'card', amount: 2500, payday: fitPayday([]) };
  };
  const own = () => 0.99;
  const prior = retryScorer(PRIOR_RETRY_MODEL);

  it('an earned group is scored by the account model, every other group by the prior', () => {
    const score = perGroupScorer(own, new Set(['nsf']));
    expect(score(features('insufficient_funds'))).toBe(0.99);
    for (const code of ['generic_decline', 'try_again_later', 'card_velocity_exceeded', 'network_timeout']) {
      expect(score(features(code))).toBeCloseTo(prior(features(code)), 12);
      expect(score(features(code))).toBeLessThan(0.9);
    }
  });

  it('with no group earned, the plan and its reasons are the prior\'s, not "this account\'s own model"', () => {
    const input: PlanInput = { decline: classifyDecline({ code: 'generic_decline', count: false }), failedAt: new Date(at), rescueStartedAt: new Date(at), windowEndsAt: new Date(at + 14 * DAY), retriesLeft: 4, retriesMade: 0, timezone: 'America/New_York', schedule: { kind: 'automatic' } };
    const base = { amount: 2500, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: 'per-group', explorationShare: 0 };
    const withPrior = learnedPlan(input, { ...base, score: prior });
    const withAccount = learnedPlan(input, { ...base, score: perGroupScorer(own, new Set()), freeGroups: new Set(), modelLabel: "this account's own model" });
    expect(withAccount.map((s) => s.at.getTime())).toEqual(withPrior.map((s) => s.at.getTime()));
    for (const s of withAccount) expect(s.reason).not.toContain("this account's own model");
  });
});
