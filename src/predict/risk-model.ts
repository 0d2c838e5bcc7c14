// The fitted part of the pre-charge risk score: P(this charge declines | the card's history), a
// logistic regression with Platt scaling, like the retry-timing model (logistic.ts). Pure.
//
// Two situations have their own features (each feature is zero outside its situation):
// - a fresh charge (the card's latest attempt succeeded, or a renewal's first charge): the card's own
//   first-charge decline rate shrunk towards the network's 7% (a Beta prior worth 40 charges: the
//   sandbox spreads customers' rates lognormally with σ = 0.5 around 7%, research/retry-facts.md §S.1,
//   whose spread is that of a Beta(2.8, 37)), how many charges that rests on, a credit-only brand (Amex,
//   Discover: credit cards decline less than debit, §S.1), the local night (01:00–04:00 declines 1.5×
//   as often, §3), an amount well over what the card has approved;
// - a retry after a soft decline (the card's latest attempt declined): the retry-timing model's
//   P(success now) as a logit, how many retries this rescue has made, and what the card's earlier
//   rescues say about this customer: how many were recovered or lost, and whether as much time has
//   passed since this decline as its earlier recoveries needed (a hold that cleared in 5 days before
//   clears in about 5 days again).
// Hard declines, network-rule blocks and cards with no history stay rules (risk.ts).

import { fitCalibrated } from './calibration.ts';
import { applyPlatt, dot, logit, sigmoid, type Platt } from './logistic.ts';

export const RISK_FEATURES = [
  'bias',
  'retry',
  'fresh_decline_rate',
  'fresh_history',
  'fresh_credit_brand',
  'fresh_night',
  'fresh_amount_over',
  'retry_model_decline',
  'retry_number',
  'retry_recovered_before',
  'retry_lost_before',
  'retry_past_recovery_delay',
  'retry_before_recovery_delay',
  'retry_night',
] as const;
export type RiskFeature = (typeof RISK_FEATURES)[number];

export const BASE_DECLINE_RATE = 0.07;
/** Beta prior worth this many charges (see above). */
export const FRESH_PRIOR_STRENGTH = 40;

export interface RiskModel {
  kind: 'risk';
  weights: Partial<Record<RiskFeature, number>>;
  platt: Platt;
  trainedOn: number;
}

/** What risk.ts knows about the card at the instant of the charge. */
export type RiskSituation =
  | {
      kind: 'fresh';
      firstCharges: number;
      firstChargeDeclines: number;
      creditOnlyBrand: boolean;
      night: boolean;
      amountOverApproved: boolean;
    }
  | {
      kind: 'retry';
      /** The retry-timing model's P(a charge now succeeds). */
      pSuccess: number;
      retryNumber: number;
      recoveredBefore: number;
      lostBefore: number;
      /** Days since this rescue's first decline, and the shortest earlier recovery (null if none). */
      elapsedDays: number;
      shortestRecoveryDays: number | null;
      night: boolean;
    };

export function riskFeatures(s: RiskSituation): number[] {
  const x = new Array<number>(RISK_FEATURES.length).fill(0);
  const set = (f: RiskFeature, v: number) => (x[RISK_FEATURES.indexOf(f)] = v);
  set('bias', 1);
  if (s.kind === 'fresh') {
    set('fresh_decline_rate', logit((s.firstChargeDeclines + BASE_DECLINE_RATE * FRESH_PRIOR_STRENGTH) / (s.firstCharges + FRESH_PRIOR_STRENGTH)) - logit(BASE_DECLINE_RATE));
    set('fresh_history', Math.log1p(s.firstCharges));
    set('fresh_credit_brand', s.creditOnlyBrand ? 1 : 0);
    set('fresh_night', s.night ? 1 : 0);
    set('fresh_amount_over', s.amountOverApproved ? 1 : 0);
  } else {
    set('retry', 1);
    set('retry_model_decline', Math.max(-6, Math.min(6, logit(1 - s.pSuccess))));
    set('retry_number', Math.log(Math.max(1, s.retryNumber)));
    set('retry_recovered_before', Math.log1p(s.recoveredBefore));
    set('retry_lost_before', Math.log1p(s.lostBefore));
    if (s.shortestRecoveryDays !== null) set(s.elapsedDays + 0.5 >= s.shortestRecoveryDays ? 'retry_past_recovery_delay' : 'retry_before_recovery_delay', 1);
    set('retry_night', s.night ? 1 : 0);
  }
  return x;
}

export function weightVector(model: RiskModel): number[] {
  return RISK_FEATURES.map((f) => model.weights[f] ?? 0);
}

export function riskProbability(model: RiskModel, s: RiskSituation): number {
  return applyPlatt(model.platt, sigmoid(dot(weightVector(model), riskFeatures(s))));
}

export interface RiskExample {
  situation: RiskSituation;
  /** 1 when the charge declined. */
  y: number;
  /** Examples of one card share a group; the calibration split never divides a card. */
  group: string;
}

/** Weights fitted on every card, Platt scaling on out-of-fold predictions by card (calibration.ts). */
export function trainRiskModel(examples: readonly RiskExample[], o: { lambda?: number } = {}): RiskModel {
  const fit = fitCalibrated(examples.map((e) => riskFeatures(e.situation)), examples.map((e) => e.y), examples.map((e) => e.group), o);
  const named: Partial<Record<RiskFeature, number>> = {};
  RISK_FEATURES.forEach((f, i) => (named[f] = fit.weights[i]!));
  return { kind: 'risk', weights: named, platt: fit.platt, trainedOn: examples.length };
}
