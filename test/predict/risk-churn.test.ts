import { describe, expect, it } from 'vitest';
import { predictChurn, trainChurn, MIN_EXAMPLES, PRIOR_LOSS_MODEL, type RescueHistoryItem } from '../../src/predict/churn.ts';
import { predictRisk, recommendationFor, type CardAttempt } from '../../src/predict/risk.ts';

// The risk and churn models behind /api/predict/risk and /api/predict/churn (pure parts).

const DAY = 86_400_000;
const now = new Date('2026-06-15T12:00:00Z');
const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY);
const attempt = (daysAgo: number, status: 'succeeded' | 'failed', o: Partial<CardAttempt> = {}): CardAttempt => ({
  at: at(daysAgo), status, number: 1, amount: 2000, declineCode: status === 'failed' ? 'generic_decline' : null, declineCategory: status === 'failed' ? 'soft' : null, adviceCode: null, ...o,
});
const constant = (p: number) => () => p;

describe('risk score', () => {
  it('maps scores to the documented recommendations', () => {
    expect([0, 24.9, 25, 49.9, 50, 79.9, 80, 100].map(recommendationFor)).toEqual(['proceed', 'proceed', 'proceed_with_caution', 'proceed_with_caution', 'delay', 'delay', 'block', 'block']);
  });

  it('an open soft decline is scored through the retry model: a likelier retry is a lower risk', () => {
    const history = [attempt(40, 'succeeded'), attempt(2, 'failed')];
    const base = { brand: 'amex', paymentMethodType: 'card', history, amount: 2000, now, timezone: 'UTC' };
    const likely = predictRisk({ ...base, score: constant(0.9) });
    const unlikely = predictRisk({ ...base, score: constant(0.1) });
    expect(likely.riskScore).toBeLessThan(25);
    expect(unlikely.riskScore).toBeGreaterThan(80);
    expect(unlikely.recommendation).toBe('block');
    expect(unlikely.reasoning).toMatch(/generic_decline.*retry model gives a charge now a 10% chance/);
  });

  it('a fresh charge is scored from the card\'s first-charge decline rate: a card that often declines scores higher', () => {
    const clean = predictRisk({ brand: 'visa', paymentMethodType: 'card', history: [1, 31, 61].map((d) => attempt(d, 'succeeded')), amount: 2000, now, timezone: 'UTC', score: constant(0) });
    expect(clean.riskScore).toBeGreaterThan(2);
    expect(clean.riskScore).toBeLessThan(7);
    const flaky = predictRisk({ brand: 'visa', paymentMethodType: 'card', history: [attempt(1, 'succeeded'), ...[2, 5, 9, 20, 33, 50].map((d) => attempt(d, 'failed'))], amount: 2000, now, timezone: 'UTC', score: constant(0) });
    expect(flaky.riskScore).toBeGreaterThan(clean.riskScore * 2);
    expect(flaky.reasoning).toMatch(/6 of its 7 first charges declined/);
  });

  it('charging in the local night, when issuers decline more, scores higher', () => {
    const history = [1, 31, 61].map((d) => attempt(d, 'succeeded'));
    const day = predictRisk({ brand: 'visa', paymentMethodType: 'card', history, amount: 2000, now: new Date('2026-06-15T17:00:00Z'), timezone: 'America/New_York', score: constant(0) });
    const night = predictRisk({ brand: 'visa', paymentMethodType: 'card', history, amount: 2000, now: new Date('2026-06-15T06:30:00Z'), timezone: 'America/New_York', score: constant(0) });
    expect(night.riskScore).toBeGreaterThan(day.riskScore * 1.2);
  });

  it('a Mastercard that reached 10 declines in 24 h is blocked by the network rule', () => {
    const history = Array.from({ length: 10 }, (_, i) => attempt(0.5 - i * 0.01, 'failed', { number: i + 1 }));
    const r = predictRisk({ brand: 'mastercard', paymentMethodType: 'card', history, amount: 2000, now, timezone: 'UTC', score: constant(0.9) });
    expect(r.recommendation).toBe('block');
    expect(r.riskScore).toBeGreaterThanOrEqual(90);
    expect(r.reasoning).toMatch(/network rule/);
  });

  it('no history scores the network\'s 7%; an unresolved hard decline scores 95', () => {
    expect(predictRisk({ brand: 'visa', paymentMethodType: 'card', history: [], amount: 2000, now, timezone: 'UTC', score: constant(0.5) }).riskScore).toBe(7);
    const hard = predictRisk({ brand: 'visa', paymentMethodType: 'card', history: [attempt(3, 'failed', { declineCode: 'stolen_card', declineCategory: 'hard' })], amount: 2000, now, timezone: 'UTC', score: constant(0.5) });
    expect(hard).toMatchObject({ riskScore: 95, recommendation: 'block' });
  });
});

describe('churn model', () => {
  const item = (i: number, outcome: 'lost' | 'kept' | null, o: Partial<RescueHistoryItem> = {}): RescueHistoryItem => ({
    startedAt: new Date(Date.UTC(2026, 0, 1) + i * 31 * DAY), endedAt: outcome === null ? null : new Date(Date.UTC(2026, 0, 1) + (i * 31 + 14) * DAY), outcome, declineCategory: 'soft', declineCode: 'generic_decline', amount: 5000, ...o,
  });

  it('uses the shipped prior until the account has enough labelled rescues', () => {
    const few = new Map([['cus_1', [item(0, 'lost'), item(1, 'kept')]]]);
    const model = trainChurn(few);
    expect(model).toMatchObject({ source: 'prior', examples: 2 });
    expect(model.weights).toEqual(PRIOR_LOSS_MODEL.weights);
  });

  it('learns from the labels: insufficient-funds rescues that are always lost get a high churn probability', () => {
    const byCustomer = new Map<string, RescueHistoryItem[]>();
    for (let c = 0; c < 40; c++) {
      const nsf = c % 2 === 0;
      byCustomer.set(`cus_${c}`, [0, 1, 2].map((i) => item(i, nsf ? (i === 2 && c % 10 === 0 ? 'kept' : 'lost') : (i === 1 && c % 10 === 1 ? 'lost' : 'kept'), { declineCode: nsf ? 'insufficient_funds' : 'generic_decline' })));
    }
    const model = trainChurn(byCustomer);
    expect(model.source).toBe('account');
    expect(model.examples).toBeGreaterThanOrEqual(MIN_EXAMPLES);
    const open = (code: string) => predictChurn({ rescues: [item(0, 'lost', { declineCode: code }), item(1, null, { declineCode: code })], payments: 2, failedPayments: 2, typicalAmount: 5000, model });
    expect(open('insufficient_funds').churnProbability).toBeGreaterThan(0.7);
    expect(open('generic_decline').churnProbability).toBeLessThan(open('insufficient_funds').churnProbability);
    expect(open('insufficient_funds').reasoning).toMatch(/learned from the account's 120 finished rescues/);
  });

  it('a customer with no failing payment churns at most at its failure rate, less when it fails rarely', () => {
    const model = trainChurn(new Map());
    const p = predictChurn({ rescues: [], payments: 10, failedPayments: 0, typicalAmount: 5000, model });
    expect(p.drivers[0]!.feature).toBe('monthly_failure_rate');
    expect(p.churnProbability).toBeLessThanOrEqual(p.drivers[0]!.value);
    const flaky = predictChurn({ rescues: [item(0, 'lost'), item(1, 'lost'), item(2, 'lost')], payments: 10, failedPayments: 3, typicalAmount: 5000, model });
    expect(flaky.churnProbability).toBeGreaterThan(p.churnProbability * 1.5);
  });

  it('an earlier recovery from the same decline lowers the chance that the next one is lost', () => {
    const model = trainChurn(new Map());
    const fresh = predictChurn({ rescues: [item(3, null)], payments: 4, failedPayments: 1, typicalAmount: 5000, model });
    const recoveredBefore = predictChurn({ rescues: [item(0, 'kept'), item(1, 'kept'), item(3, null)], payments: 4, failedPayments: 3, typicalAmount: 5000, model });
    expect(recoveredBefore.churnProbability).toBeLessThan(fresh.churnProbability - 0.1);
    expect(recoveredBefore.drivers.map((d) => d.feature)).toContain('recovered_same_generic');
  });
});
