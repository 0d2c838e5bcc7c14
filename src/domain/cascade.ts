import type { DeclineInfo } from './decline-types.ts';
import type { StopReason } from './rescue.ts';

// A rescue's ordered payment methods (Revtain's fallbackPaymentMethodTokens): the primary first, then
// each fallback. Pure rules; engine/cascade.ts applies them.

/** Revtain: "Up to 5 fallback tokens supported." */
export const MAX_FALLBACKS = 5;

/**
 * However many payment methods a recovery cascades through, it ends within 60 days of the hand-off:
 * Stripe's longest retry window and Recurly's cut-off (research/retry-facts.md §1, §2).
 */
export const MAX_RECOVERY_DAYS = 60;

const DAY_MS = 86_400_000;

/**
 * A payment method exhausted this way hands over to the next one. A hard decline ends the whole
 * recovery (the seed tries fallbacks only after "a recoverable decline"; a stolen or fraudulent card
 * says something about the payment, not just the card). Every other end — budget, window, nothing
 * left to plan, a card network limit — is about this card.
 */
export function movesToNextMethod(reason: StopReason, decline: DeclineInfo | null): boolean {
  if (reason === 'hard_decline' || reason === 'auto_rescue_off') return false;
  return decline?.category !== 'hard';
}

/**
 * A fallback's own window: a fresh `retry_window_days` from when it takes over (it is another card
 * with its own issuer and its own limits), cut at MAX_RECOVERY_DAYS after the hand-off.
 */
export function methodWindowEnd(takeoverAt: Date, retryWindowDays: number, recoveryStartedAt: Date): Date {
  const fresh = takeoverAt.getTime() + retryWindowDays * DAY_MS;
  const cap = recoveryStartedAt.getTime() + MAX_RECOVERY_DAYS * DAY_MS;
  return new Date(Math.min(fresh, cap));
}
