import { describe, expect, it } from 'vitest';
import { classifyDecline } from '../../src/domain/decline-taxonomy.ts';
import { predictRecovery } from '../../src/domain/recovery-score.ts';
import { NETWORK_TOKEN_APPROVAL_UPLIFT, ridesNetworkToken, strategyForPaymentMethod } from '../../src/domain/wallets.ts';

const decline = (code: string) => classifyDecline({ code, count: false });
const p = (code: string, type = 'card', maxRetries = 4, extra: object = {}) => predictRecovery({ decline: decline(code), maxRetries, paymentMethodType: type, ...extra }).probability;

describe('predicted recovery', () => {
  it('follows the strategy curves (research/retry-facts.md §S.3)', () => {
    // Insufficient funds: 30% never recover; 0.65 per payday retry.
    expect(p('insufficient_funds')).toBeCloseTo(0.7 * (1 - 0.35 ** 4), 6);
    // Technical: 0.7 per retry.
    expect(p('gateway_error', 'card', 2)).toBeCloseTo(1 - 0.3 ** 2, 6);
    expect(p('stolen_card')).toBe(0);
    expect(p('fraudulent', 'apple_pay', 8, { fallbackTypes: ['card'] })).toBe(0);
  });

  it('grows with the budget and never reaches the unrecoverable share', () => {
    expect(p('do_not_honor', 'card', 2)).toBeLessThan(p('do_not_honor', 'card', 8));
    expect(p('do_not_honor', 'card', 8)).toBeLessThan(0.65);
  });

  it('gives network-token wallets the Visa Token Service +3% per retry; PayPal and Venmo nothing', () => {
    expect(NETWORK_TOKEN_APPROVAL_UPLIFT).toBe(1.03);
    expect(p('do_not_honor', 'apple_pay')).toBeGreaterThan(p('do_not_honor', 'card'));
    expect(p('do_not_honor', 'google_pay')).toBe(p('do_not_honor', 'apple_pay'));
    expect(p('do_not_honor', 'paypal')).toBe(p('do_not_honor', 'card'));
    expect(p('do_not_honor', 'venmo')).toBe(p('do_not_honor', 'card'));
    expect(['card', 'apple_pay', 'google_pay', 'paypal', 'venmo'].filter(ridesNetworkToken)).toEqual(['apple_pay', 'google_pay']);
  });

  it('adds the fallbacks\' chances, but only for customers who can pay', () => {
    const alone = p('insufficient_funds');
    const withFallback = p('insufficient_funds', 'card', 4, { fallbackTypes: ['card'] });
    expect(withFallback).toBeGreaterThan(alone);
    expect(withFallback).toBeLessThanOrEqual(0.7);
    // A blocked primary leaves only the fallbacks.
    expect(p('insufficient_funds', 'card', 4, { primaryBlocked: true })).toBe(0);
    expect(p('insufficient_funds', 'card', 4, { primaryBlocked: true, fallbackTypes: ['card'] })).toBeGreaterThan(0);
  });

  it('is shown as a score with its reasoning', () => {
    const r = predictRecovery({ decline: decline('insufficient_funds'), maxRetries: 4, paymentMethodType: 'apple_pay' });
    expect(r.score).toBe(69.2);
    expect(r.reasoning).toMatch(/paydays.*Apple Pay charges a network token/);
  });
});

describe('strategy by payment method type', () => {
  it('retries a card-data decline on a network token on the generic schedule; nothing else changes', () => {
    expect(strategyForPaymentMethod(decline('expired_card'), 'card').strategy).toBe('after_card_update');
    expect(strategyForPaymentMethod(decline('expired_card'), 'apple_pay').strategy).toBe('spaced');
    expect(strategyForPaymentMethod(decline('expired_card'), 'paypal').strategy).toBe('after_card_update');
    expect(strategyForPaymentMethod(decline('insufficient_funds'), 'google_pay').strategy).toBe('after_payday');
    expect(strategyForPaymentMethod(decline('stolen_card'), 'apple_pay')).toMatchObject({ category: 'hard', strategy: 'never' });
  });
});
