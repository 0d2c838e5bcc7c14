// Stripe's documented test card numbers and the test PaymentMethod each stands for
// (research/stripe/test_cards.json, https://docs.stripe.com/testing), so a customer on a test-mode
// update-payment page can type a card number as they would on Stripe's own test pages. Any future
// expiry and any CVC are accepted, as in Stripe test mode.

export const TEST_CARD_NUMBERS: ReadonlyMap<string, string> = new Map([
  ['4242424242424242', 'pm_card_visa'],
  ['4000056655665556', 'pm_card_visa_debit'],
  ['5555555555554444', 'pm_card_mastercard'],
  ['378282246310005', 'pm_card_amex'],
  ['4000000000000002', 'pm_card_visa_chargeDeclined'],
  ['4000000000009995', 'pm_card_visa_chargeDeclinedInsufficientFunds'],
  ['4000000000009987', 'pm_card_visa_chargeDeclinedLostCard'],
  ['4000000000009979', 'pm_card_visa_chargeDeclinedStolenCard'],
  ['4000000000000069', 'pm_card_chargeDeclinedExpiredCard'],
  ['4000000000000127', 'pm_card_chargeDeclinedIncorrectCvc'],
  ['4000000000000119', 'pm_card_chargeDeclinedProcessingError'],
  ['4000000000006975', 'pm_card_visa_chargeDeclinedVelocityLimitExceeded'],
  ['4000000000000341', 'pm_card_chargeCustomerFail'],
  ['4000002500003155', 'pm_card_authenticationRequiredOnSetup'],
  ['4000002760003184', 'pm_card_authenticationRequired'],
  ['4000003800000446', 'pm_card_authenticationRequiredSetupForOffSession'],
  ['4000008260003178', 'pm_card_authenticationRequiredChargeDeclinedInsufficientFunds'],
  ['4000000000003220', 'pm_card_threeDSecure2Required'],
  ['4000008400001629', 'pm_card_threeDSecureRequiredChargeDeclined'],
  ['4000008400001280', 'pm_card_threeDSecureRequiredProcessingError'],
  ['4000000000003055', 'pm_card_threeDSecureOptional'],
  ['4100000000000019', 'pm_card_radarBlock'],
  ['4000000000004954', 'pm_card_riskLevelHighest'],
  ['4000000000009235', 'pm_card_riskLevelElevated'],
  ['4000000000000101', 'pm_card_cvcCheckFail'],
  ['4000000000000036', 'pm_card_avsZipFail'],
  ['4000000000000259', 'pm_card_createDispute'],
  ['4000000000005126', 'pm_card_refundFail'],
  ['4000000000000077', 'pm_card_bypassPending'],
]);

/** The test PaymentMethod a typed card number names (spaces and dashes ignored), or null. */
export function testTokenForCardNumber(input: string): string | null {
  return TEST_CARD_NUMBERS.get(input.replace(/[\s-]/g, '')) ?? null;
}
