import { classifyDecline } from './decline-taxonomy.ts';
import type { CardBrand, DeclineInfo } from './decline-types.ts';
import { strategyForPaymentMethod } from './wallets.ts';

// A dead card: a decline whose fix is new card data (strategy `after_card_update`: an expired card,
// a wrong CVC or PIN, Visa category 3, Mastercard advice code 01…). Charging the same credentials
// again cannot succeed, so a retry on them is not charged: the rescue waits, inside its window, for
// a new card (the account updater, the update-payment page or API, Stripe's
// `payment_method.automatically_updated`, or a merchant gateway answer naming the new card), checking
// once a day, and retries at once when one arrives (engine/run-attempts.ts).

/** How often a waiting retry asks again (the account updater, and whether a new card arrived). */
export const NEW_CARD_CHECK_MS = 86_400_000;

/** The rescue's latest declined attempt, as stored. */
export interface LastDecline {
  code: string;
  adviceCode: string | null;
  brand: string;
  fingerprint: string;
  paymentMethodType: string;
}

/**
 * The decline that makes the planned retry wait for a new card, or null when it may be charged:
 * the latest decline asks for new card data (wallet tokens excepted, see wallets.ts) and the retry
 * would charge the same card (same fingerprint, not marked `card_was_updated`).
 */
export function deadCardDecline(last: LastDecline | null, next: { fingerprint: string; cardWasUpdated: boolean }): DeclineInfo | null {
  if (!last || next.cardWasUpdated || last.fingerprint !== next.fingerprint) return null;
  const decline = strategyForPaymentMethod(
    classifyDecline({ code: last.code, adviceCode: last.adviceCode, brand: last.brand as CardBrand, count: false }),
    last.paymentMethodType,
  );
  return decline.category !== 'hard' && decline.strategy === 'after_card_update' ? decline : null;
}

/** The next check of a waiting retry: a day later, the last one at the window's end; null once the window is over. */
export function nextNewCardCheck(at: Date, windowEndsAt: Date): Date | null {
  if (at.getTime() >= windowEndsAt.getTime()) return null;
  return new Date(Math.min(at.getTime() + NEW_CARD_CHECK_MS, windowEndsAt.getTime()));
}
