// The dashboard's figures: what each one counts, in one place. The API documents its fields with these
// sentences (src/api/dashboard-schema.ts) and the analytics page prints them under each figure
// (src/web/dashboard/pages/Analytics.tsx), so the page and `GET /api/dashboard` cannot mean different
// things. Pure: the counting itself is SQL in src/store/analytics.ts and src/store/recoveries.ts.

export const DEFINITIONS = {
  period: 'Every figure covers the period [from, to) in UTC; with currency, only payments in that currency.',
  recoveryRate:
    'Recovery rate by count: of the payments whose first attempt failed in the period, the share paid since (by a retry, a fallback card or a new card). Pending rescues count as not recovered yet.',
  recoveryRateByAmount: 'Recovery rate by amount: the same payments, weighted by their amounts: recovered amount ÷ failed amount.',
  mrrRecovered:
    'MRR recovered: per UTC month and currency, the sum of the amounts of payments whose rescue ended recovered in that month (each recovered renewal counted once, when it was recovered).',
  retrySuccessByAttempt:
    'Retry success by attempt: attempts made in the period, by attempt number (1 is the first charge, 2 the first retry); success rate = succeeded ÷ made.',
  recoveryByDeclineCode:
    'Recovery by decline: the payments whose first attempt failed in the period, grouped by that first decline code (and its category: soft, hard or technical); recovered = paid since.',
  daysToRecover:
    'Days to recover: for rescues that ended recovered in the period, the days from the first failed attempt to the successful one; average and median (the middle value, the mean of the two middle ones for an even count).',
  customersAtRisk:
    'Customers at risk: customers with a rescue still running or one that began in the period, scored by the churn model of POST /api/predict/churn (the chance the customer is lost within 30 days), highest first.',
  webhookHealth:
    'Webhook health: deliveries created in the period, by status; success rate = succeeded ÷ (succeeded + failed), pending ones left out.',
  lift: 'Lift: recovered revenue as a share of revenue paid at the first try, per currency.',
  incrementalRecovery:
    'Control group increment: percentage points the automatic policy recovers over the fixed schedule among finished hand-offs, with its 95% Newcombe interval.',
} as const;

export const AT_RISK_LIMIT = 50;

/** A percentage to two decimals; null when there is nothing to divide by. */
export const percentOf = (part: number, whole: number): number | null => (whole > 0 ? Math.round((part / whole) * 10_000) / 100 : null);

export const roundDays = (days: number | null): number | null => (days === null ? null : Math.round(days * 100) / 100);

export interface DeclineCodeFigures {
  declineCode: string;
  declineCategory: string;
  failed: number;
  recovered: number;
  recoveryRate: number | null;
}

/** The decline-code rows rolled up by category, the same cohort counted the same way. */
export function byDeclineCategory(rows: readonly DeclineCodeFigures[]): { declineCategory: string; failed: number; recovered: number; recoveryRate: number | null }[] {
  const totals = new Map<string, { failed: number; recovered: number }>();
  for (const r of rows) {
    const t = totals.get(r.declineCategory) ?? { failed: 0, recovered: 0 };
    t.failed += r.failed;
    t.recovered += r.recovered;
    totals.set(r.declineCategory, t);
  }
  return [...totals.entries()]
    .map(([declineCategory, t]) => ({ declineCategory, ...t, recoveryRate: percentOf(t.recovered, t.failed) }))
    .sort((a, b) => b.failed - a.failed || a.declineCategory.localeCompare(b.declineCategory));
}
