// The month model of churn (churn.ts): P(a customer is lost within 30 days | its state now). Pure.
//
// With a rescue open, the customer is lost if that rescue is: the loss model's P(lost) carries it.
// Without one, a loss needs a renewal to fail and then its rescue to be lost, so the log of each chance
// is a feature: the customer's own renewal failure rate shrunk towards the network's 7% (a Beta prior
// worth 40 renewals — the sandbox spreads customers' rates lognormally, σ = 0.5, around 7%,
// research/retry-facts.md §S.1, the spread of a Beta(2.8, 37)) and P(lost | its next failure). A
// logistic regression over these few numbers learns how they combine (not every renewal's rescue ends
// within the same 30 days) and Platt scaling on out-of-fold predictions calibrates it. The weights ship
// in prior-churn.json (fitted on the sandbox card network, `npm run train:models-prior`).

import { fitCalibrated } from './calibration.ts';
import { logit, type Platt } from './logistic.ts';
import prior from './prior-churn.json' with { type: 'json' };
import { BASE_DECLINE_RATE, FRESH_PRIOR_STRENGTH } from './risk-model.ts';

export const MONTH_FEATURES = ['bias', 'open_rescue', 'open_loss', 'fail_rate', 'loss_if_fails', 'history'] as const;

export interface MonthModel {
  weights: number[];
  platt: Platt;
}

export const PRIOR_MONTH_MODEL = prior.month as MonthModel;

export interface MonthState {
  open: boolean;
  /** P(lost) of the open rescue, or of the customer's next failure when none is open. */
  pLoss: number;
  payments: number;
  failedPayments: number;
}

export function monthFeatures(s: MonthState): { x: number[]; shrunkFailRate: number } {
  const shrunkFailRate = (s.failedPayments + BASE_DECLINE_RATE * FRESH_PRIOR_STRENGTH) / (s.payments + FRESH_PRIOR_STRENGTH);
  const p = Math.min(1 - 1e-4, Math.max(1e-4, s.pLoss));
  const x = s.open
    ? [1, 1, logit(p), 0, 0, Math.log1p(s.payments)]
    : [1, 0, 0, Math.log(shrunkFailRate / BASE_DECLINE_RATE), Math.log(p), Math.log1p(s.payments)];
  return { x, shrunkFailRate };
}

export function fitMonthModel(examples: readonly { state: MonthState; y: number; group: string }[]): MonthModel {
  return fitCalibrated(examples.map((e) => monthFeatures(e.state).x), examples.map((e) => e.y), examples.map((e) => e.group));
}
