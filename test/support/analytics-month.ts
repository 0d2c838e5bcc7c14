import { expect } from 'vitest';
import { advanceClock, type Client } from './harness.ts';

// A known month for the analytics tests: four customers on a test clock, five payments in March 2026,
// and the clock moved to the 30th so every rescue plays out through the API with the sandbox gateway.
// `figuresFromPayments` computes what the dashboard must show from the payments alone (their
// attempts, outcomes and times as GET /v2/payments shows them), never from the dashboard's queries.

export const T0 = Date.UTC(2026, 2, 2, 14, 0, 0);
export const END = Date.UTC(2026, 2, 30, 14, 0, 0);
export const PERIOD = { from: '2026-03-01', to: '2026-04-01' };
const DAY = 86_400_000;
const unix = (ms: number) => Math.floor(ms / 1000);

export interface Month {
  clock: string;
  customers: { ada: string; bob: string; cy: string; dee: string };
  payments: string[];
}

export async function playOutMonth(api: Client): Promise<Month> {
  const clock = (await api.post('/v2/test_clocks', { frozen_time: unix(T0), name: 'March' })).body.id as string;
  const customer = async (email: string, name: string) => {
    const res = await api.post('/v2/customers', { email, name, timezone: 'UTC', test_clock: clock });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const customers = {
    ada: await customer('ada@example.com', 'Ada Lovelace'),
    bob: await customer('bob@example.com', 'Bob Marley'),
    cy: await customer('cy@example.com', 'Cy Twombly'),
    dee: await customer('dee@example.com', 'Dee Dee Ramone'),
  };
  const rescue = { enabled: true, max_retries: 4, retry_window_days: 14 };
  const pay = async (customerId: string, amount: number, payment_method: string) => {
    const res = await api.post('/v2/payments', { amount, currency: 'USD', customer: customerId, payment_method, off_session: true, auto_rescue: rescue, metadata: { subscription_id: `sub_${amount}` } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const payments = [
    await pay(customers.ada, 4999, `pm_card_insufficientFunds_until_${unix(T0 + 5 * DAY)}`),
    await pay(customers.bob, 2500, 'pm_card_visa'),
    await pay(customers.cy, 1500, 'pm_card_visa_chargeDeclinedLostCard'),
    await pay(customers.dee, 3000, 'pm_card_visa_chargeDeclinedInsufficientFunds'),
    await pay(customers.bob, 2000, `pm_card_processingError_until_${unix(T0 + 2 * DAY)}`),
  ];
  await advanceClock(api, clock, new Date(END));
  return { clock, customers, payments };
}

/** Every payment of the account (a few pages at most). */
export async function allPayments(api: Client): Promise<any[]> {
  const out: any[] = [];
  let after = '';
  for (;;) {
    const page = (await api.get(`/v2/payments?limit=100${after ? `&starting_after=${after}` : ''}`)).body;
    out.push(...page.data);
    if (!page.has_more) return out;
    after = page.data.at(-1).id;
  }
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 100 : null);
const round2 = (x: number) => Math.round(x * 100) / 100;

/** The figures a merchant would work out by hand from the payments of the month (all in USD here). */
export function figuresFromPayments(payments: any[]) {
  const failedFirst = payments.filter((p) => p.rescue_history[0]?.result === 'failed');
  const recovered = failedFirst.filter((p) => p.auto_rescue.status === 'recovered');
  const sum = (list: any[]) => list.reduce((s, p) => s + p.amount, 0);
  const byAttempt = new Map<number, { made: number; succeeded: number }>();
  for (const p of payments) {
    for (const h of p.rescue_history) {
      const row = byAttempt.get(h.attempt) ?? { made: 0, succeeded: 0 };
      row.made++;
      if (h.result === 'succeeded') row.succeeded++;
      byAttempt.set(h.attempt, row);
    }
  }
  const byCode = new Map<string, { failed: number; recovered: number }>();
  for (const p of failedFirst) {
    const code = p.rescue_history[0].failure_code;
    const row = byCode.get(code) ?? { failed: 0, recovered: 0 };
    row.failed++;
    if (p.auto_rescue.status === 'recovered') row.recovered++;
    byCode.set(code, row);
  }
  const days = recovered.map((p) => (Date.parse(p.auto_rescue.recovered_at) - Date.parse(p.rescue_history[0].attempted_at)) / DAY).sort((a, b) => a - b);
  const mid = days.length / 2;
  const median = days.length === 0 ? null : days.length % 2 ? days[Math.floor(mid)]! : (days[mid - 1]! + days[mid]!) / 2;
  return {
    failedCount: failedFirst.length,
    recoveredCount: recovered.length,
    recoveredRevenue: sum(recovered),
    recoveryRate: pct(recovered.length, failedFirst.length),
    recoveryRateByAmount: pct(sum(recovered), sum(failedFirst)),
    retrySuccessByAttempt: [...byAttempt.entries()].sort(([a], [b]) => a - b).map(([attempt, r]) => ({ attempt, made: r.made, succeeded: r.succeeded, successRate: pct(r.succeeded, r.made) })),
    recoveryByDeclineCode: Object.fromEntries([...byCode.entries()].map(([code, r]) => [code, { failed: r.failed, recovered: r.recovered, recoveryRate: pct(r.recovered, r.failed) }])),
    averageDaysToRecover: days.length ? round2(days.reduce((s, d) => s + d, 0) / days.length) : null,
    medianDaysToRecover: median === null ? null : round2(median),
  };
}
