import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardResponse } from '../../src/api/dashboard-schema.ts';
import { allPayments, figuresFromPayments, PERIOD, playOutMonth, type Month } from '../support/analytics-month.ts';
import { expectError } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';

// GET /api/dashboard's analytics on a month played out on a test clock with the sandbox gateway:
// each figure against what the payments themselves say, on both engines.

describe.each(ENGINES)('GET /api/dashboard analytics (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  let month: Month;
  let payments: any[];
  let body: any;

  beforeAll(async () => {
    t = await startTestRescue({ engine });
    api = t.client((await t.signup()).testKey);
    month = await playOutMonth(api);
    payments = await allPayments(api);
    const res = await api.get(`/api/dashboard?from=${PERIOD.from}&to=${PERIOD.to}&currency=usd`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    body = res.body;
  }, 120_000);
  afterAll(() => t?.close());

  it('played out as planned: two recovered, one exhausted, one hard decline, one paid at once', () => {
    const status = (i: number) => payments.find((p) => p.id === month.payments[i])!.auto_rescue.status;
    expect([0, 1, 2, 3, 4].map(status)).toEqual(['recovered', 'not_needed', 'not_retryable', 'exhausted', 'recovered']);
  });

  it('answers in the documented shape, for the period and currency asked', () => {
    expect(() => DashboardResponse.parse(body)).not.toThrow();
    expect(body).toMatchObject({ currency: 'USD', lift: { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' } });
  });

  it('recovery rate by count and by amount, and MRR recovered by month, as the payments say', () => {
    const want = figuresFromPayments(payments);
    expect(want).toMatchObject({ failedCount: 4, recoveredCount: 2, recoveredRevenue: 6999 });
    const usd = body.lift.totals.find((x: any) => x.currency === 'USD');
    expect(usd).toMatchObject({ failedCount: want.failedCount, failedRecoveredCount: want.recoveredCount, recoveryRate: want.recoveryRate, recoveryRateByAmount: want.recoveryRateByAmount });
    expect(usd.recoveryRate).toBe(50);
    expect(usd.recoveryRateByAmount).toBe(60.87); // 6999 of 11499
    expect(body.mrrRecovered).toEqual([{ month: '2026-03', currency: 'USD', recoveredCount: 2, recoveredRevenue: 6999 }]);
  });

  it('retry success by attempt number, recovery by decline code and category', () => {
    const want = figuresFromPayments(payments);
    expect(body.retrySuccessByAttempt).toEqual(want.retrySuccessByAttempt);
    expect(body.retrySuccessByAttempt[0]).toEqual({ attempt: 1, made: 5, succeeded: 1, successRate: 20 });
    const byCode = Object.fromEntries(body.recoveryByDeclineCode.map((r: any) => [r.declineCode, { failed: r.failed, recovered: r.recovered, recoveryRate: r.recoveryRate }]));
    expect(byCode).toEqual(want.recoveryByDeclineCode);
    expect(byCode['lost_card']).toEqual({ failed: 1, recovered: 0, recoveryRate: 0 });
    const categories = Object.fromEntries(body.recoveryByDeclineCategory.map((r: any) => [r.declineCategory, r.failed]));
    expect(categories['hard']).toBe(1);
    expect(Object.values(categories).reduce((s: number, n: any) => s + n, 0)).toBe(4);
  });

  it('average and median days to recover', () => {
    const want = figuresFromPayments(payments);
    expect(body.averageDaysToRecover).toBe(want.averageDaysToRecover);
    expect(body.medianDaysToRecover).toBe(want.medianDaysToRecover);
    expect(body.averageDaysToRecover).toBeGreaterThan(2);
    expect(body.averageDaysToRecover).toBeLessThan(14);
  });

  it('customers at risk carry the churn score POST /api/predict/churn gives each of them, highest first', async () => {
    const ids = body.customersAtRisk.map((c: any) => c.customer).sort();
    // Cy's card was refused for good at once: no rescue, so not in the table.
    expect(ids).toEqual([month.customers.ada, month.customers.bob, month.customers.dee].sort());
    for (const c of body.customersAtRisk) {
      const own = (await api.post('/api/predict/churn', { customer: c.customer })).body.prediction;
      expect(c.churnScore).toBe(own.score);
    }
    const scores = body.customersAtRisk.map((c: any) => c.churnScore);
    expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
    expect(body.customersAtRisk.find((c: any) => c.customer === month.customers.ada)).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace' });
  });

  it('another currency or period has none of it; a bad currency is a 400 naming it', async () => {
    const eur = (await api.get(`/api/dashboard?from=${PERIOD.from}&to=${PERIOD.to}&currency=EUR`)).body;
    expect(eur).toMatchObject({ mrrRecovered: [], retrySuccessByAttempt: [], recoveryByDeclineCode: [], averageDaysToRecover: null, medianDaysToRecover: null });
    expect(eur.lift.totals).toEqual([]);
    expect(eur.currencies).toEqual(['USD']);
    const feb = (await api.get('/api/dashboard?from=2026-02-01&to=2026-03-01')).body;
    expect(feb).toMatchObject({ mrrRecovered: [], retrySuccessByAttempt: [], currency: null });
    expectError(await api.get('/api/dashboard?currency=XYZ'), 400, { param: 'currency' });
  });

  it('/analytics sends the merchant to the analytics page, keeping the period', async () => {
    for (const [from, to] of [['/analytics', '/dashboard/analytics'], [`/analytics?from=${PERIOD.from}&to=${PERIOD.to}`, `/dashboard/analytics?from=${PERIOD.from}&to=${PERIOD.to}`]] as const) {
      const res = await fetch(t.url + from, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(to);
    }
  });

  it('is documented in the OpenAPI document with its new fields', async () => {
    const doc = (await api.get('/openapi.json')).body;
    const op = doc.paths['/api/dashboard'].get;
    expect(op.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['from', 'to', 'currency']));
    const props = op.responses['200'].content['application/json'].schema.properties;
    for (const k of ['mrrRecovered', 'retrySuccessByAttempt', 'recoveryByDeclineCode', 'averageDaysToRecover', 'medianDaysToRecover', 'customersAtRisk']) expect(props[k], k).toBeDefined();
    expect(props.mrrRecovered.description).toMatch(/^MRR recovered/);
  });
});

describe.each(ENGINES)('GET /api/dashboard webhook health (%s)', (engine) => {
  let t: TestRescue;
  let receiver: Receiver;
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('counts the period\'s deliveries by status as the endpoints\' delivery logs have them', async () => {
    [t, receiver] = await Promise.all([startTestRescue({ engine }), startReceiver()]);
    receiver.on('/down', () => 500);
    const api = t.client((await t.signup()).testKey);
    const ok = (await api.post('/v2/webhook_endpoints', { url: receiver.url('/ok'), enabled_events: ['*'] })).body;
    const down = (await api.post('/v2/webhook_endpoints', { url: receiver.url('/down'), enabled_events: ['payment.rescue_started'] })).body;
    await api.post('/v2/payments', { amount: 4999, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
    // Settled: every delivery to /ok succeeded and the one to /down was tried (it waits for its retry).
    const logs = await eventually(async () => {
      const okLog = (await api.get(`/v2/webhook_endpoints/${ok.id}/deliveries?limit=100`)).body.data;
      const downLog = (await api.get(`/v2/webhook_endpoints/${down.id}/deliveries?limit=100`)).body.data;
      const settled = okLog.length > 0 && okLog.every((d: any) => d.status === 'succeeded') && downLog.length === 1 && downLog[0].attempts >= 1;
      return settled ? [...okLog, ...downLog] : undefined;
    });
    const count = (s: string) => logs.filter((d: any) => d.status === s).length;
    const health = (await api.get('/api/dashboard')).body.webhookHealth;
    expect(health).toEqual({ succeeded: count('succeeded'), failed: count('failed'), pending: count('pending'), successRate: 100, endpoints: 2, disabledEndpoints: 0 });
    expect(health.pending).toBe(1);
    expect(health.succeeded).toBeGreaterThanOrEqual(1);
  });
});
