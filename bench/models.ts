// Model quality of churn and risk on held-out generated customers (issue 5).
//   npm run bench:models [-- --customers 10000 --months 12]
//   npm run train:models-prior   (the same, and writes src/predict/prior-churn.json and prior-risk.json)
//
// No server. Customers of the sandbox card network (bench/models-sim.ts: monthly renewals, retries on
// days 1, 3, 5, 7, a lost rescue ends the subscription). Two disjoint populations (different seeds):
// the training customers fit the models — the loss model, the month model and the risk model, each
// with Platt scaling on a fifth of the training customers it was not fitted on — and the baselines;
// the held-out customers are scored. For each prediction, the model and its baselines side by side:
// ROC AUC, Brier score, expected calibration error (10 bins), and against the best baseline the AUC
// difference, the Brier ratio and a 95% interval of the Brier difference (bootstrap over customers).
//
// - churn given a failed renewal: P(the rescue is lost) for each held-out failed renewal; baselines:
//   the base rate and the loss rate per decline code;
// - churn this month: predictChurn (what /api/predict/churn answers) for each held-out customer still
//   subscribed at the start of each month after the first; label: lost within that month; baseline:
//   the monthly base rate;
// - risk: predictRisk (what /api/predict/risk answers; riskScore / 100 as P(decline)) before every
//   charge from the card's earlier attempts, with the shipped retry-timing prior; baselines: the
//   decline base rate and the decline rate per situation (a renewal's first charge, or a retry after
//   each decline code).

import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { fitMonthModel, PRIOR_MONTH_MODEL, type MonthModel } from '../src/predict/churn-month.ts';
import { churnExamples, churnState, fitLossModel, lossProbability, predictChurn, PRIOR_LOSS_MODEL, type ChurnModel, type LossModel } from '../src/predict/churn.ts';
import { evaluate, type Evaluation } from '../src/predict/metrics.ts';
import { retryScorer } from '../src/predict/retry-model.ts';
import { trainRiskModel, type RiskExample, type RiskModel } from '../src/predict/risk-model.ts';
import { predictRisk, PRIOR_RISK_MODEL, riskSituation } from '../src/predict/risk.ts';
import { PRIOR_RETRY_MODEL } from '../src/predict/scorers.ts';
import { customerMonths, paymentsAsOf, RETRY_DAYS, rescuesAsOf, simulateCustomers, type SimAttempt, type SimCustomer } from './models-sim.ts';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '10000' }, months: { type: 'string', default: '12' }, 'write-priors': { type: 'boolean', default: false } } });
const CUSTOMERS = Number(values.customers);
const MONTHS = Number(values.months);
const score = retryScorer(PRIOR_RETRY_MODEL);

const t0 = performance.now();
const train = simulateCustomers('models-train', CUSTOMERS, MONTHS);
const heldOut = simulateCustomers('models-heldout', CUSTOMERS, MONTHS);
const simulated = performance.now() - t0;

// --- Fitting (what an account's own data, or the shipped prior, would give). ---

const byCustomer = (cs: readonly SimCustomer[]) => new Map(cs.map((c) => [c.token, c.rescues]));
const loss = fitLossModel(churnExamples(byCustomer(train)));

function monthState(c: SimCustomer, startMs: number, model: LossModel) {
  const { payments, failed } = paymentsAsOf(c, startMs);
  return churnState({ rescues: rescuesAsOf(c, startMs), payments, failedPayments: failed, typicalAmount: c.amount }, model).state;
}
const month = fitMonthModel(customerMonths(train, MONTHS).map(({ c, startMs, y }) => ({ state: monthState(c, startMs, loss), y, group: c.token })));

function riskExamples(cs: readonly SimCustomer[]): RiskExample[] {
  const out: RiskExample[] = [];
  for (const c of cs) c.attempts.forEach((a, i) => {
    const s = riskSituation({ brand: c.brand, paymentMethodType: 'card', history: c.attempts.slice(0, i), amount: a.amount, now: a.at, timezone: c.timezone, score });
    if (s) out.push({ situation: s.situation, y: a.status === 'failed' ? 1 : 0, group: c.token });
  });
  return out;
}
const risk = trainRiskModel(riskExamples(train));
const fitted = performance.now() - t0 - simulated;

const shipped = JSON.stringify([PRIOR_LOSS_MODEL.weights, PRIOR_LOSS_MODEL.platt, PRIOR_MONTH_MODEL, PRIOR_RISK_MODEL.weights, PRIOR_RISK_MODEL.platt]) === JSON.stringify([loss.weights, loss.platt, month, risk.weights, risk.platt]);
if (values['write-priors']) {
  writeFileSync(new URL('../src/predict/prior-churn.json', import.meta.url), `${JSON.stringify({ ...loss, month, trainedOn: `sandbox card network, ${CUSTOMERS} customers × ${MONTHS} months (models-train)` }, null, 1)}\n`);
  writeFileSync(new URL('../src/predict/prior-risk.json', import.meta.url), `${JSON.stringify(risk, null, 1)}\n`);
}

// --- Scoring the held-out customers. ---

interface Row { name: string; p: number[]; e?: Evaluation; baseline: boolean }
interface Table { title: string; y: number[]; groups: number[]; rows: Row[] }
const tables: Table[] = [];
const mean = (y: readonly number[]) => y.reduce((a, b) => a + b, 0) / Math.max(1, y.length);
const rateTable = <K>(pairs: Iterable<[K, number]>) => {
  const m = new Map<K, { n: number; s: number }>();
  for (const [k, y] of pairs) {
    const e = m.get(k) ?? { n: 0, s: 0 };
    e.n++;
    e.s += y;
    m.set(k, e);
  }
  return m;
};
const rateOf = <K>(t: Map<K, { n: number; s: number }>, k: K, fallback: number) => {
  const e = t.get(k);
  return e && e.n >= 20 ? e.s / e.n : fallback;
};
const customerIndex = new Map(heldOut.map((c, i) => [c.token, i]));

// Churn | failed renewal.
{
  const test = churnExamples(byCustomer(heldOut));
  const trainEx = churnExamples(byCustomer(train));
  const base = mean(trainEx.y);
  const byCode = rateTable(train.flatMap((c) => c.rescues.map((r) => [r.declineCode, r.outcome === 'lost' ? 1 : 0] as [string | null, number])));
  const codes = heldOut.flatMap((c) => c.rescues.map((r) => r.declineCode));
  tables.push({
    title: 'churn given a failed renewal', y: test.y, groups: test.customer.map((c) => customerIndex.get(c)!),
    rows: [
      { name: 'loss model (churn.ts)', p: test.X.map((x) => lossProbability(loss, x)), baseline: false },
      { name: 'baseline: base rate', p: test.y.map(() => base), baseline: true },
      { name: 'baseline: loss rate per decline code', p: codes.map((k) => rateOf(byCode, k, base)), baseline: true },
    ],
  });
}

// Churn this month.
{
  const months = customerMonths(heldOut, MONTHS);
  const base = mean(customerMonths(train, MONTHS).map((m) => m.y));
  const api = (model: ChurnModel) => months.map(({ c, startMs }) => {
    const { payments, failed } = paymentsAsOf(c, startMs);
    return predictChurn({ rescues: rescuesAsOf(c, startMs), payments, failedPayments: failed, typicalAmount: c.amount, model }).churnProbability;
  });
  const model = (l: LossModel, m: MonthModel, source: 'account' | 'prior'): ChurnModel => ({ ...l, month: m, source, examples: 0 });
  tables.push({
    title: 'churn this month', y: months.map((m) => m.y), groups: months.map((m) => customerIndex.get(m.c.token)!),
    rows: [
      { name: 'predictChurn (/api/predict/churn)', p: api(model(loss, month, 'account')), baseline: false },
      { name: 'baseline: monthly base rate', p: months.map(() => base), baseline: true },
    ],
  });
}

// Risk: P(the next charge declines) before every charge.
{
  const situation = (a: SimAttempt) => (a.number === 1 ? 'renewal' : `retry after ${a.prevCode}`);
  const trainAttempts = train.flatMap((c) => c.attempts);
  const base = mean(trainAttempts.map((a) => (a.status === 'failed' ? 1 : 0)));
  const bySituation = rateTable(trainAttempts.map((a) => [situation(a), a.status === 'failed' ? 1 : 0] as [string, number]));
  const y: number[] = [];
  const groups: number[] = [];
  const sit: number[] = [];
  const scoreWith = (model: RiskModel) => heldOut.flatMap((c) => c.attempts.map((a, i) => predictRisk({ brand: c.brand, paymentMethodType: 'card', history: c.attempts.slice(0, i), amount: a.amount, now: a.at, timezone: c.timezone, score, model }).riskScore / 100));
  heldOut.forEach((c, ci) => c.attempts.forEach((a) => {
    y.push(a.status === 'failed' ? 1 : 0);
    groups.push(ci);
    sit.push(rateOf(bySituation, situation(a), base));
  }));
  tables.push({
    title: 'risk (P decline)', y, groups,
    rows: [
      { name: 'predictRisk (/api/predict/risk) score / 100', p: scoreWith(risk), baseline: false },
      { name: 'baseline: decline base rate', p: y.map(() => base), baseline: true },
      { name: 'baseline: decline rate per situation', p: sit, baseline: true },
    ],
  });
}

/** 95% interval of mean(Brier(a) − Brier(b)), resampling customers (their rows move together). */
function brierDiffInterval(a: readonly number[], b: readonly number[], y: readonly number[], groups: readonly number[], reps = 200): [number, number] {
  const per = new Float64Array(heldOut.length);
  const count = new Float64Array(heldOut.length);
  for (let i = 0; i < y.length; i++) {
    per[groups[i]!]! += (a[i]! - y[i]!) ** 2 - (b[i]! - y[i]!) ** 2;
    count[groups[i]!]!++;
  }
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  const diffs: number[] = [];
  for (let r = 0; r < reps; r++) {
    let s = 0;
    let n = 0;
    for (let k = 0; k < per.length; k++) {
      const g = Math.floor(rnd() * per.length);
      s += per[g]!;
      n += count[g]!;
    }
    diffs.push(s / Math.max(1, n));
  }
  diffs.sort((p, q) => p - q);
  return [diffs[Math.floor(reps * 0.025)]!, diffs[Math.ceil(reps * 0.975) - 1]!];
}

const elapsed = (performance.now() - t0) / 1000;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`Model quality on held-out generated customers: ${CUSTOMERS} training + ${CUSTOMERS} held-out customers × up to ${MONTHS} months (sandbox card network, retries on days ${RETRY_DAYS.join(', ')}, a lost rescue ends the subscription)`);
console.log(`${process.platform} ${process.arch}, ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.versions.node}; simulated in ${(simulated / 1000).toFixed(1)} s, fitted in ${(fitted / 1000).toFixed(1)} s, total ${elapsed.toFixed(1)} s`);
console.log(shipped || values['write-priors'] ? 'The models scored are the priors shipped in src/predict/prior-churn.json and prior-risk.json (fitted on these training customers).' : 'The models scored were fitted on these training customers; they differ from the shipped priors (fitted with the default --customers and --months).');
console.log('');
console.log('| prediction | model | n | positives | ROC AUC | Brier | calibration error |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const t of tables) for (const r of t.rows) {
  r.e = evaluate(r.p, t.y);
  console.log(`| ${t.title} | ${r.name} | ${r.e.n} | ${(100 * r.e.positives / r.e.n).toFixed(1)}% | ${r.e.auc.toFixed(3)} | ${r.e.brier.toFixed(4)} | ${r.e.calibrationError.toFixed(3)} |`);
}
console.log('');
console.log('Against the best baseline (lowest Brier); Brier skill = 1 − Brier / Brier of the base rate:');
console.log('');
console.log('| prediction | model | baseline | AUC − baseline | Brier ratio (model / baseline) | 95% interval of Brier difference | Brier skill (model / baseline) | calibration error (model / baseline) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const t of tables) {
  const baselines = t.rows.filter((r) => r.baseline);
  const best = baselines.reduce((a, b) => (b.e!.brier < a.e!.brier ? b : a));
  const rate = baselines[0]!.e!.brier;
  for (const r of t.rows.filter((x) => !x.baseline)) {
    const [lo, hi] = brierDiffInterval(r.p, best.p, t.y, t.groups);
    console.log(`| ${t.title} | ${r.name} | ${best.name.replace('baseline: ', '')} | ${(r.e!.auc - best.e!.auc >= 0 ? '+' : '') + (r.e!.auc - best.e!.auc).toFixed(3)} | ${(r.e!.brier / best.e!.brier).toFixed(3)} | [${lo.toExponential(1)}, ${hi.toExponential(1)}] | ${(1 - r.e!.brier / rate).toFixed(3)} / ${(1 - best.e!.brier / rate).toFixed(3)} | ${r.e!.calibrationError.toFixed(3)} / ${best.e!.calibrationError.toFixed(3)} |`);
  }
}
