import { describe, expect, it } from 'vitest';
import { simulateExamples, seededRandom } from '../../bench/sandbox-examples.ts';
import { fitPayday, isPaydayOf } from '../../src/predict/payday.ts';
import { evaluateModel, groupsBeatingPrior, retryScorer, trainRetryModel, type Example } from '../../src/predict/retry-model.ts';
import { PRIOR_RETRY_MODEL } from '../../src/predict/scorers.ts';
import { evaluate, rocAuc } from '../../src/predict/metrics.ts';
import { FEATURE_NAMES, featurize } from '../../src/predict/features.ts';

const DAY = 86_400_000;

/** Insufficient-funds customers paid on the last business day: retries succeed within 2 days of it. */
function plantedPayday(n: number, seed: number): Example[] {
  const rnd = seededRandom(seed);
  const out: Example[] = [];
  for (let c = 0; c < n; c++) {
    const startDay = 20_500 + Math.floor(rnd() * 300);
    // Their history: earlier months' recoveries, a day after each payday.
    const history: number[] = [];
    for (let d = startDay - 130; d < startDay && history.length < 4; d++) if (isPaydayOf('monthly', d)) history.push(d + 1);
    const payday = fitPayday(history);
    for (let k = 1; k <= 4; k++) {
      const atMs = (startDay + rnd() * 14) * DAY;
      const atDay = Math.floor(atMs / DAY);
      let inWindow = false;
      for (let d = startDay + 1; d <= atDay; d++) if (isPaydayOf('monthly', d) && atDay - d <= 2) inWindow = true;
      const y = rnd() < (inWindow ? 0.6 : 0.04) ? 1 : 0;
      out.push({
        atMs,
        y,
        input: { declineCode: 'insufficient_funds', strategy: 'after_payday', adviceCode: null, retryNumber: k, rescueStartedAtMs: startDay * DAY + 15 * 3_600_000, lastAttemptAtMs: atMs - DAY, atMs, timezone: 'UTC', brand: 'visa', paymentMethodType: 'card', amount: 2500, payday },
      });
    }
  }
  return out;
}

describe('payday fit', () => {
  it('recognises a monthly last-business-day customer from four recoveries, and not from three', () => {
    const days: number[] = [];
    for (let d = 20_400; days.length < 4; d++) if (isPaydayOf('monthly', d)) days.push(d + 1);
    expect(fitPayday(days).family).toBe('monthly');
    expect(fitPayday(days.slice(0, 3)).family).toBe('generic');
  });
});

describe('retry-timing model', () => {
  it('learns a planted payday pattern: a retry just after payday scores far above one before it', () => {
    const result = trainRetryModel(plantedPayday(3000, 11));
    const score = retryScorer(result.model);
    const held = result.heldOut;
    const p = held.map((e) => score(e.input));
    // The best possible AUC here is about 0.79 (few retries land in the 3-day window).
    expect(rocAuc(p, held.map((e) => e.y))).toBeGreaterThan(0.7);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const window = FEATURE_NAMES.indexOf('nsf_window');
    const inWin = held.filter((e) => featurize(e.input)[window] === 1);
    const outWin = held.filter((e) => featurize(e.input)[window] === 0);
    expect(inWin.length).toBeGreaterThan(50);
    // The model puts the planted 60% on payday through payday + 2 and the 4% elsewhere.
    expect(mean(inWin.map((e) => score(e.input)))).toBeGreaterThan(0.45);
    expect(mean(outWin.map((e) => score(e.input)))).toBeLessThan(0.08);
  });

  it('is calibrated and beats the per-decline base rate on held-out sandbox retries', () => {
    const result = trainRetryModel(simulateExamples({ customers: 1500, months: 4, seed: 'calib' }));
    expect(result.heldOut.length).toBeGreaterThan(500);
    expect(result.evaluation.calibrationError).toBeLessThan(0.04);
    expect(result.evaluation.auc).toBeGreaterThan(result.baseline.auc + 0.05);
    expect(result.evaluation.brier).toBeLessThan(result.baseline.brier);
  });

  it('ships a prior that is calibrated on customers it never saw', () => {
    const fresh = simulateExamples({ customers: 800, months: 3, seed: 'unseen' });
    const e = evaluateModel(PRIOR_RETRY_MODEL, fresh);
    expect(e.calibrationError).toBeLessThan(0.04);
    expect(e.auc).toBeGreaterThan(0.7);
  });

  it('metrics: AUC of a perfect ranking is 1, of a reversed one 0; Brier of certain truth is 0', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(evaluate([0, 1], [0, 1]).brier).toBe(0);
  });
});

describe("a decline group the account's model earns", () => {
  /** Generic declines of one account: `chance(days since the decline)` decides each retry. */
  function generic(n: number, seed: number, chance: (days: number) => number): Example[] {
    const rnd = seededRandom(seed);
    const out: Example[] = [];
    for (let c = 0; c < n; c++) {
      const start = (20_500 + Math.floor(rnd() * 300)) * DAY + 15 * 3_600_000;
      let last = start;
      for (let k = 1; k <= 3; k++) {
        const atMs = last + (0.2 + rnd() * 4) * DAY;
        out.push({ atMs, y: rnd() < chance((atMs - start) / DAY) ? 1 : 0, input: { declineCode: 'generic_decline', strategy: 'spaced', adviceCode: null, retryNumber: k, rescueStartedAtMs: start, lastAttemptAtMs: last, atMs, timezone: 'UTC', brand: 'visa', paymentMethodType: 'card', amount: 2500, payday: fitPayday([]) } });
        last = atMs;
      }
    }
    return out.sort((a, b) => a.atMs - b.atMs);
  }
  const earned = (examples: Example[]) => {
    const result = trainRetryModel(examples);
    return groupsBeatingPrior(result.model, PRIOR_RETRY_MODEL, result.heldOut);
  };

  it('is earned where its own retries show a better time than the prior knows (generic declines that clear after 3 days)', () => {
    expect(earned(generic(3000, 21, (d) => (d >= 3 ? 0.5 : 0.03)))).toEqual(['generic']);
  });

  it('is not earned for a better level alone: the same chance at every time, only lower than the prior expects', () => {
    expect(earned(generic(3000, 22, () => 0.08))).toEqual([]);
  });
});
