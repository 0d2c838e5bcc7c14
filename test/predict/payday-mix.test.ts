import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/sandbox-examples.ts';
import { classifyDecline } from '../../src/domain/decline-taxonomy.ts';
import type { PlanInput } from '../../src/domain/schedule-policy.ts';
import { learnPaydayMix } from '../../src/predict/learn-payday-mix.ts';
import { learnedPlan, type LearnedContext } from '../../src/predict/learned-policy.ts';
import { fitPayday } from '../../src/predict/payday.ts';
import { fitPaydayMix, isMixPayday, MIX_CANDIDATES, MIX_MIN_CARDS, mixChance, type MixCalendar, type PaydayMix, type PaydayRescue } from '../../src/predict/payday-mix.ts';
import { PRIOR_PAYDAY_MIX, USUAL_PAYDAYS_BY_COUNTRY, usualPaydayMix } from '../../src/predict/usual-paydays.ts';
import type { Example } from '../../src/predict/retry-model.ts';

// An account's customers paid on the 25th (60%) or the last Friday (40%), none on a US calendar:
// the mixture is learned from their insufficient-funds retries, failed and paid.

const DAY = 86_400_000;
const TRUTH: [MixCalendar, number][] = [['dom-25', 0.6], ['last-5', 0.4]];

/** The chance a retry on `day` is paid for a customer on `calendar` whose rescue began on `startDay`. */
function trueChance(calendar: MixCalendar, startDay: number, day: number): number {
  for (let d = day; d > startDay; d--) if (isMixPayday(calendar, d)) return 0.65 * 0.85 ** Math.max(0, day - d - 2);
  return 0.05;
}

interface Retry { card: string; payment: string; startDay: number; day: number; paid: boolean }

/** `cards` customers, three rescues each, up to four retries on random days of a 14-day window until one is paid. */
function simulate(cards: number, seed: number): Retry[] {
  return simulateOn(TRUTH, cards, seed);
}

/** The same for customers paid on either of two calendars, in the given shares. */
function simulateOn(truth: readonly [MixCalendar, number][], cards: number, seed: number): Retry[] {
  const rnd = seededRandom(seed);
  const out: Retry[] = [];
  for (let c = 0; c < cards; c++) {
    const calendar = rnd() < truth[0]![1] ? truth[0]![0] : truth[1]![0];
    for (let r = 0; r < 3; r++) {
      const startDay = 20_500 + r * 30 + Math.floor(rnd() * 28);
      const days = [...new Set(Array.from({ length: 4 }, () => startDay + 1 + Math.floor(rnd() * 14)))].sort((a, b) => a - b);
      for (const day of days) {
        const paid = rnd() < trueChance(calendar, startDay, day);
        out.push({ card: `card_${c}`, payment: `pay_${c}_${r}`, startDay, day, paid });
        if (paid) break;
      }
    }
  }
  return out;
}

function rescues(retries: readonly Retry[]): PaydayRescue[] {
  const byPayment = new Map<string, PaydayRescue & { retries: { day: number; paid: boolean }[] }>();
  for (const x of retries) {
    const r = byPayment.get(x.payment) ?? { card: x.card, startDay: x.startDay, retries: [] };
    r.retries.push({ day: x.day, paid: x.paid });
    byPayment.set(x.payment, r);
  }
  return [...byPayment.values()];
}

function examples(retries: readonly Retry[]): Example[] {
  return retries.map((x, i) => {
    const atMs = x.day * DAY + 5 * 3_600_000 + i;
    return {
      atMs, y: x.paid ? 1 : 0, payment: x.payment, card: x.card,
      input: { declineCode: 'insufficient_funds', strategy: 'after_payday', adviceCode: null, retryNumber: 1, rescueStartedAtMs: x.startDay * DAY + 15 * 3_600_000, lastAttemptAtMs: atMs - DAY, atMs, timezone: 'UTC', brand: 'visa', paymentMethodType: 'card', amount: 2500, payday: fitPayday([]) },
    };
  });
}

const share = (mix: PaydayMix, calendar: MixCalendar) => mix.calendars.find((c) => c.calendar === calendar)?.share ?? 0;

describe('account payday mixture', () => {
  it('learns which calendars an account\'s customers are paid on, and in what shares', () => {
    const mix = fitPaydayMix(rescues(simulate(300, 7)), PRIOR_PAYDAY_MIX)!;
    expect(mix.cards).toBe(300);
    expect(mix.calendars[0]!.calendar).toBe('dom-25');
    expect(share(mix, 'dom-25')).toBeGreaterThan(0.4);
    // The last Friday falls on the 22nd–31st: random retry days tell it only partly from its neighbour the 26th.
    expect(share(mix, 'last-5')).toBeGreaterThan(0.15);
    expect(share(mix, 'last-5') + share(mix, 'dom-26')).toBeGreaterThan(0.25);
    // No US calendar stands out: Fridays, the 1st and 15th hold little.
    expect(share(mix, 'weekly-5') + share(mix, 'semimonthly')).toBeLessThan(0.1);
    expect(mix.response.window).toBeGreaterThan(0.5);
    expect(mix.response.before).toBeLessThan(0.15);
  });

  it('says nothing with too few cards', () => {
    expect(fitPaydayMix(rescues(simulate(MIX_MIN_CARDS - 1, 7)), PRIOR_PAYDAY_MIX)).toBeNull();
  });

  it('scores a retry by the calendars, and a failed retry after a payday shifts the weight away from it', () => {
    const mix: PaydayMix = { calendars: [{ calendar: 'dom-25', share: 0.6 }, { calendar: 'last-5', share: 0.4 }], other: { share: 0, rate: 0.1 }, response: { before: 0.05, window: 0.65, after: 0.4, late: 0.2 }, cards: 100 };
    // A rescue that began on Wednesday 2026-06-10; the 25th is a Thursday, the last Friday the 26th.
    const start = Math.floor(Date.UTC(2026, 5, 10) / DAY);
    const on = (dom: number) => start + (dom - 10);
    expect(mixChance(mix, start, [], on(20))).toBeCloseTo(0.05, 5);
    expect(mixChance(mix, start, [], on(25))).toBeCloseTo(0.6 * 0.65 + 0.4 * 0.05, 5);
    expect(mixChance(mix, start, [], on(26))).toBeCloseTo(0.65, 5);
    // Not in funds on the 25th: likelier a last-Friday customer, so the 28th (two days after the last
    // Friday, three after the 25th) is worth more than it was.
    expect(mixChance(mix, start, [], on(28))).toBeCloseTo(0.6 * 0.4 + 0.4 * 0.65, 5);
    expect(mixChance(mix, start, [on(25)], on(28))).toBeCloseTo((0.6 * 0.35 * 0.4 + 0.4 * 0.95 * 0.65) / (0.6 * 0.35 + 0.4 * 0.95), 5);
  });

  it('is kept only where it predicts the held-out retries better than the usual calendars', () => {
    const all = examples(simulate(400, 11)).sort((a, b) => a.atMs - b.atMs);
    const heldOut = all.slice(Math.floor(all.length * 0.85));
    // Against the US calendars a customer without history is timed on (Fridays, the 1st and 15th), the mixture wins.
    const learned = learnPaydayMix(all, heldOut);
    expect(learned!.evaluation.brier).toBeLessThan(learned!.incumbent.brier);
    expect(learned!.mix!.calendars[0]!.calendar).toMatch(/^(dom-25|last-5)$/);
    // Against the truth itself (its calendars and shares, the same response) it cannot show a better time.
    const truth: PaydayMix = { calendars: TRUTH.map(([calendar, share]) => ({ calendar, share })), other: { share: 0, rate: 0.05 }, response: { before: 0.05, window: 0.65, after: 0.45, late: 0.2 }, cards: 400 };
    const against = learnPaydayMix(all, heldOut, truth)!;
    expect(against.mix).toBeNull();
  });

  it('is retired when the held-out retries show it worse: the customers moved to Fridays', () => {
    // Three months paid on the 25th and the last Friday, then the latest retries from customers paid on Fridays.
    const before = simulate(400, 11);
    const after = simulateOn([['weekly-5', 0.5], ['biweekly0-5', 0.5]], 300, 12).map((x) => ({ ...x, card: `new_${x.card}`, payment: `new_${x.payment}`, startDay: x.startDay + 200, day: x.day + 200 }));
    const heldOut = examples(after);
    const judged = learnPaydayMix([...examples(before), ...heldOut], heldOut)!;
    expect(judged.evaluation.brier).toBeGreaterThan(judged.incumbent.brier);
    expect(judged.mix).toBeNull();
  });

  it('starts from the usual calendars: a small account paid on them keeps them', () => {
    // 40 cards paid on Fridays and the 1st/15th: the fit stays on the US calendars it started from.
    const us = fitPaydayMix(rescues(simulateOn([['weekly-5', 0.6], ['semimonthly', 0.4]], 40, 5)), PRIOR_PAYDAY_MIX)!;
    expect(share(us, 'weekly-5') + share(us, 'biweekly0-5') + share(us, 'biweekly1-5')).toBeGreaterThan(0.3);
    expect(share(us, 'dom-25') + share(us, 'last-5')).toBe(0);
  });

  it("starts from the usual calendars of the account's country: a small Brazilian account paid on the 5th and 15th keeps them", () => {
    const brazil = usualPaydayMix('BR');
    // Every usual calendar is one an account's fit can hold, or its share would be lost at the start.
    for (const country of [...Object.keys(USUAL_PAYDAYS_BY_COUNTRY), 'FR', null]) {
      for (const c of usualPaydayMix(country).calendars) expect(MIX_CANDIDATES).toContain(c.calendar);
    }
    const fit = fitPaydayMix(rescues(simulateOn([['dom-5', 0.6], ['dom-15', 0.4]], 40, 5)), brazil)!;
    expect(share(fit, 'dom-5') + share(fit, 'dom-15')).toBeGreaterThan(0.5);
    // From the US calendars the same 40 cards are not enough to find the 5th.
    const fromUs = fitPaydayMix(rescues(simulateOn([['dom-5', 0.6], ['dom-15', 0.4]], 40, 5)), PRIOR_PAYDAY_MIX)!;
    expect(share(fromUs, 'dom-5')).toBeLessThan(share(fit, 'dom-5'));
  });
});

describe('the first retry on the usual calendars', () => {
  // A Brazilian card declined Wednesday 2026-06-17 08:00 in São Paulo: its 5th and 15th have passed, the
  // month's end (Tuesday June 30) is the next likely payday in a 14-day window.
  const input: PlanInput = {
    decline: classifyDecline({ code: 'insufficient_funds' }), failedAt: new Date('2026-06-17T11:00:00Z'), rescueStartedAt: new Date('2026-06-17T11:00:00Z'),
    windowEndsAt: new Date('2026-07-01T11:00:00Z'), retriesLeft: 4, retriesMade: 0, timezone: 'America/Sao_Paulo', schedule: { kind: 'automatic' },
  };
  const ctx = (hazard?: number): LearnedContext => ({ score: () => 0.3, amount: 2500, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: 'pay_br', paydayMix: usualPaydayMix('BR'), failedNsfRetries: [], ...(hazard === undefined ? {} : { dailyChurnHazard: hazard }) });
  const saoPaulo = (d: Date) => d.toLocaleDateString('en-CA', { timeZone: 'America/Sao_Paulo' });

  it('waits for a likely payday', () => {
    const plan = learnedPlan(input, ctx());
    expect(saoPaulo(plan[0]!.at)).toBe('2026-06-30');
    expect(plan[0]!.reason).toMatch(/^insufficient funds; on a likely payday \(the last business day/);
  });

  it('but a payday worth no attempt, under a steep price of time, does not leave the rescue without retries', () => {
    const plan = learnedPlan(input, ctx(0.5));
    expect(plan.length).toBeGreaterThan(0);
    expect(plan[0]!.at.getTime()).toBeLessThan(new Date('2026-06-30T03:00:00Z').getTime());
  });
});

describe('a replan on the mixture', () => {
  it('counts the retry just declined for insufficient funds as failed, stored or not', () => {
    // A fifth of the customers on no calendar: a failed retry on the 25th makes them likelier.
    const mix: PaydayMix = { calendars: [{ calendar: 'dom-25', share: 0.48 }, { calendar: 'last-5', share: 0.32 }], other: { share: 0.2, rate: 0.1 }, response: { before: 0.05, window: 0.65, after: 0.4, late: 0.2 }, cards: 100 };
    const decline = classifyDecline({ code: 'insufficient_funds' });
    // The rescue began Wednesday 2026-06-10 11:00 UTC; its first retry, on the 25th at 00:10 UTC, failed.
    const started = new Date('2026-06-10T11:00:00Z');
    const failedAt = new Date('2026-06-25T00:10:00Z');
    const input: PlanInput = { decline, failedAt, rescueStartedAt: started, windowEndsAt: new Date('2026-06-30T11:00:00Z'), retriesLeft: 1, retriesMade: 1, timezone: 'UTC', schedule: { kind: 'automatic' } };
    const ctx: LearnedContext = { score: () => 0.5, amount: 2500, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: 'pay_x', explorationShare: 0, paydayMix: mix, failedNsfRetries: [] };
    const [next] = learnedPlan(input, ctx);
    const day = (d: Date) => Math.floor(d.getTime() / DAY);
    expect(next!.p).toBeCloseTo(mixChance(mix, day(started), [day(failedAt)], day(next!.at)), 6);
    expect(next!.p).toBeLessThan(mixChance(mix, day(started), [], day(next!.at)) - 0.02);
    // The same whether the engine had stored it already.
    expect(learnedPlan(input, { ...ctx, failedNsfRetries: [failedAt.getTime()] })[0]!.p).toBeCloseTo(next!.p, 9);
  });
});

describe('the usual calendars on a fresh account', () => {
  it('place the first insufficient-funds retry on the next likely payday and never explore it; later retries may explore', () => {
    const decline = classifyDecline({ code: 'insufficient_funds' });
    // Wednesday 2026-06-10 11:00 UTC: the next Friday is June 12.
    const started = new Date('2026-06-10T11:00:00Z');
    const windowEndsAt = new Date('2026-06-24T11:00:00Z');
    const ctx = (key: string): LearnedContext => ({ score: () => 0.3, amount: 2500, brand: 'visa', paymentMethodType: 'card', payday: fitPayday([]), explorationKey: key, explorationShare: 0.2, paydayMix: PRIOR_PAYDAY_MIX, failedNsfRetries: [] });
    const keys = Array.from({ length: 60 }, (_, i) => `pay_${i}`);
    const first = keys.map((k) => learnedPlan({ decline, failedAt: started, rescueStartedAt: started, windowEndsAt, retriesLeft: 4, retriesMade: 0, timezone: 'UTC', schedule: { kind: 'automatic' } }, ctx(k))[0]!);
    for (const r of first) {
      expect(r.at.toISOString()).toBe('2026-06-12T00:10:00.000Z');
      expect(r.reason).toMatch(/^insufficient funds; on a likely payday \(Fridays, every other Friday/);
    }
    // After a failed retry the plan may explore (a fifth of these keys do).
    const failedAt = new Date('2026-06-12T00:10:00Z');
    const replans = keys.map((k) => learnedPlan({ decline, failedAt, rescueStartedAt: started, windowEndsAt, retriesLeft: 3, retriesMade: 1, timezone: 'UTC', schedule: { kind: 'automatic' } }, ctx(k))[0]!);
    expect(replans.filter((r) => r.reason.startsWith('exploring another time')).length).toBeGreaterThan(0);
  });
});
