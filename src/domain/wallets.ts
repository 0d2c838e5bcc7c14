import type { DeclineInfo } from './decline-types.ts';

// Payment method types a hand-off may name (Revtain seed: `paymentMethodType`), and what the type
// changes. Apple Pay and Google Pay charge a network token (a device PAN with a cryptogram) rather
// than the card number; PayPal and Venmo are wallets with their own funding sources.

export const PAYMENT_METHOD_TYPES = ['card', 'apple_pay', 'google_pay', 'paypal', 'venmo'] as const;
export type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];

/**
 * Visa Token Service factsheet 2022: network tokens raise the card-not-present authorisation rate
 * by 3% and cut fraud by 28% (research/retry-facts.md §4; Visa's own page says +4% / −30%). Rescue
 * applies the +3% as a relative uplift of each retry's approval chance. The −28% fraud figure is
 * not used: fraud declines are hard and never retried, whatever the wallet.
 */
export const NETWORK_TOKEN_APPROVAL_UPLIFT = 1.03;

/**
 * Apple Pay and Google Pay charge through a network token; PayPal and Venmo do not. For a network
 * token Rescue also skips the account updater before a retry (engine/run-attempts.ts): updaters
 * refresh stored card numbers (at a price, e.g. $0.25 an update at Authorize.net, retry-facts.md §4),
 * while a token's card is refreshed by the network's token service.
 */
export function ridesNetworkToken(type: string): boolean {
  return type === 'apple_pay' || type === 'google_pay';
}

/**
 * The retry strategy for a decline on this kind of payment method. A network token is kept current
 * by the card network's token service when the card behind it is reissued or re-dated (the lifecycle
 * management Stripe describes with its card account updater, research/retry-facts.md §4), so a
 * "fix the card data" decline on a wallet token is not waiting for Rescue's account updater: it is
 * retried on the spaced schedule of a generic soft decline instead. Hard declines never change.
 */
export function strategyForPaymentMethod(decline: DeclineInfo, type: string): DeclineInfo {
  if (!ridesNetworkToken(type) || decline.category === 'hard') return decline;
  if (decline.strategy === 'after_card_update') return { ...decline, strategy: 'spaced' };
  return decline;
}

const LABELS: Readonly<Record<PaymentMethodType, string>> = {
  card: 'Card',
  apple_pay: 'Apple Pay',
  google_pay: 'Google Pay',
  paypal: 'PayPal',
  venmo: 'Venmo',
};

export function paymentMethodLabel(type: string): string {
  return LABELS[type as PaymentMethodType] ?? type;
}
