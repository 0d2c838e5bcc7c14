// Model quality of churn and risk on held-out generated customers (issue 5).
//   npm run bench:models [-- --customers 10000 --months 12]
//
// No server: customers of the sandbox card network (`pm_sim_*`, src/gateways/sandbox/population.ts)
// renew monthly for `months`; a renewal whose first charge declines is retried on fixed days
// [1, 3, 5, 7] (4 retries in 14 days) until it succeeds — a hard decline is not retried. Two disjoint
// populations (different seeds): the training customers fit the churn model and the baselines, the
// held-out customers are scored. Prints ROC AUC, Brier score and calibration error (10 bins) of:
//
// - churn given a failed renewal: P(the rescue is lost) for each held-out failed renewal, from the churn
//   model (src/predict/churn.ts, fitted on the training customers' rescues as an account's own model
//   would be), and the hand-set prior, against the base rate and the loss rate per decline code;
// - churn this month: predictChurn (what /api/predict/churn answers) for each held-out customer at the
//   start of each month after the first, from its history until then, against the monthly base rate;
//   label: a renewal that month ended lost;
// - risk: predictRisk (what /api/predict/risk answers; score / 100 as P(decline)) before every charge
//   of a held-out customer, from the card's earlier attempts, with the shipped retry-timing prior,
//   against the decline base rate and the decline rate per situation (a renewal's first charge, or a
//   retry after the decline code of the previous attempt).

import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { classifyDecline } from '../src/domain/decline-taxonomy.ts';
import type { CardBrand } from '../src/domain/decline-types.ts';
import { sandboxCharge } from '../src/gateways/sandbox/network.ts';
import { generatePopulation, parseSimToken, simulatedProfile } from '../src/gateways/sandbox/population.ts';
import { churnExamples, predictChurn, PRIOR_CHURN_WEIGHTS, trainChurn, type RescueHistoryItem } from '../src/predict/churn.ts';
import { dot, sigmoid } from '../src/predict/logistic.ts';
import { evaluate, type Evaluation } from '../src/predict/metrics.ts';
import { retryScorer } from '../src/predict/retry-model.ts';
import { predictRisk, type CardAttempt } from '../src/predict/risk.ts';
import { PRIOR_RETRY_MODEL } from '../src/predict/scorers.ts';
import { amountOf, timezoneForOffset } from './sandbox-examples.ts';

const DAY = 86_400_000;
const MIN = 60_000;
const RETRY_DAYS = [1, 3, 5, 7];

const { values } = parseArgs({ options: { customers: { type: 'string', default: '10000' }, months: { type: 'string', default: '12' } } });
const CUSTOMERS = Number(values.customers);
const MONTHS = Number(values.months);
const START = Date.parse('2026-01-05T15:00:00Z');

interface Attempt extends CardAttempt { /** The decline of the attempt before it (retries). */ prevCode: string | null }
interface Customer { token: string; timezone: string; brand: string; amount: number; attempts: Attempt[]; rescues: RescueHistoryItem[]; renewals: { month: number; at: number; failed: boolean; lost: boolean }[] }

function simulate(seed: string): Customer[] {
  const out: Customer[] = [];
  for (const token of generatePopulation(CUSTOMERS, seed)) {
    const profile = simulatedProfile(parseSimToken(token)!.seed);
    const c: Customer = { token, timezone: timezoneForOffset(profile.timezoneOffsetMinutes), brand: profile.brand, amount: amountOf(profile.seed), attempts: [], rescues: [], renewals: [] };
    const renewalDay = out.length % 28;
    for (let m = 0; m < MONTHS; m++) {
      const at = START + (m * 30 + renewalDay) * DAY + (out.length % 240) * MIN;
      const first = sandboxCharge({ token, amount: c.amount, currency: 'USD', at: new Date(at), attemptKey: `${token}|${m}|0` });
      if (first.status === 'succeeded') {
        c.attempts.push({ at: new Date(at), status: 'succeeded', number: 1, amount: c.amount, declineCode: null, declineCategory: null, adviceCode: null, prevCode: null });
        c.renewals.push({ month: m, at, failed: false, lost: false });
        continue;
      }
      const info = (code: string, advice: string | null) => classifyDecline({ code, adviceCode: advice, brand: profile.brand as CardBrand, count: false });
      const d0 = info(first.declineCode, first.adviceCode ?? null);
      c.attempts.push({ at: new Date(at), status: 'failed', number: 1, amount: c.amount, declineCode: d0.code, declineCategory: d0.category, adviceCode: first.adviceCode ?? null, prevCode: null });
      let recovered = false;
      let endedAt = at;
      let prevCode = d0.code;
      if (d0.category !== 'hard') {
        for (const [k, days] of RETRY_DAYS.entries()) {
          const t = at + days * DAY;
          const r = sandboxCharge({ token, amount: c.amount, currency: 'USD', at: new Date(t), attemptKey: `${token}|${m}|${k + 1}`, firstFailureAt: new Date(at), retryNumber: k + 1 });
          endedAt = t;
          if (r.status === 'succeeded') {
            c.attempts.push({ at: new Date(t), status: 'succeeded', number: k + 2, amount: c.amount, declineCode: null, declineCategory: null, adviceCode: null, prevCode });
            recovered = true;
            break;
          }
          const d = info(r.declineCode, r.adviceCode ?? null);
          c.attempts.push({ at: new Date(t), status: 'failed', number: k + 2, amount: c.amount, declineCode: d.code, declineCategory: d.category, adviceCode: r.adviceCode ?? null, prevCode });
          prevCode = d.code;
        }
      }
      c.rescues.push({ startedAt: new Date(at), outcome: recovered ? 'kept' : 'lost', endedAt: new Date(endedAt), declineCategory: d0.category, declineCode: d0.code, amount: c.amount });
      c.renewals.push({ month: m, at, failed: true, lost: !recovered });
    }
    out.push(c);
  }
  return out;
}

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
const mean = (y: readonly number[]) => y.reduce((a, b) => a + b, 0) / Math.max(1, y.length);

const t0 = performance.now();
const train = simulate('models-train');
const heldOut = simulate('models-heldout');
const simulated = performance.now() - t0;

const rows: { table: string; name: string; e: Evaluation }[] = [];

// Churn | failed renewal.
{
  const byCustomer = (cs: Customer[]) => new Map(cs.map((c) => [c.token, c.rescues]));
  const model = trainChurn(byCustomer(train));
  const trainEx = churnExamples(byCustomer(train));
  const test = churnExamples(byCustomer(heldOut));
  const items = heldOut.flatMap((c) => c.rescues);
  const base = mean(trainEx.y);
  const byCode = rateTable(train.flatMap((c) => c.rescues.map((r) => [r.declineCode, r.outcome === 'lost' ? 1 : 0] as [string | null, number])));
  // churnExamples keeps each customer's rescues in time order; so does the flatMap (one rescue per month).
  const codes = heldOut.flatMap((c) => [...c.rescues].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime()).map((r) => r.declineCode));
  if (codes.length !== test.y.length || items.length !== test.y.length) throw new Error('churn examples out of step');
  rows.push({ table: 'churn given a failed renewal', name: `churn model (${model.source}, ${model.examples} training rescues)`, e: evaluate(test.X.map((x) => sigmoid(dot(model.weights, x))), test.y) });
  rows.push({ table: 'churn given a failed renewal', name: 'churn hand-set prior', e: evaluate(test.X.map((x) => sigmoid(dot(PRIOR_CHURN_WEIGHTS, x))), test.y) });
  rows.push({ table: 'churn given a failed renewal', name: 'baseline: base rate', e: evaluate(test.y.map(() => base), test.y) });
  rows.push({ table: 'churn given a failed renewal', name: 'baseline: loss rate per decline code', e: evaluate(codes.map((k) => rateOf(byCode, k, base)), test.y) });

  // Churn this month, per customer-month, from the history before the month began.
  const monthly = (cs: Customer[], score: (c: Customer, m: number, monthStart: number) => number) => {
    const p: number[] = [];
    const y: number[] = [];
    for (const c of cs) for (let m = 1; m < MONTHS; m++) {
      const monthStart = START + m * 30 * DAY;
      p.push(score(c, m, monthStart));
      y.push(c.renewals.some((r) => r.month === m && r.lost) ? 1 : 0);
    }
    return { p, y };
  };
  const apiScore = (c: Customer, m: number, monthStart: number) => {
    const before = c.rescues.filter((r) => r.startedAt.getTime() < monthStart).map((r) => (r.endedAt!.getTime() < monthStart ? r : { ...r, outcome: null, endedAt: null }));
    const renewals = c.renewals.filter((r) => r.at < monthStart);
    return predictChurn({ rescues: before, payments: renewals.length, failedPayments: renewals.filter((r) => r.failed).length, typicalAmount: c.amount, model }).churnProbability;
  };
  const trainMonthly = monthly(train, () => 0);
  const monthlyBase = mean(trainMonthly.y);
  const api = monthly(heldOut, apiScore);
  rows.push({ table: 'churn this month', name: 'predictChurn (/api/predict/churn)', e: evaluate(api.p, api.y) });
  rows.push({ table: 'churn this month', name: 'baseline: monthly base rate', e: evaluate(api.y.map(() => monthlyBase), api.y) });
}

// Risk: P(the next charge declines) before every charge.
{
  const score = retryScorer(PRIOR_RETRY_MODEL);
  const situation = (a: Attempt) => (a.number === 1 ? 'renewal' : `retry after ${a.prevCode}`);
  const trainAttempts = train.flatMap((c) => c.attempts);
  const base = mean(trainAttempts.map((a) => (a.status === 'failed' ? 1 : 0)));
  const bySituation = rateTable(trainAttempts.map((a) => [situation(a), a.status === 'failed' ? 1 : 0] as [string, number]));
  const p: number[] = [];
  const pSit: number[] = [];
  const y: number[] = [];
  for (const c of heldOut) {
    c.attempts.forEach((a, i) => {
      const r = predictRisk({ brand: c.brand, paymentMethodType: 'card', history: c.attempts.slice(0, i), amount: a.amount, now: a.at, timezone: c.timezone, score });
      p.push(r.riskScore / 100);
      pSit.push(rateOf(bySituation, situation(a), base));
      y.push(a.status === 'failed' ? 1 : 0);
    });
  }
  rows.push({ table: 'risk (P decline)', name: 'predictRisk (/api/predict/risk) score / 100', e: evaluate(p, y) });
  rows.push({ table: 'risk (P decline)', name: 'baseline: decline base rate', e: evaluate(y.map(() => base), y) });
  rows.push({ table: 'risk (P decline)', name: 'baseline: decline rate per situation', e: evaluate(pSit, y) });
}

const elapsed = (performance.now() - t0) / 1000;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`Model quality on held-out generated customers: ${CUSTOMERS} training + ${CUSTOMERS} held-out customers × ${MONTHS} months (sandbox card network, retries on days ${RETRY_DAYS.join(', ')})`);
console.log(`${process.platform} ${process.arch}, ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.versions.node}; simulated in ${(simulated / 1000).toFixed(1)} s, total ${elapsed.toFixed(1)} s`);
console.log('');
console.log('| prediction | model | n | positives | ROC AUC | Brier | calibration error |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.table} | ${r.name} | ${r.e.n} | ${(100 * r.e.positives / r.e.n).toFixed(1)}% | ${r.e.auc.toFixed(3)} | ${r.e.brier.toFixed(4)} | ${r.e.calibrationError.toFixed(3)} |`);
