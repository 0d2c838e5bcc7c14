// Churn this month (POST /api/predict/churn): the chance that a customer is lost within the next 30
// days through a failed payment, a score and the drivers. Pure.
//
// Two calibrated logistic regressions (logistic.ts), each with Platt scaling fitted on out-of-fold
// predictions (calibration.ts):
// - the loss model, P(a rescue is lost | it began now): labels are the account's finished rescues —
//   lost (`exhausted`, or `cancelled`: the merchant stopped collecting, typically because the
//   subscription was cancelled) or kept (`recovered`). Features, as known when the rescue began: the
//   kind of decline (hard, insufficient funds, hold, velocity limit, technical, expired, other soft),
//   the customer's earlier failed payments, how many were lost and recovered, how many recovered with
//   the same decline (a customer whose card recovered from it before is no lost cause: research/
//   retry-facts.md §S.3, a third of generic and NSF declines never recover, the rest mostly do), amount.
//   Fitted on the account's own rescues once it has MIN_EXAMPLES with both outcomes; before that the
//   prior shipped with Rescue (prior-churn.json, fitted on the sandbox card network).
// - the month model (churn-month.ts) turns the customer's state into P(lost within 30 days).
// Voluntary churn (a customer cancelling with a working card) is not modelled: Rescue does not see it.

import { classifyDecline } from '../domain/decline-taxonomy.ts';
import { monthFeatures, MONTH_FEATURES, PRIOR_MONTH_MODEL, type MonthModel, type MonthState } from './churn-month.ts';
import { declineGroup } from './features.ts';
import { fitCalibrated } from './calibration.ts';
import { applyPlatt, dot, sigmoid, type Platt } from './logistic.ts';
import prior from './prior-churn.json' with { type: 'json' };

export const CHURN_FEATURES = [
  'bias', 'prior_failures', 'prior_lost_share', 'prior_recovered', 'recovered_same_decline',
  'hard_decline', 'insufficient_funds', 'hold', 'velocity_limit', 'technical', 'expired_card', 'log_amount',
  // How much an earlier recovery from the same decline says differs by kind (a hold that cleared in
  // time clears again; a generic decline that recovered still decays per retry), so it is crossed.
  'recovered_same_nsf', 'recovered_same_hold', 'recovered_same_velocity', 'recovered_same_technical', 'recovered_same_generic',
] as const;
export const MIN_EXAMPLES = 30;

/** Decline kinds of a failure whose code is not known yet (no failure so far): averaged over their shares. */
export const DECLINE_KINDS = ['hard', 'nsf', 'hold', 'velocity', 'technical', 'expired', 'generic'] as const;
export type DeclineKind = (typeof DECLINE_KINDS)[number];

export interface RescueHistoryItem {
  startedAt: Date;
  /** null while the rescue is still running. */
  outcome: 'lost' | 'kept' | null;
  endedAt: Date | null;
  declineCategory: string | null;
  declineCode: string | null;
  amount: number;
}

export interface LossModel {
  weights: number[];
  platt: Platt;
  /** Share of each decline kind among the rescues it was fitted on. */
  kindShares: Record<DeclineKind, number>;
}

export interface ChurnModel extends LossModel {
  source: 'prior' | 'account';
  examples: number;
  month: MonthModel;
}

export const PRIOR_LOSS_MODEL = prior as LossModel;

export function declineKind(item: Pick<RescueHistoryItem, 'declineCategory' | 'declineCode'>): DeclineKind {
  if (item.declineCategory === 'hard') return 'hard';
  const code = item.declineCode ?? 'generic_decline';
  return declineGroup(code, classifyDecline({ code, adviceCode: null, brand: 'unknown', count: false }).strategy);
}

/** Features of a rescue (its decline kind given) from the customer's rescues that began before it. */
export function churnFeatures(kind: DeclineKind, amount: number, earlier: readonly RescueHistoryItem[]): number[] {
  const done = earlier.filter((e) => e.outcome !== null);
  const lost = done.filter((e) => e.outcome === 'lost').length;
  const kept = done.filter((e) => e.outcome === 'kept');
  const same = Math.log1p(kept.filter((e) => declineKind(e) === kind).length);
  return [
    1,
    Math.log1p(earlier.length),
    done.length === 0 ? 0 : lost / done.length,
    Math.log1p(kept.length),
    same,
    kind === 'hard' ? 1 : 0,
    kind === 'nsf' ? 1 : 0,
    kind === 'hold' ? 1 : 0,
    kind === 'velocity' ? 1 : 0,
    kind === 'technical' ? 1 : 0,
    kind === 'expired' ? 1 : 0,
    Math.log(Math.max(1, amount) / 5000),
    kind === 'nsf' ? same : 0,
    kind === 'hold' ? same : 0,
    kind === 'velocity' ? same : 0,
    kind === 'technical' ? same : 0,
    kind === 'generic' ? same : 0,
  ];
}

/** Only rescues that had finished before `atMs` count as history with an outcome. */
export function historyAsOf(sorted: readonly RescueHistoryItem[], atMs: number): RescueHistoryItem[] {
  return sorted.filter((e) => e.startedAt.getTime() < atMs).map((e) => (e.endedAt !== null && e.endedAt.getTime() <= atMs ? e : { ...e, outcome: null, endedAt: null }));
}

const byStart = (items: readonly RescueHistoryItem[]) => [...items].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());

/** Examples from every customer's finished rescues (each with only its earlier rescues as history). */
export function churnExamples(byCustomer: ReadonlyMap<string, readonly RescueHistoryItem[]>): { X: number[][]; y: number[]; customer: string[]; kind: DeclineKind[] } {
  const out = { X: [] as number[][], y: [] as number[], customer: [] as string[], kind: [] as DeclineKind[] };
  for (const [customer, items] of byCustomer) {
    const sorted = byStart(items);
    sorted.forEach((item, i) => {
      if (item.outcome === null) return;
      const kind = declineKind(item);
      out.X.push(churnFeatures(kind, item.amount, historyAsOf(sorted.slice(0, i), item.startedAt.getTime())));
      out.y.push(item.outcome === 'lost' ? 1 : 0);
      out.customer.push(customer);
      out.kind.push(kind);
    });
  }
  return out;
}

/** The loss model from labelled rescues: calibrated by customer folds (calibration.ts). */
export function fitLossModel(ex: { X: number[][]; y: number[]; customer: string[]; kind: DeclineKind[] }): LossModel {
  const { weights, platt } = fitCalibrated(ex.X, ex.y, ex.customer);
  const kindShares = Object.fromEntries(DECLINE_KINDS.map((k) => [k, Number((ex.kind.filter((x) => x === k).length / Math.max(1, ex.kind.length)).toFixed(6))])) as Record<DeclineKind, number>;
  return { weights, platt, kindShares };
}

export function trainChurn(byCustomer: ReadonlyMap<string, readonly RescueHistoryItem[]>, month: MonthModel = PRIOR_MONTH_MODEL): ChurnModel {
  const ex = churnExamples(byCustomer);
  const positives = ex.y.reduce((s, v) => s + v, 0);
  if (ex.X.length < MIN_EXAMPLES || positives === 0 || positives === ex.y.length) return { ...PRIOR_LOSS_MODEL, source: 'prior', examples: ex.X.length, month };
  return { ...fitLossModel(ex), source: 'account', examples: ex.X.length, month };
}

export function lossProbability(model: LossModel, x: readonly number[]): number {
  return applyPlatt(model.platt, sigmoid(dot(model.weights, x)));
}

/**
 * P(lost | the customer's next failure): its decline is taken to be the same kind as its latest
 * earlier one (a card tends to fail the same way), or, with none, averaged over the kinds' shares.
 */
export function lossIfFails(model: LossModel, amount: number, history: readonly RescueHistoryItem[]): { p: number; x: number[] } {
  const latest = history[history.length - 1];
  if (latest) {
    const kind = declineKind(latest);
    const x = churnFeatures(kind, amount, history);
    return { p: lossProbability(model, x), x };
  }
  let p = 0;
  for (const k of DECLINE_KINDS) p += (model.kindShares[k] ?? 0) * lossProbability(model, churnFeatures(k, amount, history));
  return { p, x: churnFeatures('generic', amount, history) };
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
  recovered_same_decline: (v) => `${Math.round(Math.expm1(v))} earlier payment(s) recovered from the same kind of decline`,
  hard_decline: (v) => (v ? 'a hard decline: retries cannot recover it' : 'the decline is not hard'),
  insufficient_funds: (v) => (v ? 'insufficient funds' : 'not an insufficient-funds decline'),
  hold: (v) => (v ? 'a temporary hold' : 'not a temporary hold'),
  velocity_limit: (v) => (v ? 'a velocity or amount limit' : 'not a velocity limit'),
  technical: (v) => (v ? 'a technical error' : 'not a technical error'),
  expired_card: (v) => (v ? 'an expired card' : 'the card has not expired'),
  log_amount: (v) => `amount ${Math.round(5000 * Math.exp(v))} (minor units)`,
};
for (const k of ['nsf', 'hold', 'velocity', 'technical', 'generic']) DESCRIBE[`recovered_same_${k}`] = DESCRIBE['recovered_same_decline']!;

/** What the month model reads about a customer now, and the loss model's features behind it. */
export function churnState(input: Omit<ChurnInput, 'model'>, model: LossModel): { state: MonthState; x: number[]; open: RescueHistoryItem | null } {
  const sorted = byStart(input.rescues);
  const openIndex = sorted.findIndex((r) => r.outcome === null);
  const open = openIndex >= 0 ? sorted[openIndex]! : null;
  const history = sorted.filter((_, i) => i !== openIndex && (openIndex < 0 || i < openIndex));
  const base = { open: open !== null, payments: input.payments, failedPayments: input.failedPayments };
  if (open) {
    const x = churnFeatures(declineKind(open), open.amount, history);
    return { state: { ...base, pLoss: lossProbability(model, x) }, x, open };
  }
  const next = lossIfFails(model, input.typicalAmount, history);
  return { state: { ...base, pLoss: next.p }, x: next.x, open };
}

export function predictChurn(input: ChurnInput): ChurnPrediction {
  const model = input.model;
  const { state, x, open } = churnState(input, model);
  const pLoss = state.pLoss;
  const why = open
    ? `a payment is failing now (${open.declineCode ?? 'declined'}); ${pct(pLoss)} of such rescues are lost`
    : `no payment is failing; ${input.failedPayments} of its ${input.payments} renewal(s) failed and ${pct(pLoss)} of its failures would be lost`;
  const m = monthFeatures(state);
  const p = monthProbability(model.month, m);
  const w = model.weights;
  const drivers: ChurnDriver[] = CHURN_FEATURES.map((feature, i) => ({ feature, value: round(x[i]!, 4), effect: round(w[i]! * model.platt.a * x[i]!, 4), description: DESCRIBE[feature]?.(x[i]!) ?? feature }))
    .filter((d) => d.feature !== 'bias' && d.value !== 0)
    .sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect))
    .slice(0, 3);
  if (!open) {
    const rateIndex = MONTH_FEATURES.indexOf('fail_rate');
    const rate = m.shrunkFailRate;
    drivers.unshift({ feature: 'monthly_failure_rate', value: round(rate, 4), effect: round(model.month.weights[rateIndex]! * m.x[rateIndex]!, 4), description: `${input.failedPayments} of ${input.payments} renewal(s) failed their first charge` });
  }
  const source = model.source === 'prior' ? `the prior shipped with Rescue (the account has ${model.examples} finished rescues; ${MIN_EXAMPLES} needed to learn its own)` : `loss model learned from the account's ${model.examples} finished rescues`;
  return { churnProbability: round(p, 4), score: round(p * 100, 1), drivers, reasoning: `${why}; ${pct(p)} chance it is lost within 30 days; ${source}.` };
}

function monthProbability(month: MonthModel, m: { x: number[] }): number {
  return applyPlatt(month.platt, sigmoid(dot(month.weights, m.x)));
}

const pct = (p: number) => `${Math.round(p * 100)}%`;
function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
