// Named decline codes: the Plexy Auto Rescue tables (seeds/003) and every code of Stripe's decline-code
// page (research/stripe/decline_codes.json: 50 card + 18 local-payment-method codes). Data only; the
// rules that combine codes, network codes and advice codes live in decline-taxonomy.ts.
//
// Sources cited per group below:
//   [seed]   seeds/003 "Decline Categories and Handling" (soft / technical / hard tables).
//   [S-NR]   Stripe Smart Retries non-retryable list (research/stripe/README.md, retry-facts.md §1).
//   [V1..V4] Visa decline categories (anchors-and-network-rules.md §4, retry-facts.md §1):
//            1 never approve, 2 cannot approve now, 3 fix data, 4 generic.
//   [LPM]    Stripe's own retry wording for local payment methods ("Retries won't succeed" = hard).

import type { DeclineCategory, RetryStrategy, VisaCategory } from './decline-types.ts';

export interface DeclineRow {
  code: string;
  category: DeclineCategory;
  strategy: RetryStrategy;
  message: string;
  recommendation: string;
  /** The Visa category this code corresponds to, used when the card is a Visa and no raw code came. */
  visa?: VisaCategory;
}

/** `recommendation` texts; the first is the seed's `payment.rescue_failed` example verbatim. */
export const REC = {
  updatePaymentMethod: 'Contact customer to update payment method',
  notifyMerchant: 'Do not retry; notify the merchant',
  newCard: 'Ask the customer for a new card',
  contactCustomer: 'Do not retry; contact the customer',
  newPaymentMethod: 'Do not retry; ask the customer for a new payment method',
  authenticate: 'Ask the customer to authenticate the payment on session',
  contactIssuer: 'Ask the customer to contact their card issuer',
  checkGateway: 'Check the gateway; the failure was not an issuer decline',
  checkDuplicate: 'Check whether an identical recent payment already succeeded',
  blockList: 'Do not retry; the payment matched your block list',
  businessAccount: 'Reactivate your business account with the payment provider',
  realCard: 'Ask the customer for a real card; a test card was used in live mode',
  disputed: 'Do not retry while the payment is disputed',
  compliance: 'Do not retry; review the payment for compliance',
} as const;

function row(
  code: string,
  category: DeclineCategory,
  strategy: RetryStrategy,
  message: string,
  recommendation: string,
  visa?: VisaCategory,
): DeclineRow {
  return visa === undefined
    ? { code, category, strategy, message, recommendation }
    : { code, category, strategy, message, recommendation, visa };
}

const DECLINED = 'The card was declined.';

export const NAMED_DECLINE_ROWS: readonly DeclineRow[] = [
  // --- [seed] soft table: exact category and strategy.
  row('insufficient_funds', 'soft', 'after_payday', 'The card has insufficient funds.', REC.updatePaymentMethod, 2),
  row('try_again_later', 'soft', 'in_24_48h', 'The issuer asked to try again later.', REC.updatePaymentMethod, 2),
  row('exceeds_limit', 'soft', 'after_limit_reset', 'The card has exceeded its limit.', REC.updatePaymentMethod, 2),
  row('issuer_unavailable', 'soft', 'immediate', 'The card issuer could not be reached.', REC.contactIssuer, 2),
  row('processing_error', 'soft', 'in_24h', 'An error occurred while processing the card.', REC.updatePaymentMethod),
  // --- [seed] technical table.
  row('network_timeout', 'technical', 'immediate', 'The connection to the payment network timed out.', REC.checkGateway),
  row('gateway_error', 'technical', 'immediate', 'The payment gateway returned an error.', REC.checkGateway),
  row('system_error', 'technical', 'immediate', 'A system error occurred while processing the payment.', REC.checkGateway),
  // --- [seed] hard table ("Stop, notify merchant" / "Stop, contact customer" / "Stop, request new card").
  row('stolen_card', 'hard', 'never', 'The card has been reported stolen.', REC.notifyMerchant, 1),
  row('lost_card', 'hard', 'never', 'The card has been reported lost.', REC.notifyMerchant, 1),
  row('fraud_suspected', 'hard', 'never', 'The issuer suspects fraud.', REC.contactCustomer),
  row('card_not_supported', 'hard', 'never', 'The card does not support this type of purchase.', REC.newCard),
  row('account_closed', 'hard', 'never', 'The card account has been closed.', REC.newCard, 1),

  // --- Stripe card codes. [S-NR] non-retryable list: always hard.
  row('authentication_required', 'hard', 'never', 'The card was declined because the transaction requires authentication.', REC.authenticate),
  row('incorrect_number', 'hard', 'never', 'The card number is incorrect.', REC.newCard, 1),
  row('pickup_card', 'hard', 'never', 'The card cannot be used for this payment.', REC.notifyMerchant, 1),
  row('revocation_of_authorization', 'hard', 'never', 'The cardholder revoked the authorisation for this payment.', REC.newPaymentMethod, 1),
  row('revocation_of_all_authorizations', 'hard', 'never', 'The cardholder revoked all authorisations for this merchant.', REC.newPaymentMethod, 1),
  // A Radar outcome rather than an issuer code, but on the same list.
  row('highest_risk_level', 'hard', 'never', 'The payment was blocked as highest risk.', REC.contactCustomer),
  // Same meaning as a code on the list or in the seed's hard table: incorrect_number = Visa 14 (V1);
  // stop_payment_order = Visa R0 (V1); fraudulent ~ seed fraud_suspected; do_not_try_again is the
  // issuer's explicit "never" (Stripe moved it to advice_code do_not_try_again).
  row('invalid_number', 'hard', 'never', 'The card number is incorrect.', REC.newCard, 1),
  row('stop_payment_order', 'hard', 'never', 'The cardholder asked the issuer to stop this payment.', REC.newPaymentMethod, 1),
  row('fraudulent', 'hard', 'never', 'The payment was declined because it is suspected to be fraudulent.', REC.contactCustomer),
  row('do_not_try_again', 'hard', 'never', 'The issuer asked not to try this card again.', REC.newPaymentMethod, 1),
  // Retrying cannot change these outcomes: the merchant's own block list, a test card in live mode,
  // a currency the card never accepts ([LPM] says "Retries won't succeed" for the same code).
  row('merchant_blacklist', 'hard', 'never', 'The payment matched a value on the block list.', REC.blockList),
  row('testmode_decline', 'hard', 'never', 'A test card was used for a live payment.', REC.realCard),
  row('currency_not_supported', 'hard', 'never', 'The card does not support this currency.', REC.newCard),

  // [V3] "fix data": only worth retrying once the card details change (account updater or customer).
  row('expired_card', 'soft', 'after_card_update', 'The card has expired.', REC.newCard, 3),
  row('incorrect_cvc', 'soft', 'after_card_update', 'The CVC number is incorrect.', REC.updatePaymentMethod, 3),
  row('invalid_cvc', 'soft', 'after_card_update', 'The CVC number is incorrect.', REC.updatePaymentMethod, 3),
  row('incorrect_zip', 'soft', 'after_card_update', 'The postal code is incorrect.', REC.updatePaymentMethod, 3),
  row('incorrect_address', 'soft', 'after_card_update', 'The address is incorrect.', REC.updatePaymentMethod, 3),
  row('invalid_expiry_month', 'soft', 'after_card_update', 'The expiry month is invalid.', REC.newCard, 3),
  row('invalid_expiry_year', 'soft', 'after_card_update', 'The expiry year is invalid.', REC.newCard, 3),
  row('invalid_account', 'soft', 'after_card_update', 'The card, or the account it is connected to, is invalid.', REC.newCard),
  row('new_account_information_available', 'soft', 'after_card_update', 'New account information is available for the card.', REC.newCard),
  row('incorrect_pin', 'soft', 'after_card_update', 'The PIN entered is incorrect.', REC.updatePaymentMethod, 3),
  row('invalid_pin', 'soft', 'after_card_update', 'The PIN entered is incorrect.', REC.updatePaymentMethod, 3),
  row('pin_try_exceeded', 'soft', 'after_card_update', 'The allowable number of PIN tries was exceeded.', REC.newCard),
  row('offline_pin_required', 'soft', 'after_card_update', 'The card requires a PIN.', REC.updatePaymentMethod),
  row('online_or_offline_pin_required', 'soft', 'after_card_update', 'The card requires a PIN.', REC.updatePaymentMethod),
  // An off-session retry cannot authenticate; it needs the customer back on session first.
  row('authentication_not_handled', 'soft', 'after_card_update', 'The payment required authentication that was not completed.', REC.authenticate, 3),
  row('mobile_device_authentication_required', 'soft', 'after_card_update', 'The card requires authentication on the device.', REC.authenticate),

  // [V2] "cannot approve now": limits reset on the issuer's cycle (Visa 61/65).
  row('card_velocity_exceeded', 'soft', 'after_limit_reset', 'The card has exceeded its credit or transaction limit.', REC.updatePaymentMethod, 2),
  row('withdrawal_count_limit_exceeded', 'soft', 'after_limit_reset', 'The card has exceeded its credit limit.', REC.updatePaymentMethod, 2),
  row('issuer_not_available', 'soft', 'immediate', 'The card issuer could not be reached.', REC.contactIssuer, 2),
  row('restricted_card', 'soft', 'spaced', 'The card cannot be used for this payment.', REC.contactIssuer, 2),
  // Stripe: "The payment needs to be attempted again" - an issuer-side hiccup.
  row('reenter_transaction', 'soft', 'immediate', 'The issuer could not process the payment.', REC.contactIssuer),
  // Retrying at once risks a double charge; a day apart gives time to find the earlier payment.
  row('duplicate_transaction', 'soft', 'in_24h', 'An identical transaction was submitted very recently.', REC.checkDuplicate),

  // [V4] generic declines: most issuer declines land here (retry-facts §1); spread retries out.
  // Stripe gives no network code for these; a raw Visa code (e.g. 57 = category 1) can still harden them.
  row('generic_decline', 'soft', 'spaced', DECLINED, REC.updatePaymentMethod, 4),
  row('do_not_honor', 'soft', 'spaced', DECLINED, REC.updatePaymentMethod, 4),
  row('call_issuer', 'soft', 'spaced', DECLINED, REC.contactIssuer, 4),
  row('approve_with_id', 'soft', 'spaced', 'The payment could not be authorised.', REC.contactIssuer, 4),
  row('no_action_taken', 'soft', 'spaced', DECLINED, REC.contactIssuer, 4),
  row('not_permitted', 'soft', 'spaced', 'The payment is not permitted.', REC.contactIssuer, 4),
  row('service_not_allowed', 'soft', 'spaced', DECLINED, REC.contactIssuer, 4),
  row('transaction_not_allowed', 'soft', 'spaced', DECLINED, REC.contactIssuer, 4),
  row('security_violation', 'soft', 'spaced', DECLINED, REC.contactIssuer, 4),
  // Visa 13 "invalid amount" is category 4; the card may take the amount after a limit change.
  row('invalid_amount', 'soft', 'spaced', 'The payment amount is invalid or exceeds the allowed amount.', REC.contactIssuer, 4),

  // --- Stripe local-payment-method codes [LPM]. Codes shared with the card table keep the card row
  // (expired_card, processing_error, insufficient_funds, currency_not_supported, duplicate_transaction,
  // invalid_amount). "unspecified" ones are soft/spaced unless they read like fraud.
  row('partner_generic_decline', 'soft', 'spaced', 'The payment provider declined the payment.', REC.updatePaymentMethod),
  row('invalid_customer_account', 'soft', 'after_card_update', 'The customer account cannot be charged.', REC.updatePaymentMethod),
  row('payment_limit_exceeded', 'soft', 'after_limit_reset', "The order exceeds a limit on the customer's account.", REC.updatePaymentMethod),
  row('invalid_billing_agreement', 'hard', 'never', "The customer's billing agreement is invalid.", REC.newPaymentMethod),
  row('invalid_business_account', 'soft', 'spaced', 'The business account is deactivated.', REC.businessAccount),
  row('partner_high_risk_customer', 'hard', 'never', 'The payment provider labelled this customer as high risk.', REC.contactCustomer),
  row('compliance_violation', 'hard', 'never', 'The payment violates terms of service, programme rules or law.', REC.compliance),
  // Retrying a disputed payment inside a rescue window only adds to the dispute.
  row('payment_disputed', 'hard', 'never', 'There is a dispute over the payment.', REC.disputed),
  row('invalid_authorization', 'hard', 'never', 'The authorisation is invalid or has been revoked.', REC.newPaymentMethod),
  row('invalid_payment_information', 'hard', 'never', 'The payment has invalid information.', REC.newPaymentMethod),
  row('partner_payment_not_found', 'soft', 'spaced', 'The payment provider cannot find this payment.', REC.updatePaymentMethod),
  row('expired_payment_information', 'soft', 'after_card_update', 'The payment instrument has expired.', REC.updatePaymentMethod),
];

/**
 * Other spellings of the same code. Stripe's `charge_outcome_reason` for local payment methods
 * prefixes shared codes with `partner_` (decline_codes.json); a few gateways use older names.
 */
export const DECLINE_CODE_ALIASES: Readonly<Record<string, string>> = {
  partner_expired_card: 'expired_card',
  partner_processing_error: 'processing_error',
  partner_insufficient_funds: 'insufficient_funds',
  partner_invalid_currency: 'currency_not_supported',
  partner_invalid_amount: 'invalid_amount',
  partner_duplicate_transaction: 'duplicate_transaction',
  card_declined: 'generic_decline',
  closed_account: 'account_closed',
  lost_or_stolen: 'stolen_card',
};
