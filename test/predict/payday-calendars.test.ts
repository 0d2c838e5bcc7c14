import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/sandbox-examples.ts';
import { classifyDecline } from '../../src/domain/decline-taxonomy.ts';
import { learnedPlan } from '../../src/predict/learned-policy.ts';
import { accountPaydayCalendars, fitPayday, isPayday, isPaydayOf, type PaydayFamily } from '../../src/predict/payday.ts';
import { retryScorer } from '../../src/predict/retry-model.ts';
import { PRIOR_RETRY_MODEL } from '../../src/predict/scorers.ts';

// Paydays outside the US calendars (the 25th, the last Friday, another weekday): a customer's own
// calendar on enough evidence, and the account's calendars for customers without a history.

const DAY = 86_400_000;
const JAN_2026 = Math.floor(Date.UTC(2026, 0, 1) / DAY);

/** `n` recovered days of one customer paid on `family`: each 0–2 days after a payday, a month or so apart. */
function customer(family: PaydayFamily, n: number, rnd: () => number): number[] {
  const days: number[] = [];
  for (let d = JAN_2026 + Math.floor(rnd() * 30); days.length < n; d++) {
    if (!isPaydayOf(family, d) || rnd() < 0.5) continue;
    days.push(d + Math.floor(rnd() * 3));
    d += 20;
  }
  return days;
}

function account(mix: [PaydayFamily, number][], cards: number, seed: number): number[][] {
  const rnd = seededRandom(seed);
  return Array.from({ length: cards }, () => {
    let u = rnd();
    const family = mix.find(([, w]) => (u -= w) < 0)?.[0] ?? mix[0]![0];
    return customer(family, 2 + Math.floor(rnd() * 2), rnd);
  });
}

describe("a customer's own calendar", () => {
  it('a customer paid on the 25th is recognised on three recovered payments, not on two', () => {
    const days = customer('monthly-25', 3, seededRandom(1));
    expect(fitPayday(days).family).toBe('monthly-25');
    // Two could be chance among 28 monthly calendars: the generic (or the account's) calendar stays.
    expect(fitPayday(days.slice(0, 2)).family).toBe('generic');
  });

  it('the US calendars keep winning on two payments', () => {
    const fridays: number[] = [];
    for (let d = JAN_2026; fridays.length < 2; d++) if (isPaydayOf('weekly', d) && d > JAN_2026 + 10) fridays.push(d, d + 7);
    expect(fitPayday(fridays.slice(0, 2)).family).toBe('weekly');
  });
});

describe("an account's calendars", () => {
  it('finds the paydays common among its customers, and none in noise or on too little history', () => {
    const elsewhere = accountPaydayCalendars(account([['monthly-25', 0.45], ['last-friday', 0.3], ['weekly-3', 0.25]], 80, 2));
    expect(elsewhere).toEqual(expect.arrayContaining(['monthly-25', 'last-friday', 'weekly-3']));
    expect(elsewhere.length).toBeLessThanOrEqual(4);

    const us = accountPaydayCalendars(account([['biweekly0', 0.21], ['biweekly1', 0.21], ['weekly', 0.34], ['semimonthly', 0.19], ['monthly', 0.05]], 80, 3));
    expect(us).toEqual(expect.arrayContaining(['weekly', 'semimonthly']));

    const rnd = seededRandom(4);
    const noise = Array.from({ length: 80 }, () => [JAN_2026 + Math.floor(rnd() * 90), JAN_2026 + 90 + Math.floor(rnd() * 90)]);
    expect(accountPaydayCalendars(noise)).toEqual([]);
    expect(accountPaydayCalendars(account([['monthly-25', 1]], 19, 5))).toEqual([]);
  });

  it("an insufficient-funds retry of a customer without a history goes to the account's next payday, and says so", () => {
    const calendars: PaydayFamily[] = ['monthly-25', 'weekly-3'];
    const payday = fitPayday([], calendars);
    expect(payday.family).toBe('account');
    // Thursday 12 March 2026, 15:00 UTC: the next of the account's paydays is Wednesday 18 March.
    const failedAt = new Date('2026-03-12T15:00:00Z');
    const plan = learnedPlan(
      { decline: classifyDecline({ code: 'insufficient_funds', count: false }), failedAt, rescueStartedAt: failedAt, windowEndsAt: new Date(failedAt.getTime() + 14 * DAY), retriesLeft: 4, retriesMade: 0, timezone: 'Europe/Berlin', schedule: { kind: 'automatic' } },
      { score: retryScorer(PRIOR_RETRY_MODEL), amount: 2500, brand: 'visa', paymentMethodType: 'card', payday, explorationKey: 'acct-cal', explorationShare: 0 },
    );
    expect(plan[0]!.at.toISOString().slice(0, 10)).toBe('2026-03-18');
    expect(plan[0]!.reason).toContain('the 25th of the month, or a Wednesday');
    expect(plan[0]!.reason).toContain("common among this account's customers");
    // The generic calendar would have said Friday 13 March.
    const generic = learnedPlan(
      { decline: classifyDecline({ code: 'insufficient_funds', count: false }), failedAt, rescueStartedAt: failedAt, windowEndsAt: new Date(failedAt.getTime() + 14 * DAY), retriesLeft: 4, retriesMade: 0, timezone: 'Europe/Berlin', schedule: { kind: 'automatic' } },
      { score: retryScorer(PRIOR_RETRY_MODEL), amount: 2500, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: 'acct-cal', explorationShare: 0 },
    );
    expect(generic[0]!.at.toISOString().slice(0, 10)).toBe('2026-03-13');
    // Every planned retry's payday reason is true of its day.
    for (const slot of plan) {
      if (!/on the morning of|a likely payday \(/.test(slot.reason)) continue;
      const local = Math.floor((slot.at.getTime() + 3_600_000) / DAY);
      expect([0, 1, 2].some((lag) => isPayday(payday, local - lag))).toBe(true);
    }
  });
});
