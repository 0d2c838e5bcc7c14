// Deterministic test payment methods for the sandbox gateway.
//
// Stripe's documented test PaymentMethods (research/stripe/test_cards.json, https://docs.stripe.com/testing)
// behave here as they do in Stripe test mode, so a merchant's existing test suite works unchanged: the
// success cards approve, the decline cards return their decline code on every attempt. Both the current
// `pm_card_visa_chargeDeclined…` names and the older aliases without `_visa_` are accepted (the file's
// `legacy_aliases` note: both appear widely in public code).
//
// Off-session semantics: Rescue only charges off-session renewals, so cards that would ask for 3DS on
// an off-session charge (`pm_card_authenticationRequired`, `pm_card_threeDSecure2Required`) decline with
// `authentication_required`, and cards set up for off-session use approve.
//
// Rescue additions (not in Stripe):
// - `pm_card_chargeDeclined<Code>` for the Plexy seed codes Stripe has no card for (try_again_later,
//   issuer_unavailable, gateway_error, …) and three Mastercard cards that carry a Merchant Advice Code.
// - Time-based recovery, because the sandbox is stateless (it cannot count attempts):
//   `pm_card_<kind>_until_<unix seconds>` declines with the kind's code before that instant and approves
//   at or after it, e.g. `pm_card_insufficientFunds_until_1767225600`. Advancing a test clock past the
//   instant therefore makes the next retry succeed.
//
// Merchants append their own suffixes (the seed uses `pm_card_visa_abc123`): a token matches the longest
// known name followed by `_` or the end, so `pm_card_visa_debit_x` is the debit card, `pm_card_visa_x` Visa.

import type { CardBrand } from '../../domain/decline-types.ts';

export type TestFunding = 'credit' | 'debit' | 'prepaid' | 'unknown';

export interface TestCardDescription {
  brand: CardBrand;
  funding: TestFunding;
  country: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export interface TestTokenDef extends TestCardDescription {
  token: string;
  /** null: every charge approves. */
  declineCode: string | null;
  /** Mastercard Merchant Advice Code returned with the decline. */
  adviceCode?: string;
}

export interface TestTokenMatch {
  def: TestTokenDef;
  /** For `_until_` tokens: epoch milliseconds from which charges approve. */
  untilMs?: number;
}

// Test cards never expire in Stripe's docs ("any future expiry"); a fixed far date keeps this pure.
const EXP_MONTH = 12;
const EXP_YEAR = 2034;

function card(
  token: string,
  brand: CardBrand,
  funding: TestFunding,
  last4: string,
  declineCode: string | null,
  adviceCode?: string,
): TestTokenDef {
  const def: TestTokenDef = { token, brand, funding, country: 'US', last4, expMonth: EXP_MONTH, expYear: EXP_YEAR, declineCode };
  if (adviceCode !== undefined) def.adviceCode = adviceCode;
  return def;
}

/** A Visa credit decline card under its current `pm_card_visa_…` name and its legacy alias. */
function visaDecline(suffix: string, last4: string, code: string): TestTokenDef[] {
  return [card(`pm_card_visa_${suffix}`, 'visa', 'credit', last4, code), card(`pm_card_${suffix}`, 'visa', 'credit', last4, code)];
}

export const TEST_TOKENS: readonly TestTokenDef[] = [
  // Stripe "success" and brand cards.
  card('pm_card_visa', 'visa', 'credit', '4242', null),
  card('pm_card_visa_debit', 'visa', 'debit', '5556', null),
  card('pm_card_mastercard', 'mastercard', 'credit', '4444', null),
  card('pm_card_mastercard_debit', 'mastercard', 'debit', '8210', null),
  card('pm_card_mastercard_prepaid', 'mastercard', 'prepaid', '5100', null),
  card('pm_card_amex', 'amex', 'credit', '0005', null),
  card('pm_card_discover', 'discover', 'credit', '1117', null),
  card('pm_card_diners', 'diners', 'credit', '0004', null),
  card('pm_card_jcb', 'jcb', 'credit', '0505', null),
  card('pm_card_unionpay', 'unionpay', 'credit', '0005', null),
  // Stripe cards whose special behaviour is outside a charge (disputes, refunds, Radar review, checks).
  card('pm_card_authenticationRequiredOnSetup', 'visa', 'credit', '3155', null),
  card('pm_card_authenticationRequiredSetupForOffSession', 'visa', 'credit', '0446', null),
  card('pm_card_threeDSecureOptional', 'visa', 'credit', '3055', null),
  card('pm_card_riskLevelElevated', 'visa', 'credit', '9235', null),
  card('pm_card_cvcCheckFail', 'visa', 'credit', '0101', null),
  card('pm_card_avsZipFail', 'visa', 'credit', '0036', null),
  card('pm_card_createDispute', 'visa', 'credit', '0259', null),
  card('pm_card_refundFail', 'visa', 'credit', '5126', null),
  card('pm_card_bypassPending', 'visa', 'credit', '0077', null),
  // Stripe "declined" cards.
  ...visaDecline('chargeDeclined', '0002', 'generic_decline'),
  ...visaDecline('chargeDeclinedInsufficientFunds', '9995', 'insufficient_funds'),
  ...visaDecline('chargeDeclinedLostCard', '9987', 'lost_card'),
  ...visaDecline('chargeDeclinedStolenCard', '9979', 'stolen_card'),
  { ...card('pm_card_chargeDeclinedExpiredCard', 'visa', 'credit', '0069', 'expired_card'), expMonth: 12, expYear: 2020 },
  { ...card('pm_card_visa_chargeDeclinedExpiredCard', 'visa', 'credit', '0069', 'expired_card'), expMonth: 12, expYear: 2020 },
  ...visaDecline('chargeDeclinedIncorrectCvc', '0127', 'incorrect_cvc'),
  ...visaDecline('chargeDeclinedProcessingError', '0119', 'processing_error'),
  ...visaDecline('chargeDeclinedVelocityLimitExceeded', '6975', 'card_velocity_exceeded'),
  ...visaDecline('chargeDeclinedFraudulent', '0019', 'fraudulent'),
  card('pm_card_radarBlock', 'visa', 'credit', '0019', 'fraudulent'),
  card('pm_card_riskLevelHighest', 'visa', 'credit', '4954', 'highest_risk_level'),
  card('pm_card_chargeCustomerFail', 'visa', 'credit', '0341', 'generic_decline'),
  card('pm_card_authenticationRequired', 'visa', 'credit', '3184', 'authentication_required'),
  card('pm_card_threeDSecure2Required', 'visa', 'credit', '3220', 'authentication_required'),
  card('pm_card_authenticationRequiredChargeDeclinedInsufficientFunds', 'visa', 'credit', '3178', 'insufficient_funds'),
  card('pm_card_threeDSecureRequiredChargeDeclined', 'visa', 'credit', '1629', 'generic_decline'),
  card('pm_card_threeDSecureRequiredProcessingError', 'visa', 'credit', '1280', 'processing_error'),
  // Rescue additions: the seed's codes that have no Stripe test card.
  ...visaDecline('chargeDeclinedIncorrectNumber', '4241', 'incorrect_number'),
  ...visaDecline('chargeDeclinedDoNotHonor', '0010', 'do_not_honor'),
  ...visaDecline('chargeDeclinedTryAgainLater', '0028', 'try_again_later'),
  ...visaDecline('chargeDeclinedExceedsLimit', '0044', 'exceeds_limit'),
  ...visaDecline('chargeDeclinedIssuerUnavailable', '0051', 'issuer_unavailable'),
  ...visaDecline('chargeDeclinedGatewayError', '0085', 'gateway_error'),
  ...visaDecline('chargeDeclinedNetworkTimeout', '0093', 'network_timeout'),
  ...visaDecline('chargeDeclinedAccountClosed', '0150', 'account_closed'),
  ...visaDecline('chargeDeclinedCardNotSupported', '0168', 'card_not_supported'),
  ...visaDecline('chargeDeclinedFraudSuspected', '0176', 'fraud_suspected'),
  ...visaDecline('chargeDeclinedRestrictedCard', '0184', 'restricted_card'),
  // Mastercard advice codes (retry-facts.md §1): 03 do not try again, 21 stop recurring, 25 retry after 24 h.
  card('pm_card_mastercard_chargeDeclinedDoNotTryAgain', 'mastercard', 'credit', '0012', 'do_not_honor', '03'),
  card('pm_card_mastercard_chargeDeclinedStopRecurring', 'mastercard', 'credit', '0020', 'do_not_honor', '21'),
  card('pm_card_mastercard_chargeDeclinedInsufficientFunds', 'mastercard', 'debit', '0038', 'insufficient_funds', '25'),
  // Expired, and the account updater finds nothing (see sandboxAccountUpdater).
  { ...card('pm_card_chargeDeclinedExpiredCardNoUpdate', 'visa', 'credit', '0077', 'expired_card'), expMonth: 12, expYear: 2020 },
];

/** `pm_card_<kind>_until_<unix>` kinds → the code returned before the instant. */
export const UNTIL_TOKEN_KINDS: Readonly<Record<string, { code: string; last4: string }>> = {
  insufficientFunds: { code: 'insufficient_funds', last4: '9995' },
  technicalError: { code: 'gateway_error', last4: '0085' },
  networkTimeout: { code: 'network_timeout', last4: '0093' },
  issuerUnavailable: { code: 'issuer_unavailable', last4: '0051' },
  processingError: { code: 'processing_error', last4: '0119' },
  tryAgainLater: { code: 'try_again_later', last4: '0028' },
  velocityLimit: { code: 'card_velocity_exceeded', last4: '6975' },
  genericDecline: { code: 'generic_decline', last4: '0002' },
  doNotHonor: { code: 'do_not_honor', last4: '0010' },
};

const BY_TOKEN: ReadonlyMap<string, TestTokenDef> = new Map(TEST_TOKENS.map((d) => [d.token, d]));
const UNTIL_PATTERN = /^pm_card_([A-Za-z]+)_until_(\d{1,12})(?:_|$)/;

/** The test card a token names, or null when it is not a test token (pm_sim_… and merchant ids). */
export function resolveTestToken(token: string): TestTokenMatch | null {
  if (!token.startsWith('pm_card_')) return null;
  const until = UNTIL_PATTERN.exec(token);
  if (until !== null) {
    const kind = UNTIL_TOKEN_KINDS[until[1] ?? ''];
    if (kind !== undefined) {
      const def = card(`pm_card_${until[1]}_until`, 'visa', 'credit', kind.last4, kind.code);
      return { def, untilMs: Number(until[2]) * 1000 };
    }
  }
  // Longest known name followed by `_` or the end: try the whole token, then cut at each `_` from the right.
  let candidate = token;
  for (;;) {
    const def = BY_TOKEN.get(candidate);
    if (def !== undefined) return { def };
    const cut = candidate.lastIndexOf('_');
    if (cut <= 'pm_card'.length) return null;
    candidate = candidate.slice(0, cut);
  }
}

export function describeTestToken(token: string): TestCardDescription | null {
  const match = resolveTestToken(token);
  if (match === null) return null;
  const { brand, funding, country, last4, expMonth, expYear } = match.def;
  return { brand, funding, country, last4, expMonth, expYear };
}
