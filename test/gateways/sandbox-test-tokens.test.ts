import { describe, expect, it } from 'vitest';
import { sandboxAccountUpdater, sandboxCardDetails, sandboxCharge } from '../../src/gateways/sandbox/network.ts';
import { describeTestToken, TEST_TOKENS, UNTIL_TOKEN_KINDS } from '../../src/gateways/sandbox/test-tokens.ts';

const AT = new Date('2026-03-10T15:00:00Z');

function charge(token: string, at = AT, attemptKey = 'att_1') {
  return sandboxCharge({ token, amount: 2500, currency: 'usd', at, attemptKey });
}

function codeOf(token: string, at = AT): string | null {
  const out = charge(token, at);
  return out.status === 'succeeded' ? null : out.declineCode;
}

describe('Stripe test tokens', () => {
  // Written out by hand from research/stripe/test_cards.json, so a typo in the table would show here.
  const documented: Record<string, string | null> = {
    pm_card_visa: null,
    pm_card_visa_debit: null,
    pm_card_mastercard: null,
    pm_card_amex: null,
    pm_card_visa_chargeDeclined: 'generic_decline',
    pm_card_chargeDeclined: 'generic_decline',
    pm_card_visa_chargeDeclinedInsufficientFunds: 'insufficient_funds',
    pm_card_chargeDeclinedInsufficientFunds: 'insufficient_funds',
    pm_card_visa_chargeDeclinedLostCard: 'lost_card',
    pm_card_chargeDeclinedLostCard: 'lost_card',
    pm_card_visa_chargeDeclinedStolenCard: 'stolen_card',
    pm_card_chargeDeclinedStolenCard: 'stolen_card',
    pm_card_chargeDeclinedExpiredCard: 'expired_card',
    pm_card_chargeDeclinedIncorrectCvc: 'incorrect_cvc',
    pm_card_chargeDeclinedProcessingError: 'processing_error',
    pm_card_visa_chargeDeclinedVelocityLimitExceeded: 'card_velocity_exceeded',
    pm_card_chargeDeclinedFraudulent: 'fraudulent',
    pm_card_chargeCustomerFail: 'generic_decline',
    pm_card_authenticationRequired: 'authentication_required',
    pm_card_authenticationRequiredChargeDeclinedInsufficientFunds: 'insufficient_funds',
    pm_card_riskLevelHighest: 'highest_risk_level',
    pm_card_threeDSecureOptional: null,
  };

  it.each(Object.entries(documented))('%s → %s', (token, code) => {
    expect(codeOf(token)).toBe(code);
  });

  it('every table entry charges as declared, on every attempt and at any time', () => {
    for (const def of TEST_TOKENS) {
      for (const [i, at] of [AT, new Date('2030-01-01T02:30:00Z')].entries()) {
        const out = charge(def.token, at, `k${i}`);
        if (def.declineCode === null) expect(out, def.token).toEqual({ status: 'succeeded' });
        else expect(out, def.token).toMatchObject({ status: 'failed', declineCode: def.declineCode });
      }
    }
  });

  it('declines carry a message and Mastercard advice codes where declared', () => {
    const out = charge('pm_card_mastercard_chargeDeclinedStopRecurring');
    expect(out).toMatchObject({ status: 'failed', adviceCode: '21' });
    const nsf = charge('pm_card_chargeDeclinedInsufficientFunds');
    expect(nsf.status === 'failed' && nsf.message).toBe('Your card has insufficient funds.');
    expect(nsf).not.toHaveProperty('adviceCode');
  });

  it('token names are unique', () => {
    expect(new Set(TEST_TOKENS.map((d) => d.token)).size).toBe(TEST_TOKENS.length);
  });
});

describe('suffix matching', () => {
  it('matches the longest known name followed by _ or the end', () => {
    expect(describeTestToken('pm_card_visa_abc123')).toMatchObject({ brand: 'visa', funding: 'credit', last4: '4242' });
    expect(describeTestToken('pm_card_visa_debit')).toMatchObject({ funding: 'debit', last4: '5556' });
    expect(describeTestToken('pm_card_visa_debit_cus9')).toMatchObject({ funding: 'debit' });
    expect(codeOf('pm_card_visa_chargeDeclinedInsufficientFunds_sub_42')).toBe('insufficient_funds');
    expect(codeOf('pm_card_chargeDeclined_x')).toBe('generic_decline');
    expect(codeOf('pm_card_visa_abc123')).toBeNull();
  });

  it('does not match a name that merely starts the token without a separator', () => {
    // `pm_card_visaX` is not `pm_card_visa`: it is an unknown token (approves as a plain Visa).
    expect(describeTestToken('pm_card_visaX')).toBeNull();
    expect(describeTestToken('pm_card_chargeDeclinedInsufficientFundsX')).toBeNull();
    expect(describeTestToken('pm_1Pgc75B2eZvKYlo2')).toBeNull();
  });

  it('suffixed tokens keep the card fingerprint of their base card', () => {
    expect(sandboxCardDetails('pm_card_visa_abc123').fingerprint).toBe(sandboxCardDetails('pm_card_visa').fingerprint);
    expect(sandboxCardDetails('pm_card_visa').fingerprint).not.toBe(sandboxCardDetails('pm_card_mastercard').fingerprint);
  });
});

describe('time-based tokens', () => {
  const untilSec = 1_773_000_000; // 2026-03-08T20:00:00Z
  const untilMs = untilSec * 1000;

  it.each(Object.entries(UNTIL_TOKEN_KINDS))('pm_card_%s_until_<unix> flips exactly at its instant', (kind, { code }) => {
    const token = `pm_card_${kind}_until_${untilSec}`;
    expect(codeOf(token, new Date(untilMs - 1))).toBe(code);
    expect(codeOf(token, new Date(untilMs))).toBeNull();
    expect(codeOf(token, new Date(untilMs + 86_400_000))).toBeNull();
  });

  it('accepts a merchant suffix and describes the card', () => {
    const token = `pm_card_insufficientFunds_until_${untilSec}_cus_77`;
    expect(codeOf(token, new Date(untilMs - 1000))).toBe('insufficient_funds');
    expect(codeOf(token, new Date(untilMs))).toBeNull();
    expect(describeTestToken(token)).toMatchObject({ brand: 'visa', last4: '9995' });
  });

  it('technicalError is a gateway error', () => {
    expect(codeOf(`pm_card_technicalError_until_${untilSec}`, new Date(0))).toBe('gateway_error');
  });

  it('an unknown kind is not a test token', () => {
    expect(describeTestToken(`pm_card_bogus_until_${untilSec}`)).toBeNull();
  });
});

describe('unknown tokens and the updater', () => {
  it('treats a merchant id as an approving Visa with stable details', () => {
    expect(charge('pm_1Pgc75B2eZvKYlo2C1XyZ')).toEqual({ status: 'succeeded' });
    const a = sandboxCardDetails('pm_1Pgc75B2eZvKYlo2C1XyZ');
    expect(a).toMatchObject({ brand: 'visa', funding: 'credit', country: 'US' });
    expect(a.last4).toMatch(/^\d{4}$/);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(sandboxCardDetails('pm_1Pgc75B2eZvKYlo2C1XyZ')).toEqual(a);
  });

  it('rejects a non-positive or fractional amount', () => {
    expect(sandboxCharge({ token: 'pm_card_visa', amount: 0, currency: 'usd', at: AT, attemptKey: 'k' })).toMatchObject({
      status: 'failed',
      declineCode: 'invalid_amount',
    });
    expect(sandboxCharge({ token: 'pm_card_visa', amount: 10.5, currency: 'usd', at: AT, attemptKey: 'k' }).status).toBe('failed');
  });

  it('updates the expired test card, and only that one', () => {
    expect(sandboxAccountUpdater('pm_card_chargeDeclinedExpiredCard', AT)).toEqual({ updated: true, newToken: 'pm_card_visa' });
    expect(sandboxAccountUpdater('pm_card_chargeDeclinedExpiredCardNoUpdate', AT)).toEqual({ updated: false });
    expect(sandboxAccountUpdater('pm_card_visa', AT)).toEqual({ updated: false });
    expect(sandboxAccountUpdater('pm_1Pgc75B2eZvKYlo2', AT)).toEqual({ updated: false });
  });
});
