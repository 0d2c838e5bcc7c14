// Churn this month (POST /api/predict/churn): the chance that a customer is lost this month through a
// failed payment, a score and the drivers. Pure.
//
// Labels: every finished rescue of the account is one example — lost (the rescue ended `exhausted`,
// or was cancelled: the merchant stopped collecting, typically because the subscription was
// cancelled) or kept (`recovered`). Features describe what was known when that rescue began: the
// customer's earlier failed payments, how many of them were lost and recovered, the decline (hard,
// insufficient funds), the amount. A logistic regression (logistic.ts) is fitted on the account's own
// examples once it has at least MIN_EXAMPLES with both outcomes; before that a prior set by hand from
// research/retry-facts.md (about 40% of failed renewals are never recovered; hard declines almost
// never; a customer who was lost before is likelier lost again) is used, and the answer says which.
//
// P(churn this month) = P(lost | its open rescue) when the customer has one, else
// P(a renewal fails this month) × P(lost | a failure), where the failure chance is the customer's own
// renewal failure rate shrunk towards the network's 7% (a Beta prior worth 10 renewals).
// Voluntary churn (a customer cancelling with a working card) is not modelled: Rescue does not see it.

import { dot, fitLogistic, sigmoid } from './logistic.ts';

export const CHURN_FEATURES = ['bias', 'prior_failures', 'prior_lost_share', 'prior_recovered', 'hard_decline', 'insufficient_funds', 'log_amount'] as const;
export const MIN_EXAMPLES = 30;
const BASE_FAILURE_RATE = 0.07;
const PRIOR_STRENGTH = 10;

/** The hand-set prior (see above): logit(0.4) at a first soft failure of a $50 payment. */
export const PRIOR_CHURN_WEIGHTS = [-0.4, 0.15, 1.5, -0.3, 4, 0.3, 0.1];

export interface RescueHistoryItem {
  startedAt: Date;
  /** null while the rescue is still running. */
  outcome: 'lost' | 'kept' | null;
  endedAt: Date | null;
  declineCategory: string | null;
  declineCode: string | null;
  amount: number;
}

export interface ChurnModel {
  weights: number[];
  source: 'prior' | 'account';
  examples: number;
}

/** Features of a rescue from the customer's rescues that began before it. */
export function churnFeatures(item: RescueHistoryItem, earlier: readonly RescueHistoryItem[]): number[] {
  const done = earlier.filter((e) => e.outcome !== null);
  const lost = done.filter((e) => e.outcome === 'lost').length;
  const kept = done.length - lost;
  return [
    1,
    Math.log1p(earlier.length),
    done.length === 0 ? 0 : lost / done.length,
    Math.log1p(kept),
    item.declineCategory === 'hard' ? 1 : 0,
    item.declineCode === 'insufficient_funds' ? 1 : 0,
    Math.log(Math.max(1, item.amount) / 5000),
  ];
}

/** Examples from every customer's finished rescues (each with only its earlier rescues as history). */
export function churnExamples(byCustomer: ReadonlyMap<string, readonly RescueHistoryItem[]>): { X: number[][]; y: number[] } {
  const X: number[][] = [];
  const y: number[] = [];
  for (const items of byCustomer.values()) {
    const sorted = [...items].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
    sorted.forEach((item, i) => {
      if (item.outcome === null) return;
      // Only rescues that had finished before this one began count as its history's outcomes.
      const earlier = sorted.slice(0, i).map((e) => (e.endedAt !== null && e.endedAt <= item.startedAt ? e : { ...e, outcome: null, endedAt: null }));
      X.push(churnFeatures(item, earlier));
      y.push(item.outcome === 'lost' ? 1 : 0);
    });
  }
  return { X, y };
}

export function trainChurn(byCustomer: ReadonlyMap<string, readonly RescueHistoryItem[]>): ChurnModel {
  const { X, y } = churnExamples(byCustomer);
  const positives = y.reduce((s, v) => s + v, 0);
  if (X.length < MIN_EXAMPLES || positives === 0 || positives === y.length) return { weights: PRIOR_CHURN_WEIGHTS, source: 'prior', examples: X.length };
  return { weights: fitLogistic(X, y, { lambda: 1 }).weights, source: 'account', examples: X.length };
}

export interface ChurnDriver {
  feature: string;
  value: number;
  /** Contribution to the log-odds of churn (weight × value); positive raises the risk. */
  effect: number;
  description: string;
}

export interface ChurnPrediction {
  churnProbability: number;
  score: number;
  drivers: ChurnDriver[];
  reasoning: string;
}

export interface ChurnInput {
  /** The customer's rescues, any order; at most one is normally open. */
  rescues: readonly RescueHistoryItem[];
  /** The customer's renewals (payments) and how many of them failed their first attempt. */
  payments: number;
  failedPayments: number;
  /** The amount of a renewal, for a customer with no open rescue. */
  typicalAmount: number;
  model: ChurnModel;
}

const DESCRIBE: Record<string, (v: number) => string> = {
  prior_failures: (v) => `${Math.round(Math.expm1(v))} earlier failed payment(s)`,
  prior_lost_share: (v) => `${Math.round(v * 100)}% of its finished rescues were lost`,
  prior_recovered: (v) => `${Math.round(Math.expm1(v))} earlier payment(s) recovered`,
  hard_decline: (v) => (v ? 'a hard decline: retries cannot recover it' : 'the decline is not hard'),
  insufficient_funds: (v) => (v ? 'insufficient funds' : 'not an insufficient-funds decline'),
  log_amount: (v) => `amount ${Math.round(5000 * Math.exp(v))} (minor units)`,
};

export function predictChurn(input: ChurnInput): ChurnPrediction {
  const sorted = [...input.rescues].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  const openIndex = sorted.findIndex((r) => r.outcome === null);
  const w = input.model.weights;
  let x: number[];
  let p: number;
  let why: string;
  const failRate = (input.failedPayments + BASE_FAILURE_RATE * PRIOR_STRENGTH) / (input.payments + PRIOR_STRENGTH);
  if (openIndex >= 0) {
    x = churnFeatures(sorted[openIndex]!, sorted.slice(0, openIndex));
    p = sigmoid(dot(w, x));
    why = `a payment is failing now (${sorted[openIndex]!.declineCode ?? 'declined'}); ${pct(p)} of such rescues are lost`;
  } else {
    const hypothetical: RescueHistoryItem = { startedAt: new Date(0), outcome: null, endedAt: null, declineCategory: 'soft', declineCode: null, amount: input.typicalAmount };
    x = churnFeatures(hypothetical, sorted);
    const lostIfFails = sigmoid(dot(w, x));
    p = failRate * lostIfFails;
    why = `no payment is failing; its renewal fails ${pct(failRate)} of the time and ${pct(lostIfFails)} of its failures would be lost`;
  }
  const drivers: ChurnDriver[] = CHURN_FEATURES.map((feature, i) => ({ feature, value: round(x[i]!, 4), effect: round(w[i]! * x[i]!, 4), description: DESCRIBE[feature]?.(x[i]!) ?? feature }))
    .filter((d) => d.feature !== 'bias')
    .sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect))
    .slice(0, 3);
  if (openIndex < 0) drivers.unshift({ feature: 'monthly_failure_rate', value: round(failRate, 4), effect: round(Math.log(failRate), 4), description: `${input.failedPayments} of ${input.payments} renewal(s) failed their first charge` });
  const source = input.model.source === 'prior' ? `hand-set prior (the account has ${input.model.examples} finished rescues; ${MIN_EXAMPLES} needed to learn its own)` : `model learned from the account's ${input.model.examples} finished rescues`;
  return { churnProbability: round(p, 4), score: round(p * 100, 1), drivers, reasoning: `${why}; ${source}.` };
}

const pct = (p: number) => `${Math.round(p * 100)}%`;
function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
