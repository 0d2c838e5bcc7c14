import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  classifyDecline,
  isKnownDeclineCode,
  KNOWN_DECLINE_CODES,
  KNOWN_VISA_RESPONSE_CODES,
  normalizeDeclineCode,
  resetUnknownDeclineCounts,
  unknownDeclineCounts,
} from '../../src/domain/decline-taxonomy.ts';
import { NAMED_DECLINE_ROWS } from '../../src/domain/decline-codes-stripe.ts';
import { VISA_RESPONSE_ROWS } from '../../src/domain/decline-codes-network.ts';

// The research folder sits next to the repository (/work/shared); this test reads Stripe's table as is
// so that a new code there shows up here as a failure rather than as a silent "unknown".
const STRIPE_CODES_URL = new URL('../fixtures/decline_codes.json', import.meta.url);

interface StripeCodeRow {
  code: string;
  category: 'card' | 'local_payment_method';
  charge_outcome_reason?: string;
  soft_or_hard: 'soft' | 'hard' | 'unspecified';
}
const stripeCodes = JSON.parse(readFileSync(STRIPE_CODES_URL, 'utf8')) as StripeCodeRow[];

// Stripe Smart Retries never retries these (research/stripe/README.md).
const STRIPE_NON_RETRYABLE = [
  'incorrect_number',
  'lost_card',
  'pickup_card',
  'stolen_card',
  'revocation_of_authorization',
  'revocation_of_all_authorizations',
  'authentication_required',
  'highest_risk_level',
];

beforeEach(() => resetUnknownDeclineCounts());

describe('Plexy seed tables', () => {
  it.each([
    ['insufficient_funds', 'soft', 'after_payday'],
    ['try_again_later', 'soft', 'in_24_48h'],
    ['exceeds_limit', 'soft', 'after_limit_reset'],
    ['issuer_unavailable', 'soft', 'immediate'],
    ['processing_error', 'soft', 'in_24h'],
    ['network_timeout', 'technical', 'immediate'],
    ['gateway_error', 'technical', 'immediate'],
    ['system_error', 'technical', 'immediate'],
    ['stolen_card', 'hard', 'never'],
    ['lost_card', 'hard', 'never'],
    ['fraud_suspected', 'hard', 'never'],
    ['card_not_supported', 'hard', 'never'],
    ['account_closed', 'hard', 'never'],
  ] as const)('%s is %s / %s', (code, category, strategy) => {
    const info = classifyDecline({ code });
    expect(info).toMatchObject({ code, category, strategy, known: true });
  });

  it('uses the seed message and recommendation for insufficient funds', () => {
    const info = classifyDecline({ code: 'insufficient_funds' });
    expect(info.message).toBe('The card has insufficient funds.');
    expect(info.recommendation).toBe('Contact customer to update payment method');
  });

  it('tells the merchant to stop on stolen or lost cards and asks for a new card when expired', () => {
    expect(classifyDecline({ code: 'stolen_card' }).recommendation).toBe('Do not retry; notify the merchant');
    expect(classifyDecline({ code: 'lost_card' }).recommendation).toBe('Do not retry; notify the merchant');
    expect(classifyDecline({ code: 'expired_card' }).recommendation).toBe('Ask the customer for a new card');
  });
});

describe('Stripe decline codes (research/stripe/decline_codes.json)', () => {
  it('has all 68 rows', () => {
    expect(stripeCodes).toHaveLength(68);
  });

  it.each(stripeCodes.map((r) => [r.code, r.category] as const))('%s (%s) is known', (code) => {
    expect(isKnownDeclineCode(code)).toBe(true);
    const info = classifyDecline({ code });
    expect(info.known).toBe(true);
    expect(['soft', 'technical', 'hard']).toContain(info.category);
  });

  it('knows the charge_outcome_reason spelling of local-payment-method codes', () => {
    for (const r of stripeCodes) {
      if (r.charge_outcome_reason) expect(isKnownDeclineCode(r.charge_outcome_reason)).toBe(true);
    }
    expect(classifyDecline({ code: 'partner_insufficient_funds' }).code).toBe('insufficient_funds');
  });

  it.each(STRIPE_NON_RETRYABLE)('non-retryable %s is hard / never', (code) => {
    expect(classifyDecline({ code })).toMatchObject({ category: 'hard', strategy: 'never', known: true });
  });

  it('treats every code Stripe marks hard as hard, except where the card code of the same name is retryable', () => {
    // invalid_amount is hard for local payment methods but a Visa category 4 decline on cards (a limit
    // may change); the card meaning wins because cards are what Rescue mostly retries.
    const hard = stripeCodes.filter((x) => x.soft_or_hard === 'hard' && x.code !== 'invalid_amount');
    expect(classifyDecline({ code: 'invalid_amount' }).category).toBe('soft');
    for (const r of hard) {
      expect(classifyDecline({ code: r.code }).category, r.code).toBe('hard');
    }
  });

  it.each([
    ['expired_card', 'after_card_update'],
    ['incorrect_cvc', 'after_card_update'],
    ['incorrect_zip', 'after_card_update'],
    ['generic_decline', 'spaced'],
    ['do_not_honor', 'spaced'],
    ['card_velocity_exceeded', 'after_limit_reset'],
    ['withdrawal_count_limit_exceeded', 'after_limit_reset'],
  ] as const)('%s is soft / %s', (code, strategy) => {
    expect(classifyDecline({ code })).toMatchObject({ category: 'soft', strategy });
  });

  it('keeps the table consistent: unique codes, and hard exactly when the strategy is never', () => {
    expect(new Set(NAMED_DECLINE_ROWS.map((r) => r.code)).size).toBe(NAMED_DECLINE_ROWS.length);
    expect(KNOWN_DECLINE_CODES).toHaveLength(NAMED_DECLINE_ROWS.length);
    for (const r of [...NAMED_DECLINE_ROWS, ...VISA_RESPONSE_ROWS]) {
      expect(r.category === 'hard', r.code).toBe(r.strategy === 'never');
      expect(r.message.length, r.code).toBeGreaterThan(0);
      expect(r.recommendation.length, r.code).toBeGreaterThan(0);
    }
  });
});

describe('normalisation', () => {
  it('trims and lower-cases', () => {
    expect(classifyDecline({ code: '  Insufficient_Funds ' }).code).toBe('insufficient_funds');
    expect(classifyDecline({ code: 'do-not-honor' }).code).toBe('do_not_honor');
  });

  it('turns a missing code into generic_decline', () => {
    for (const code of [null, undefined, '', '   ']) {
      expect(classifyDecline({ code })).toMatchObject({ code: 'generic_decline', category: 'soft', known: true });
    }
    expect(normalizeDeclineCode(null)).toBe('generic_decline');
  });

  it("reads Stripe's card_declined error with its decline_code", () => {
    const info = classifyDecline({ code: 'card_declined', declineCode: 'insufficient_funds' });
    expect(info).toMatchObject({ code: 'insufficient_funds', strategy: 'after_payday' });
    expect(classifyDecline({ code: 'card_declined' }).code).toBe('generic_decline');
    expect(classifyDecline({ code: 'card_declined', declineCode: null }).code).toBe('generic_decline');
  });
});

describe('unknown codes', () => {
  it('are soft, spaced, not known, and counted', () => {
    const info = classifyDecline({ code: 'Brand_New_Code' });
    expect(info).toMatchObject({ code: 'brand_new_code', category: 'soft', strategy: 'spaced', known: false });
    classifyDecline({ code: 'brand_new_code' });
    classifyDecline({ code: 'other_new_code' });
    expect(unknownDeclineCounts().get('brand_new_code')).toBe(2);
    expect(unknownDeclineCounts().get('other_new_code')).toBe(1);
  });

  it('does not count known codes, and reset clears the counts', () => {
    classifyDecline({ code: 'insufficient_funds' });
    expect(unknownDeclineCounts().size).toBe(0);
    classifyDecline({ code: 'mystery' });
    expect(unknownDeclineCounts().size).toBe(1);
    resetUnknownDeclineCounts();
    expect(unknownDeclineCounts().size).toBe(0);
  });

  it('caps the number of distinct counted codes', () => {
    for (let i = 0; i < 600; i++) classifyDecline({ code: `junk_${i}` });
    const counts = unknownDeclineCounts();
    expect(counts.size).toBeLessThanOrEqual(501);
    expect(counts.get('(other)')).toBe(100);
  });

  it('returns a snapshot callers cannot use to change the counts', () => {
    classifyDecline({ code: 'mystery' });
    const snapshot = unknownDeclineCounts() as Map<string, number>;
    snapshot.set('mystery', 99);
    expect(unknownDeclineCounts().get('mystery')).toBe(1);
  });
});

describe('Visa response codes', () => {
  const CATEGORY_1 = ['04', '07', '12', '14', '15', '41', '43', '46', '57', 'R0', 'R1', 'R3'];
  const CATEGORY_2 = ['51', '59', '61', '62', '65', '78', '91', '96'];
  const CATEGORY_3 = ['54', '55', '82', 'N7'];

  it.each(CATEGORY_1)('category 1 code %s is hard, as code or as network code', (code) => {
    expect(classifyDecline({ code, brand: 'visa' })).toMatchObject({ category: 'hard', strategy: 'never', visaCategory: 1 });
    expect(classifyDecline({ code: 'generic_decline', networkResponseCode: code, brand: 'visa' })).toMatchObject({
      category: 'hard',
      strategy: 'never',
      visaCategory: 1,
    });
  });

  it.each(CATEGORY_2)('category 2 code %s is retryable', (code) => {
    const info = classifyDecline({ code, brand: 'visa' });
    expect(info.visaCategory).toBe(2);
    expect(info.category).toBe(code === '91' || code === '96' ? 'technical' : 'soft');
    if (code === '91' || code === '96') expect(info.strategy).toBe('immediate');
  });

  it('51 is insufficient funds', () => {
    expect(classifyDecline({ code: '51', brand: 'visa' })).toMatchObject({
      code: 'insufficient_funds',
      strategy: 'after_payday',
      message: 'The card has insufficient funds.',
    });
  });

  it.each(CATEGORY_3)('category 3 code %s waits for a card update', (code) => {
    expect(classifyDecline({ code, brand: 'visa' })).toMatchObject({
      category: 'soft',
      strategy: 'after_card_update',
      visaCategory: 3,
    });
  });

  it.each(['05', '01'])('category 4 code %s is soft / spaced', (code) => {
    expect(classifyDecline({ code, brand: 'visa' })).toMatchObject({ category: 'soft', strategy: 'spaced', visaCategory: 4, known: true });
  });

  it('treats unlisted Visa codes as category 4 but unknown (and counts them)', () => {
    expect(classifyDecline({ code: 'Q9', brand: 'visa' })).toMatchObject({
      category: 'soft',
      strategy: 'spaced',
      visaCategory: 4,
      known: false,
    });
    expect(unknownDeclineCounts().get('Q9')).toBe(1);
  });

  it('only reads a bare two-character code as Visa when the card is a Visa', () => {
    expect(classifyDecline({ code: '43', brand: 'mastercard' })).toMatchObject({ known: false, category: 'soft' });
    expect(classifyDecline({ code: '43' }).known).toBe(false);
  });

  it('lets a specific network code replace a generic or soft gateway code', () => {
    expect(classifyDecline({ code: null, networkResponseCode: '51', brand: 'visa' })).toMatchObject({
      code: 'insufficient_funds',
      strategy: 'after_payday',
      visaCategory: 2,
    });
    expect(classifyDecline({ code: 'processing_error', networkResponseCode: '43', brand: 'visa' })).toMatchObject({
      category: 'hard',
      code: 'stolen_card',
    });
    expect(classifyDecline({ code: 'mystery', networkResponseCode: '54' })).toMatchObject({
      strategy: 'after_card_update',
      known: true,
    });
  });

  it('never softens a hard gateway code, and a generic network code does not override a specific one', () => {
    expect(classifyDecline({ code: 'stolen_card', networkResponseCode: '05', brand: 'visa' })).toMatchObject({
      category: 'hard',
      visaCategory: 4,
    });
    expect(classifyDecline({ code: 'incorrect_cvc', networkResponseCode: '05', brand: 'visa' })).toMatchObject({
      strategy: 'after_card_update',
      visaCategory: 4,
    });
  });

  it('ignores the Visa table for other known brands', () => {
    expect(classifyDecline({ code: 'generic_decline', networkResponseCode: '43', brand: 'amex' })).toMatchObject({
      category: 'soft',
    });
  });

  it('infers the Visa category of a named code on a Visa card only', () => {
    expect(classifyDecline({ code: 'stolen_card', brand: 'visa' }).visaCategory).toBe(1);
    expect(classifyDecline({ code: 'insufficient_funds', brand: 'visa' }).visaCategory).toBe(2);
    expect(classifyDecline({ code: 'expired_card', brand: 'visa' }).visaCategory).toBe(3);
    expect(classifyDecline({ code: 'stolen_card', brand: 'mastercard' }).visaCategory).toBeUndefined();
  });

  it('lists its codes', () => {
    for (const c of [...CATEGORY_1, ...CATEGORY_2, ...CATEGORY_3, '05', '01']) expect(KNOWN_VISA_RESPONSE_CODES).toContain(c);
  });
});

describe('advice codes', () => {
  it.each(['03', '21', '3'])('Mastercard advice %s stops a soft decline', (adviceCode) => {
    const info = classifyDecline({ code: 'insufficient_funds', adviceCode, brand: 'mastercard' });
    expect(info).toMatchObject({ category: 'hard', strategy: 'never', adviceCode: adviceCode.padStart(2, '0') });
  });

  it('advice 03 also stops technical and unknown declines', () => {
    expect(classifyDecline({ code: 'network_timeout', adviceCode: '03' }).category).toBe('hard');
    expect(classifyDecline({ code: 'mystery', adviceCode: '03' }).category).toBe('hard');
  });

  it('01 waits for a card update, 02 retries in 24-48 h', () => {
    expect(classifyDecline({ code: 'do_not_honor', adviceCode: '01' }).strategy).toBe('after_card_update');
    expect(classifyDecline({ code: 'do_not_honor', adviceCode: '02' }).strategy).toBe('in_24_48h');
  });

  it.each(['24', '25', '26', '27', '28', '29', '30'])('advice %s keeps the decline soft and is passed on', (adviceCode) => {
    expect(classifyDecline({ code: 'insufficient_funds', adviceCode })).toMatchObject({
      category: 'soft',
      strategy: 'after_payday',
      adviceCode,
    });
  });

  it('does not revive a hard decline', () => {
    expect(classifyDecline({ code: 'stolen_card', adviceCode: '01' })).toMatchObject({ category: 'hard', strategy: 'never' });
    expect(classifyDecline({ code: 'lost_card', adviceCode: '24' }).category).toBe('hard');
  });

  it("reads Stripe's advice_code", () => {
    expect(classifyDecline({ code: 'generic_decline', adviceCode: 'do_not_try_again' }).category).toBe('hard');
    expect(classifyDecline({ code: 'generic_decline', adviceCode: 'confirm_card_data' }).strategy).toBe('after_card_update');
    expect(classifyDecline({ code: 'generic_decline', adviceCode: 'try_again_later' }).strategy).toBe('in_24_48h');
    expect(classifyDecline({ code: 'generic_decline', adviceCode: 'do_not_try_again' }).adviceCode).toBeUndefined();
  });
});
