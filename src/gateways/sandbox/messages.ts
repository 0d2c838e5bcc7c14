// Human messages the sandbox returns with each decline, worded like Stripe's `failure_message` so that
// dashboards and emails built against the sandbox read the same as with a live gateway.

const MESSAGES: Record<string, string> = {
  generic_decline: 'Your card was declined.',
  do_not_honor: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
  try_again_later: 'Your card was declined. The issuer asked to try again later.',
  card_velocity_exceeded: 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.',
  exceeds_limit: 'Your card was declined because it exceeds its daily or weekly limit.',
  lost_card: 'Your card was declined.',
  stolen_card: 'Your card was declined.',
  fraudulent: 'Your card was declined.',
  fraud_suspected: 'Your card was declined. The issuer suspects fraud.',
  highest_risk_level: 'Your card was declined.',
  incorrect_number: 'Your card number is incorrect.',
  account_closed: 'Your card was declined. The account is closed.',
  restricted_card: 'Your card was declined.',
  card_not_supported: 'Your card does not support this type of purchase.',
  transaction_not_allowed: 'Your card does not support this type of purchase.',
  expired_card: 'Your card has expired.',
  incorrect_cvc: "Your card's security code is incorrect.",
  processing_error: 'An error occurred while processing your card. Try again in a little bit.',
  issuer_unavailable: 'The card issuer could not be reached.',
  gateway_error: 'The payment gateway returned an error.',
  network_timeout: 'The connection to the card network timed out.',
  authentication_required: 'Your card was declined. This transaction requires authentication.',
  invalid_amount: 'The payment amount is invalid.',
};

export function declineMessage(code: string): string {
  return MESSAGES[code] ?? 'Your card was declined.';
}
