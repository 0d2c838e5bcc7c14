// Raw card-network codes: Visa response codes with their decline category, and Mastercard Merchant
// Advice Codes (MACs). Data only; decline-taxonomy.ts decides how they combine with gateway codes.
//
// Visa categories: research/anchors-and-network-rules.md §4 and retry-facts.md §1 (Visa Core Rules,
// 18 Apr 2026, via IanFoxDev/decline-codes data/visa.json; checkout.com Visa categories page).
// Code 14 is category 1 at Checkout.com but category 3 at Forte; we follow Checkout.com (the stricter).
// MACs: Braintree merchant-advice-codes page, as summarised in anchors-and-network-rules.md §4.

import type { DeclineCategory, RetryStrategy, VisaCategory } from './decline-types.ts';
import { REC } from './decline-codes-stripe.ts';

export interface VisaCodeRow {
  code: string;
  visaCategory: VisaCategory;
  category: DeclineCategory;
  strategy: RetryStrategy;
  message: string;
  recommendation: string;
  /** The named code with the same meaning, so analytics see one vocabulary whichever gateway answered. */
  named?: string;
}

function visa(
  code: string,
  visaCategory: VisaCategory,
  category: DeclineCategory,
  strategy: RetryStrategy,
  message: string,
  recommendation: string,
  named?: string,
): VisaCodeRow {
  const base = { code, visaCategory, category, strategy, message, recommendation };
  return named === undefined ? base : { ...base, named };
}

export const VISA_RESPONSE_ROWS: readonly VisaCodeRow[] = [
  // Category 1, "issuer will never approve": no reattempt (Visa charges for any).
  visa('04', 1, 'hard', 'never', 'The card cannot be used for this payment.', REC.notifyMerchant, 'pickup_card'),
  visa('07', 1, 'hard', 'never', 'The card cannot be used for this payment.', REC.notifyMerchant, 'pickup_card'),
  visa('12', 1, 'hard', 'never', 'The transaction is invalid.', REC.newPaymentMethod),
  visa('14', 1, 'hard', 'never', 'The card number is invalid.', REC.newCard, 'incorrect_number'),
  visa('15', 1, 'hard', 'never', 'No such card issuer.', REC.newCard),
  visa('41', 1, 'hard', 'never', 'The card has been reported lost.', REC.notifyMerchant, 'lost_card'),
  visa('43', 1, 'hard', 'never', 'The card has been reported stolen.', REC.notifyMerchant, 'stolen_card'),
  visa('46', 1, 'hard', 'never', 'The card account has been closed.', REC.newCard, 'account_closed'),
  visa('57', 1, 'hard', 'never', 'The transaction is not permitted to the cardholder.', REC.newPaymentMethod),
  visa('R0', 1, 'hard', 'never', 'The cardholder asked the issuer to stop this payment.', REC.newPaymentMethod, 'stop_payment_order'),
  visa('R1', 1, 'hard', 'never', 'The cardholder revoked the authorisation for this payment.', REC.newPaymentMethod, 'revocation_of_authorization'),
  visa('R3', 1, 'hard', 'never', 'The cardholder revoked all authorisations.', REC.newPaymentMethod, 'revocation_of_all_authorizations'),

  // Category 2, "cannot approve now": retry later; 91/96 are issuer/network outages.
  visa('51', 2, 'soft', 'after_payday', 'The card has insufficient funds.', REC.updatePaymentMethod, 'insufficient_funds'),
  visa('59', 2, 'soft', 'spaced', 'The issuer suspects fraud.', REC.contactIssuer),
  visa('61', 2, 'soft', 'after_limit_reset', 'The card has exceeded its amount limit.', REC.updatePaymentMethod, 'card_velocity_exceeded'),
  visa('62', 2, 'soft', 'spaced', 'The card is restricted.', REC.contactIssuer, 'restricted_card'),
  visa('65', 2, 'soft', 'after_limit_reset', 'The card has exceeded its usage limit.', REC.updatePaymentMethod, 'withdrawal_count_limit_exceeded'),
  visa('78', 2, 'soft', 'spaced', 'The card is blocked or not yet activated.', REC.contactIssuer),
  visa('91', 2, 'technical', 'immediate', 'The card issuer could not be reached.', REC.contactIssuer, 'issuer_not_available'),
  visa('96', 2, 'technical', 'immediate', 'The payment network had a system malfunction.', REC.checkGateway, 'system_error'),

  // Category 3, "data quality": fix the data (account updater / customer), then retry.
  visa('54', 3, 'soft', 'after_card_update', 'The card has expired.', REC.newCard, 'expired_card'),
  visa('55', 3, 'soft', 'after_card_update', 'The PIN entered is incorrect.', REC.updatePaymentMethod, 'incorrect_pin'),
  visa('82', 3, 'soft', 'after_card_update', 'The card verification value is incorrect.', REC.updatePaymentMethod, 'incorrect_cvc'),
  visa('N7', 3, 'soft', 'after_card_update', 'The CVC number is incorrect.', REC.updatePaymentMethod, 'incorrect_cvc'),
  visa('1A', 3, 'soft', 'after_card_update', 'The payment requires customer authentication.', REC.authenticate, 'authentication_not_handled'),

  // Category 4, "all other codes": generic; retry spaced out. Unlisted codes are category 4 as well.
  visa('01', 4, 'soft', 'spaced', 'The issuer asked the cardholder to call.', REC.contactIssuer, 'call_issuer'),
  visa('05', 4, 'soft', 'spaced', 'The card was declined.', REC.updatePaymentMethod, 'do_not_honor'),
  visa('03', 4, 'soft', 'spaced', 'The merchant is invalid.', REC.checkGateway),
  visa('13', 4, 'soft', 'spaced', 'The amount is invalid.', REC.contactIssuer, 'invalid_amount'),
  visa('19', 4, 'soft', 'spaced', 'The issuer asked to re-enter the transaction.', REC.contactIssuer, 'reenter_transaction'),
  visa('63', 4, 'soft', 'spaced', 'The issuer reported a security violation.', REC.contactIssuer, 'security_violation'),
  visa('93', 4, 'soft', 'spaced', 'The transaction cannot be completed.', REC.contactIssuer),
  visa('N4', 4, 'soft', 'after_limit_reset', 'The card has exceeded its issuer limit.', REC.updatePaymentMethod),
];

export type MacEffect =
  /** Stop: never retry this card for this merchant (MAC 03, 21). */
  | { kind: 'stop'; recommendation: string }
  /** Retry only after new card details (MAC 01). */
  | { kind: 'strategy'; strategy: RetryStrategy }
  /** Retry later; the exact delay (24–30) is the scheduler's business, which reads the advice code. */
  | { kind: 'retry_later' }
  /** Informational only (04 token requirements, 40–43 prepaid/virtual). */
  | { kind: 'none' };

export const MASTERCARD_ADVICE: Readonly<Record<string, MacEffect>> = {
  '01': { kind: 'strategy', strategy: 'after_card_update' },
  '02': { kind: 'strategy', strategy: 'in_24_48h' },
  '03': { kind: 'stop', recommendation: 'Do not retry; the issuer said never to try this card again' },
  '04': { kind: 'none' },
  '21': { kind: 'stop', recommendation: 'Do not retry; the cardholder cancelled recurring payments' },
  '24': { kind: 'retry_later' },
  '25': { kind: 'retry_later' },
  '26': { kind: 'retry_later' },
  '27': { kind: 'retry_later' },
  '28': { kind: 'retry_later' },
  '29': { kind: 'retry_later' },
  '30': { kind: 'retry_later' },
  '40': { kind: 'none' },
  '41': { kind: 'none' },
  '42': { kind: 'none' },
  '43': { kind: 'none' },
};

/**
 * Stripe's `advice_code` (retry-facts.md §1) carries the same intent as MACs for non-Mastercard cards.
 * Keyed by lower-case value.
 */
export const STRIPE_ADVICE: Readonly<Record<string, MacEffect>> = {
  do_not_try_again: { kind: 'stop', recommendation: 'Do not retry; the issuer said never to try this card again' },
  try_again_later: { kind: 'strategy', strategy: 'in_24_48h' },
  confirm_card_data: { kind: 'strategy', strategy: 'after_card_update' },
};
