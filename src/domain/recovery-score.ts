import type { DeclineInfo, RetryStrategy } from './decline-types.ts';
import { NETWORK_TOKEN_APPROVAL_UPLIFT, paymentMethodLabel, ridesNetworkToken } from './wallets.ts';

// The predicted chance that a hand-off is recovered, from what is known when it arrives: the
// decline's strategy, how many retries the budget allows, the wallet type and the fallbacks. Pure.
//
// Per strategy, a share of failures that can recover at all and a per-retry approval chance that
// decays per retry, anchored on research/retry-facts.md, "Suggested simulator parameters" §3
// (marked [A] there and here where the value is a calibration, not a published figure):
//   technical / issuer outage / processing error: p = 0.7 per retry (§S.3 "technical errors");
//   insufficient funds: 30% never recover, p = 0.65 on a payday-timed retry (§S.3);
//   temporary hold / velocity limit: p = 0.6 once cleared (§S.3), most holds clear within the window;
//   generic declines: 35% latently unrecoverable, p₁ = 0.45 for the rest, ×0.7 per retry (§S.3 as the
//     sandbox calibrates it, gateways/sandbox/network.ts);
//   expired / wrong data: recovers only if the updater finds the card (0.75), then p = 0.85 (§S.3).
// A network-token wallet multiplies each retry's p by 1.03 (Visa Token Service, §4; wallets.ts).

interface Curve {
  /** Share of such failures that can be recovered at all. */
  recoverable: number;
  /** Approval chance of the first retry, for a recoverable failure. */
  p1: number;
  /** Factor per later retry. */
  decay: number;
  why: string;
}

const CURVES: Readonly<Record<RetryStrategy, Curve>> = {
  immediate: { recoverable: 1, p1: 0.7, decay: 1, why: 'technical or issuer outage: usually clears within hours' },
  in_24h: { recoverable: 1, p1: 0.7, decay: 1, why: 'processing error: usually clears within a day' },
  after_payday: { recoverable: 0.7, p1: 0.65, decay: 1, why: 'insufficient funds: retries timed to likely paydays; about 30% never recover' },
  in_24_48h: { recoverable: 0.95, p1: 0.6, decay: 1, why: 'temporary hold: most clear within two weeks' },
  after_limit_reset: { recoverable: 0.95, p1: 0.6, decay: 1, why: 'limit exceeded: retried after the limit resets' },
  spaced: { recoverable: 0.65, p1: 0.45, decay: 0.7, why: 'generic decline: about 35% never recover, later retries succeed less often' },
  after_card_update: { recoverable: 0.75, p1: 0.85, decay: 1, why: 'card data problem: recovers when the account updater finds the new card' },
  never: { recoverable: 0, p1: 0, decay: 1, why: 'hard decline: never retried' },
};

export interface RecoveryPredictionInput {
  decline: DeclineInfo;
  /** Retries the budget allows on each payment method. */
  maxRetries: number;
  paymentMethodType: string;
  /** Types of the fallback payment methods, in order. */
  fallbackTypes?: readonly string[];
  /** A card network rule forbids retrying the primary card: only the fallbacks can recover it. */
  primaryBlocked?: boolean;
}

export interface RecoveryPrediction {
  /** 0..1 */
  probability: number;
  /** 0..100, one decimal: the probability as Revtain's scores are shown. */
  score: number;
  reasoning: string;
}

/** Chance that one payment method is recovered within `retries` retries. */
function methodProbability(curve: Curve, retries: number, type: string): number {
  const uplift = ridesNetworkToken(type) ? NETWORK_TOKEN_APPROVAL_UPLIFT : 1;
  let allFail = 1;
  for (let k = 0; k < retries; k++) allFail *= 1 - Math.min(1, curve.p1 * curve.decay ** k * uplift);
  return curve.recoverable * (1 - allFail);
}

/**
 * A fallback is a different card that has not declined yet: its first charge approves like a
 * renewal's first attempt (93%, the complement of the 7% base renewal failure rate, §S.1) — but only
 * for a customer who can pay at all, the primary's recoverable share: a customer out of money on one
 * card is often out of money on the others [A]. Its own later retries are not counted (conservative).
 */
const FALLBACK_FIRST_CHARGE_P = 0.93;

export function predictRecovery(input: RecoveryPredictionInput): RecoveryPrediction {
  const curve = CURVES[input.decline.category === 'hard' ? 'never' : input.decline.strategy];
  const retries = Math.max(0, Math.floor(input.maxRetries));
  let p = input.primaryBlocked ? 0 : methodProbability(curve, retries, input.paymentMethodType);
  const fallbacks = input.decline.category === 'hard' ? [] : (input.fallbackTypes ?? []);
  // Of the customers who can pay, those the primary did not recover; each fallback gets its chance.
  let canPayLeft = curve.recoverable - p;
  for (const type of fallbacks) {
    const uplift = ridesNetworkToken(type) ? NETWORK_TOKEN_APPROVAL_UPLIFT : 1;
    const won = canPayLeft * Math.min(1, FALLBACK_FIRST_CHARGE_P * uplift);
    p += won;
    canPayLeft -= won;
  }
  const reasons = [input.primaryBlocked ? 'a card network rule forbids retrying this card' : curve.why];
  if (curve.recoverable > 0 && ridesNetworkToken(input.paymentMethodType)) {
    reasons.push(`${paymentMethodLabel(input.paymentMethodType)} charges a network token: +3% approval per retry (Visa Token Service)`);
  }
  if (fallbacks.length > 0) reasons.push(`${fallbacks.length} fallback payment method${fallbacks.length === 1 ? '' : 's'} tried in order if this one is exhausted`);
  return { probability: round(p, 6), score: round(p * 100, 1), reasoning: `${reasons.join('; ')}.` };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
