// The retry-timing model: P(an attempt at instant t succeeds | features), a calibrated logistic
// regression over features.ts. A model is plain JSON (weights by feature name), so the prior that
// ships with Rescue and each account's retrained versions are the same kind of thing.

import { applyPlatt, dot, fitLogistic, fitPlatt, IDENTITY_PLATT, sigmoid, type Platt } from './logistic.ts';
import { aucStandardError, evaluate, type Evaluation } from './metrics.ts';
import { declineGroup, FEATURE_NAMES, featurize, type DeclineGroup, type RetryFeatureInput } from './features.ts';

export interface RetryModel {
  kind: 'retry_timing';
  /** Feature name → weight; a feature a model does not know weighs 0. */
  weights: Record<string, number>;
  platt: Platt;
  trainedOn: number;
  /**
   * Decline groups whose first retry this model may place itself (learned-policy.ts): on the held-out
   * retries of the group it predicted better than the shipped prior. Absent: none (the seed table).
   */
  freeGroups?: DeclineGroup[];
}

export interface Example {
  input: RetryFeatureInput;
  /** 1 when the attempt was approved. */
  y: number;
  /** When it happened (the split is by time: the model is judged on the future). */
  atMs: number;
  /** The payment and card it retried (training-data.ts): a rescue's earlier retries, a card's calendar. */
  payment?: string;
  card?: string;
}

export function weightVector(model: RetryModel): number[] {
  return FEATURE_NAMES.map((n) => model.weights[n] ?? 0);
}

/**
 * A scorer bound to one model, reusing its weight vector and one feature buffer: the planner scores
 * every candidate slot of every retry, and a fresh array each time was most of what a plan allocated.
 */
export function retryScorer(model: RetryModel): (f: RetryFeatureInput) => number {
  const w = weightVector(model);
  const x = new Float64Array(FEATURE_NAMES.length);
  return (f) => applyPlatt(model.platt, sigmoid(dot(w, featurize(f, x))));
}

export interface TrainResult {
  model: RetryModel;
  /** On the held-out (latest) examples. */
  evaluation: Evaluation;
  /** Base rate per decline group, trained and judged on the same split: the simple baseline. */
  baseline: Evaluation;
  heldOut: Example[];
}

const MIN_EXAMPLES = 50;

/**
 * Trains on the earliest 70% of examples (by time), fits Platt scaling on the next 15% and judges
 * on the latest 15%, then refits the weights on the first 85% for the model that is kept.
 */
export function trainRetryModel(examples: readonly Example[], o: { lambda?: number } = {}): TrainResult {
  if (examples.length < MIN_EXAMPLES) throw new Error(`need at least ${MIN_EXAMPLES} finished retries to train, have ${examples.length}`);
  const sorted = [...examples].sort((a, b) => a.atMs - b.atMs);
  const n = sorted.length;
  const fitEnd = Math.floor(n * 0.7);
  const calEnd = Math.floor(n * 0.85);
  const fitPart = sorted.slice(0, fitEnd);
  const calPart = sorted.slice(fitEnd, calEnd);
  const heldOut = sorted.slice(calEnd);
  const X = (xs: readonly Example[]) => xs.map((e) => featurize(e.input));
  const lambda = o.lambda ?? 1;

  const first = fitLogistic(X(fitPart), fitPart.map((e) => e.y), { lambda });
  const calP = X(calPart).map((x) => sigmoid(dot(first.weights, x)));
  const platt = calPart.length >= 20 && new Set(calPart.map((e) => e.y)).size === 2 ? fitPlatt(calP, calPart.map((e) => e.y)) : IDENTITY_PLATT;
  const evalModel: RetryModel = { kind: 'retry_timing', weights: named(first.weights), platt, trainedOn: fitPart.length };
  const score = retryScorer(evalModel);
  const evaluation = evaluate(heldOut.map((e) => score(e.input)), heldOut.map((e) => e.y));
  const baseline = evaluate(heldOut.map(groupRates(sorted.slice(0, calEnd))), heldOut.map((e) => e.y));

  const finalPart = sorted.slice(0, calEnd);
  const final = fitLogistic(X(finalPart), finalPart.map((e) => e.y), { lambda });
  return { model: { kind: 'retry_timing', weights: named(final.weights), platt, trainedOn: finalPart.length }, evaluation, baseline, heldOut };
}

/** Judges a model on examples (e.g. the current model on a new model's held-out set). */
export function evaluateModel(model: RetryModel, examples: readonly Example[]): Evaluation {
  const score = retryScorer(model);
  return evaluate(examples.map((e) => score(e.input)), examples.map((e) => e.y));
}

function named(w: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  FEATURE_NAMES.forEach((name, i) => (out[name] = Number(w[i]!.toFixed(6))));
  return out;
}

/** The baseline: each decline group's success rate in the training data (smoothed). */
function groupRates(train: readonly Example[]): (e: Example) => number {
  const sums = new Map<string, { s: number; n: number }>();
  let all = 0;
  for (const e of train) {
    const g = declineGroup(e.input.declineCode, e.input.strategy);
    const c = sums.get(g) ?? { s: 0, n: 0 };
    c.s += e.y;
    c.n += 1;
    sums.set(g, c);
    all += e.y;
  }
  const overall = train.length ? all / train.length : 0.1;
  return (e) => {
    const c = sums.get(declineGroup(e.input.declineCode, e.input.strategy));
    return c ? (c.s + 2 * overall) / (c.n + 2) : overall;
  };
}

/** Held-out retries a decline group needs before its own evidence can count. */
export const MIN_GROUP_HELD_OUT = 40;
/** How much better than the prior the account's model must rank a group's held-out retries, at least. */
export const MIN_GROUP_AUC_GAIN = 0.02;

/**
 * The decline groups where `model` shows a better time than `prior` on the held-out retries (at least
 * MIN_GROUP_HELD_OUT of them): a lower Brier score, and a ROC AUC higher by two standard errors (and
 * at least MIN_GROUP_AUC_GAIN): on 1,350 held-out retries an account model fitted to chances that do
 * not depend on time at all still ranked up to 0.025 better than the prior by luck.
 * The AUC is what says "time": it does not move when a model only sets the group's success rate
 * higher or lower, it moves when the model tells the retries that succeed (their day, hour, distance
 * from a payday) from those that do not. A Brier score alone let an account's model that only had a
 * better level for generic declines move their first retry from hours to days later, for no revenue
 * (docs/prediction.md, "Which model times a retry"). Only then may its model move the group's
 * retries away from the prior and the seed's strategy.
 */
export function groupsBeatingPrior(model: RetryModel, prior: RetryModel, heldOut: readonly Example[]): DeclineGroup[] {
  const byGroup = new Map<DeclineGroup, Example[]>();
  for (const e of heldOut) {
    const g = declineGroup(e.input.declineCode, e.input.strategy);
    byGroup.set(g, [...(byGroup.get(g) ?? []), e]);
  }
  const out: DeclineGroup[] = [];
  for (const [g, xs] of byGroup) {
    if (xs.length < MIN_GROUP_HELD_OUT) continue;
    if (showsBetterTime(evaluateModel(model, xs), evaluateModel(prior, xs))) out.push(g);
  }
  return out.sort();
}

/** On the same held-out retries: a lower Brier score, and an AUC higher by two standard errors (and MIN_GROUP_AUC_GAIN). */
export function showsBetterTime(own: Evaluation, shipped: Evaluation): boolean {
  // With no success (or no failure) held out both AUCs are 0.5: nothing ranked, no evidence of a time.
  const margin = Math.max(MIN_GROUP_AUC_GAIN, 2 * aucStandardError(own.auc, own.positives, own.n - own.positives));
  return own.brier < shipped.brier && own.auc >= shipped.auc + margin;
}
