import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/sandbox-examples.ts';
import { FEATURE_NAMES, featurize, type RetryFeatureInput } from '../../src/predict/features.ts';
import { fitPayday } from '../../src/predict/payday.ts';
import { retryScorer, trainRetryModel, type Example } from '../../src/predict/retry-model.ts';
import { PRIOR_RETRY_MODEL } from '../../src/predict/scorers.ts';

// The card and customer facts of issue 5: funding (credit / debit / prepaid), a foreign card, the
// customer's tenure, and the account updater's replacement. Each changes the vector as intended,
// unknown facts never read as debit / foreign, and a planted debit effect is learned.

const DAY = 86_400_000;
const AT = Date.UTC(2026, 3, 10, 15);

function input(o: Partial<RetryFeatureInput> = {}): RetryFeatureInput {
  return {
    declineCode: 'insufficient_funds', strategy: 'after_payday', adviceCode: null, retryNumber: 1,
    rescueStartedAtMs: AT - 3 * DAY, lastAttemptAtMs: AT - 3 * DAY, atMs: AT, timezone: 'America/New_York',
    brand: 'visa', paymentMethodType: 'card', amount: 2500, payday: fitPayday([]), ...o,
  };
}

function named(f: RetryFeatureInput): Record<string, number> {
  const v = featurize(f);
  return Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, v[i]!]));
}

const CARD_FEATURES = ['debit', 'prepaid', 'funding_unknown', 'debit_nsf', 'debit_generic', 'debit_hold', 'foreign_card', 'log_tenure', 'new_customer', 'tenure_unknown', 'card_updated', 'expired_updated'];

describe('card and customer features', () => {
  it('keeps FEATURE_NAMES and featurize in step, and the card facts move only their own features', () => {
    expect(featurize(input())).toHaveLength(FEATURE_NAMES.length);
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length);
    const plain = named(input());
    const full = named(input({ funding: 'debit', cardCountry: 'GB', customerCreatedAtMs: AT - 10 * DAY, cardWasUpdated: true }));
    for (const n of FEATURE_NAMES) if (!CARD_FEATURES.includes(n)) expect(full[n], n).toBe(plain[n]);
  });

  it('funding: debit, prepaid and credit are told apart; unknown is its own case, never debit', () => {
    const debit = named(input({ funding: 'debit' }));
    expect([debit.debit, debit.debit_nsf, debit.debit_generic, debit.prepaid, debit.funding_unknown]).toEqual([1, 1, 0, 0, 0]);
    const credit = named(input({ funding: 'credit' }));
    expect([credit.debit, credit.debit_nsf, credit.prepaid, credit.funding_unknown]).toEqual([0, 0, 0, 0]);
    expect(named(input({ funding: 'PREPAID' })).prepaid).toBe(1);
    for (const funding of [null, undefined, 'unknown']) {
      const u = named(input({ funding }));
      expect([u.debit, u.prepaid, u.funding_unknown]).toEqual([0, 0, 1]);
    }
    // The cross follows the decline group: a debit card's generic decline is not its NSF.
    const generic = named(input({ funding: 'debit', declineCode: 'generic_decline', strategy: 'spaced' }));
    expect([generic.debit_nsf, generic.debit_generic]).toEqual([0, 1]);
  });

  it('country: foreign against the home country (US by default); unknown counts as domestic', () => {
    expect(named(input({ cardCountry: 'US' })).foreign_card).toBe(0);
    expect(named(input({ cardCountry: 'gb' })).foreign_card).toBe(1);
    expect(named(input({ cardCountry: 'GB', homeCountry: 'GB' })).foreign_card).toBe(0);
    expect(named(input({ cardCountry: 'US', homeCountry: 'GB' })).foreign_card).toBe(1);
    expect(named(input({ cardCountry: null })).foreign_card).toBe(0);
  });

  it('tenure: days from the customer\'s creation to the candidate instant, on the payment\'s clock', () => {
    const fresh = named(input({ customerCreatedAtMs: AT - 10 * DAY }));
    expect(fresh.log_tenure).toBeCloseTo(Math.log1p(10) / 5, 9);
    expect([fresh.new_customer, fresh.tenure_unknown]).toEqual([1, 0]);
    // The same customer a year later on its clock is no longer new.
    const later = named(input({ customerCreatedAtMs: AT - 10 * DAY, atMs: AT + 365 * DAY }));
    expect(later.log_tenure).toBeCloseTo(Math.log1p(375) / 5, 9);
    expect(later.new_customer).toBe(0);
    const unknown = named(input({ customerCreatedAtMs: null }));
    expect([unknown.log_tenure, unknown.new_customer, unknown.tenure_unknown]).toEqual([0, 0, 1]);
  });

  it('card updater: a replaced card is flagged, and crossed with an expired-card decline', () => {
    expect(named(input({ cardWasUpdated: false })).card_updated).toBe(0);
    const nsf = named(input({ cardWasUpdated: true }));
    expect([nsf.card_updated, nsf.expired_updated]).toEqual([1, 0]);
    const expired = named(input({ declineCode: 'expired_card', strategy: 'after_card_update', cardWasUpdated: true }));
    expect([expired.card_updated, expired.expired_updated]).toEqual([1, 1]);
  });

  it('the shipped prior learned the updater from the sandbox: an expired card recovers once replaced', () => {
    const score = retryScorer(PRIOR_RETRY_MODEL);
    const expired = { declineCode: 'expired_card', strategy: 'after_card_update' as const };
    expect(score(input({ ...expired, cardWasUpdated: true }))).toBeGreaterThan(0.5);
    expect(score(input({ ...expired, cardWasUpdated: false }))).toBeLessThan(0.05);
  });
});

/** NSF and generic declines where debit cards recover NSF far less often than credit cards (planted). */
function plantedDebit(n: number, seed: number): Example[] {
  const rnd = seededRandom(seed);
  const out: Example[] = [];
  for (let i = 0; i < n; i++) {
    const debit = rnd() < 0.5;
    const nsf = rnd() < 0.5;
    const atMs = AT + i * 3_600_000;
    const p = nsf ? (debit ? 0.08 : 0.4) : 0.25;
    out.push({
      atMs,
      y: rnd() < p ? 1 : 0,
      input: input({
        ...(nsf ? {} : { declineCode: 'generic_decline', strategy: 'spaced' as const }),
        rescueStartedAtMs: atMs - 3 * DAY, lastAttemptAtMs: atMs - DAY, atMs,
        funding: debit ? 'debit' : 'credit',
      }),
    });
  }
  return out;
}

describe('retry-model training', () => {
  it('learns a planted debit × insufficient-funds effect and predicts it on held-out retries', () => {
    const result = trainRetryModel(plantedDebit(6000, 5));
    expect(result.model.weights.debit_nsf!).toBeLessThan(-1);
    const score = retryScorer(result.model);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const held = result.heldOut;
    const group = (debit: boolean, nsf: boolean) => held.filter((e) => (e.input.funding === 'debit') === debit && (e.input.declineCode === 'insufficient_funds') === nsf);
    expect(mean(group(true, true).map((e) => score(e.input)))).toBeCloseTo(0.08, 1);
    expect(mean(group(false, true).map((e) => score(e.input)))).toBeCloseTo(0.4, 1);
    // Debit alone (generic declines) was planted as no effect.
    expect(Math.abs(mean(group(true, false).map((e) => score(e.input))) - mean(group(false, false).map((e) => score(e.input))))).toBeLessThan(0.05);
    // Better than the per-decline-group baseline, which cannot see funding.
    expect(result.evaluation.brier).toBeLessThan(result.baseline.brier);
    expect(result.evaluation.auc).toBeGreaterThan(result.baseline.auc + 0.05);
  });
});
