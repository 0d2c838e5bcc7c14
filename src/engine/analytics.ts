import { AT_RISK_LIMIT, byDeclineCategory, percentOf } from '../domain/analytics.ts';
import { predictChurn, trainChurn } from '../predict/churn.ts';
import { attemptsByNumber, customersWithRescues, daysToRecover, deliveriesByStatus, failedByDeclineCode, mrrRecoveredByMonth, paymentFactsByCustomer, type AnalyticsWindow } from '../store/analytics.ts';
import type { Db } from '../store/db.ts';
import type { Scope } from '../store/payments.ts';
import { rescuesByCustomer } from '../store/predictions.ts';

// The analytics half of GET /api/dashboard (the page /dashboard/analytics reads the same answer):
// each figure from one aggregate query, defined in src/domain/analytics.ts.

export async function analyticsFigures(db: Db, scope: Scope, w: AnalyticsWindow) {
  const [mrr, byAttempt, byCode, days, atRisk, webhooks] = await Promise.all([
    mrrRecoveredByMonth(db, scope, w),
    attemptsByNumber(db, scope, w),
    failedByDeclineCode(db, scope, w),
    daysToRecover(db, scope, w),
    customersAtRisk(db, scope, w),
    deliveriesByStatus(db, scope, w),
  ]);
  return {
    currency: w.currency,
    mrrRecovered: mrr.map((m) => ({ month: m.month.toISOString().slice(0, 7), currency: m.currency, recoveredCount: m.recoveredCount, recoveredRevenue: m.recoveredAmount })),
    retrySuccessByAttempt: byAttempt,
    recoveryByDeclineCode: byCode,
    recoveryByDeclineCategory: byDeclineCategory(byCode),
    recoveredInPeriod: days.recovered,
    averageDaysToRecover: days.averageDays,
    medianDaysToRecover: days.medianDays,
    customersAtRisk: atRisk,
    webhookHealth: { ...webhooks, successRate: percentOf(webhooks.succeeded, webhooks.succeeded + webhooks.failed) },
  };
}

/** The churn model of POST /api/predict/churn, trained once on the account and applied to each candidate. */
async function customersAtRisk(db: Db, scope: Scope, w: AnalyticsWindow) {
  const candidates = await customersWithRescues(db, scope, w, AT_RISK_LIMIT);
  if (candidates.length === 0) return [];
  const [history, facts] = await Promise.all([rescuesByCustomer(db, scope), paymentFactsByCustomer(db, scope, candidates.map((c) => c.id))]);
  const model = trainChurn(history);
  return candidates
    .map((c) => {
      const f = facts.get(c.id) ?? { payments: 0, failed: 0, typicalAmount: 5000 };
      const p = predictChurn({ rescues: history.get(c.id) ?? [], payments: f.payments, failedPayments: f.failed, typicalAmount: f.typicalAmount, model });
      return { customer: c.id, email: c.email, name: c.name, activeRescues: c.activeRescues, churnScore: p.score, churnProbability: p.churnProbability, topDriver: p.drivers[0]?.description ?? null };
    })
    .sort((a, b) => b.churnScore - a.churnScore || a.customer.localeCompare(b.customer));
}
