import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api-assertions.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// The prediction API (seeds 000 and 004): shapes exactly as the seeds show them, 400s naming the
// parameter, and predict.risk.high once per upward crossing of the account's threshold.

let t: TestRescue;
beforeAll(async () => {
  t = await startTestRescue({ engine: 'pglite' });
});
afterAll(() => t.close());

async function account(): Promise<{ api: Client; customer: string }> {
  const keys = await t.signup();
  const api = t.client(keys.testKey);
  const customer = (await api.post('/v2/customers', { timezone: 'America/New_York' })).body.id;
  return { api, customer };
}

const pay = (api: Client, customer: string, pm: string, i: number) =>
  api.post('/v2/payments', { amount: 4999, currency: 'USD', customer, payment_method: pm, off_session: true, auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 }, metadata: { n: String(i) } });

const riskEvents = async (api: Client) => (await api.get('/v2/events?type=predict.risk.high&limit=100')).body.data;

describe('POST /api/predict/risk', () => {
  it('answers the seed shape; a card with no history scores near the 7% network failure rate and records nothing', async () => {
    const { api } = await account();
    const res = await api.post('/api/predict/risk', { paymentMethodToken: 'pm_1234567890', amount: 5000, currency: 'USD' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['prediction', 'success']);
    expect(res.body.success).toBe(true);
    expect(Object.keys(res.body.prediction).sort()).toEqual(['reasoning', 'recommendation', 'riskScore']);
    expect(res.body.prediction.riskScore).toBe(7);
    expect(res.body.prediction.recommendation).toBe('proceed');
    expect(res.body.prediction.reasoning).toMatch(/No history/);
    expect(await riskEvents(api)).toEqual([]);
  });

  it('a card with an unresolved hard decline is blocked and emits predict.risk.high once per crossing', async () => {
    const { api, customer } = await account();
    const pm = 'pm_card_chargeDeclinedStolenCard';
    expect((await pay(api, customer, pm, 1)).status).toBe(201);
    const first = await api.post('/api/predict/risk', { paymentMethodToken: pm, amount: 4999, currency: 'usd' });
    expect(first.status).toBe(200);
    expect(first.body.prediction.riskScore).toBe(95);
    expect(first.body.prediction.recommendation).toBe('block');
    expect(first.body.prediction.reasoning).toMatch(/^Card has 1 prior decline in last 30 days; a hard decline \(stolen_card\)/);
    const again = await api.post('/api/predict/risk', { paymentMethodToken: pm, amount: 4999, currency: 'USD' });
    expect(again.body.prediction.riskScore).toBe(95);
    const events = await riskEvents(api);
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ customerId: customer, paymentMethod: { type: 'card', brand: 'visa', last4: '9979' }, riskScore: 95, threshold: 70, recommendation: 'block', amount: 4999, currency: 'USD' });
    expect(JSON.stringify(events[0])).not.toContain(pm);
  });

  it('concurrent first scores emit one event; falling below the threshold re-arms it', async () => {
    const { api, customer } = await account();
    const pm = 'pm_card_chargeDeclinedLostCard';
    await pay(api, customer, pm, 1);
    const score = () => api.post('/api/predict/risk', { paymentMethodToken: pm, amount: 4999, currency: 'USD' });
    const answers = await Promise.all(Array.from({ length: 5 }, score));
    for (const a of answers) expect(a.body.prediction.riskScore).toBe(95);
    expect(await riskEvents(api)).toHaveLength(1);
    await api.post('/v2/settings/prediction', { risk_threshold: 99 });
    await score(); // 95 < 99: no longer high
    expect(await riskEvents(api)).toHaveLength(1);
    await api.post('/v2/settings/prediction', { risk_threshold: 90 });
    await score(); // crosses again
    await score();
    const events = await riskEvents(api);
    expect(events).toHaveLength(2);
    expect(events.map((e: any) => e.data.threshold).sort()).toEqual([70, 90]);
  });

  it('respects the account threshold: over 95 nothing is emitted', async () => {
    const { api, customer } = await account();
    const set = await api.post('/v2/settings/prediction', { risk_threshold: 96 });
    expect(set.body).toEqual({ object: 'prediction_settings', livemode: false, risk_threshold: 96 });
    expect((await api.get('/v2/settings/prediction')).body.risk_threshold).toBe(96);
    await pay(api, customer, 'pm_card_chargeDeclinedStolenCard', 1);
    expect((await api.post('/api/predict/risk', { paymentMethodToken: 'pm_card_chargeDeclinedStolenCard', amount: 4999, currency: 'USD' })).body.prediction.riskScore).toBe(95);
    expect(await riskEvents(api)).toEqual([]);
    expectError(await api.post('/v2/settings/prediction', { risk_threshold: 101 }), 400, { param: 'risk_threshold' });
  });

  it('a soft decline that just happened scores from the retry model; a card that keeps succeeding scores low', async () => {
    const { api, customer } = await account();
    await pay(api, customer, 'pm_card_chargeDeclinedInsufficientFunds', 1);
    const nsf = (await api.post('/api/predict/risk', { paymentMethodToken: 'pm_card_chargeDeclinedInsufficientFunds', amount: 4999, currency: 'USD' })).body.prediction;
    expect(nsf.riskScore).toBeGreaterThanOrEqual(80);
    expect(nsf.reasoning).toMatch(/insufficient_funds.*retry model/);
    for (let i = 0; i < 5; i++) await pay(api, customer, 'pm_card_visa', i);
    const ok = (await api.post('/api/predict/risk', { paymentMethodToken: 'pm_card_visa', amount: 4999, currency: 'USD' })).body.prediction;
    // Under the network's 7% — by day: the test runs on the wall clock, and in the customer's local
    // night (01:00–04:00 New York) issuers decline ~1.5× as often, which the score reflects.
    expect(ok.riskScore).toBeLessThan(7 * 1.5);
    expect(ok.recommendation).toBe('proceed');
    expect(ok.reasoning).toMatch(/0 of its 5 charges in 90 days declined/);
  });

  it('400s name the parameter', async () => {
    const { api } = await account();
    expectError(await api.post('/api/predict/risk', { amount: 5000, currency: 'USD' }), 400, { param: 'paymentMethodToken' });
    expectError(await api.post('/api/predict/risk', { paymentMethodToken: 'pm_x', amount: -1, currency: 'USD' }), 400, { param: 'amount' });
    expectError(await api.post('/api/predict/risk', { paymentMethodToken: 'pm_x', amount: 10.5, currency: 'USD' }), 400, { param: 'amount' });
    expectError(await api.post('/api/predict/risk', { paymentMethodToken: 'pm_x', amount: 5000, currency: 'XYZ' }), 400, { param: 'currency' });
    expectError(await api.post('/api/predict/risk', { paymentMethodToken: 'pm_x', amount: 5000, currency: 'USD', extra: 1 }), 400, { param: 'extra' });
  });
});

describe('POST /api/predict/retry-time', () => {
  it('recommends a time inside the window with its probability, alternatives and a reason', async () => {
    const { api } = await account();
    const failedAt = '2026-04-06T14:00:00Z';
    const res = await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', failedAt, timezone: 'America/Chicago' });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    const p = res.body.prediction;
    expect(Object.keys(p).sort()).toEqual(['alternatives', 'model', 'probability', 'reasoning', 'recommendedTime', 'schedule', 'value']);
    const at = Date.parse(p.recommendedTime);
    expect(at).toBeGreaterThan(Date.parse(failedAt));
    expect(at).toBeLessThanOrEqual(Date.parse(failedAt) + 14 * 86_400_000);
    expect(p.probability).toBeGreaterThan(0);
    expect(p.probability).toBeLessThan(1);
    expect(p.reasoning).toMatch(/^insufficient funds; .*% predicted$/);
    expect(p.model).toBe('prior');
    expect(p.alternatives.length).toBeGreaterThan(0);
    expect(p.alternatives.length).toBeLessThanOrEqual(3);
    for (const a of p.alternatives) {
      expect(Object.keys(a).sort()).toEqual(['probability', 'time', 'value']);
      expect(Math.abs(Date.parse(a.time) - at)).toBeGreaterThanOrEqual(6 * 3_600_000);
      expect(a.probability).toBeGreaterThanOrEqual(0);
      expect(a.value).toBeLessThanOrEqual(p.value);
    }
    expect(p.schedule.length).toBeLessThanOrEqual(4);
    expect(p.schedule[0]).toEqual({ time: p.recommendedTime, probability: p.probability, reason: p.reasoning });
  });

  it('recommends its best instant: no alternative is worth more, whatever the decline, window or budget', async () => {
    const { api } = await account();
    const failedAt = '2026-04-07T15:00:00Z';
    const cases = [
      ['insufficient_funds', 14, 4], ['insufficient_funds', 30, 8], ['do_not_honor', 14, 4], ['try_again_later', 14, 4], ['exceeds_limit', 14, 1],
      ['network_timeout', 14, 4], ['processing_error', 30, 4], ['generic_decline', 7, 2], ['card_velocity_exceeded', 14, 4],
    ] as const;
    for (const [declineCode, retryWindowDays, maxRetries] of cases) {
      for (const retriesMade of [0, 1]) {
        const res = await api.post('/api/predict/retry-time', { declineCode, amount: 4999, currency: 'USD', failedAt, timezone: 'America/New_York', retryWindowDays, maxRetries: maxRetries + retriesMade, retriesMade });
        expect(res.status).toBe(200);
        const p = res.body.prediction;
        if (p.recommendedTime === null) continue;
        const label = `${declineCode} ${retryWindowDays}d ${maxRetries} retries, ${retriesMade} made`;
        expect(p.schedule[0].time, label).toBe(p.recommendedTime);
        expect(p.value, label).toBeGreaterThan(0);
        for (const a of p.alternatives) {
          expect(a.value, `${label}: ${a.time}`).toBeLessThanOrEqual(p.value);
          // The value is the chance now, worth less with every day, plus what later retries still recover.
          expect(a.value).toBeGreaterThan(-0.02);
        }
        const values = p.alternatives.map((a: any) => a.value);
        expect(values).toEqual([...values].sort((x, y) => y - x));
      }
    }
  });

  it('a generic decline (the seed table leaves it to the model) is retried within the hour, not at the next local midnight', async () => {
    const { api } = await account();
    // Tuesday 11:00 in New York: the next local midnight is 13 h away.
    const failedAt = '2026-04-07T15:00:00Z';
    for (const declineCode of ['generic_decline', 'do_not_honor']) {
      const p = (await api.post('/api/predict/retry-time', { declineCode, amount: 4999, currency: 'USD', failedAt, timezone: 'America/New_York' })).body.prediction;
      const hours = (Date.parse(p.recommendedTime) - Date.parse(failedAt)) / 3_600_000;
      expect(hours, `${declineCode}: ${p.reasoning}`).toBeLessThanOrEqual(1);
      // The rest a day apart (the spacing rule), the budget's four retries inside four days.
      const times = p.schedule.map((s: any) => Date.parse(s.time));
      expect(times).toHaveLength(4);
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(86_400_000);
      expect((times[3] - Date.parse(failedAt)) / 86_400_000).toBeLessThan(4);
    }
  });

  it('accepts the customer (an id or its history inline); its time zone and pay calendar change the answer', async () => {
    const { api } = await account();
    const failedAt = '2026-04-07T15:00:00Z';
    const ask = async (over: Record<string, unknown>) => {
      const res = await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', failedAt, ...over });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.prediction;
    };
    const tokyo = await ask({ customer: { timezone: 'Asia/Tokyo' } });
    const la = await ask({ customer: { timezone: 'America/Los_Angeles' } });
    expect(tokyo.recommendedTime).not.toBe(la.recommendedTime);
    // Every planned instant keeps the customer's own quiet hours (01:00–04:00 local).
    for (const [p, tz] of [[tokyo, 'Asia/Tokyo'], [la, 'America/Los_Angeles']] as const) {
      for (const s of p.schedule) {
        const hour = Number(new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', hourCycle: 'h23' }).format(new Date(s.time)));
        expect(hour >= 1 && hour < 4).toBe(false);
      }
    }
    // A customer of the account by id: its zone, as the same history given inline.
    const stored = (await api.post('/v2/customers', { timezone: 'Asia/Tokyo' })).body.id;
    expect((await ask({ customer: stored })).recommendedTime).toBe(tokyo.recommendedTime);
    // The body's own timezone wins over the customer's.
    expect((await ask({ customer: { timezone: 'Asia/Tokyo' }, timezone: 'America/Los_Angeles' })).recommendedTime).toBe(la.recommendedTime);
    // Recovered payments on the last business day of four months: the customer's pay calendar.
    const monthly = await ask({ customer: { timezone: 'America/New_York', recoveredPayments: ['2025-12-31T15:00:00Z', '2026-01-30T15:00:00Z', '2026-02-27T15:00:00Z', '2026-03-31T14:00:00Z'] } });
    const generic = await ask({ customer: { timezone: 'America/New_York' } });
    expect(monthly.reasoning).toMatch(/this customer/);
    expect(generic.reasoning).not.toMatch(/this customer/);
    expect(monthly.recommendedTime).not.toBe(generic.recommendedTime);
    // Unknown fields are still refused; an unknown customer is a 400 naming it (as /api/predict/churn).
    expectError(await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', customer: { timezone: 'Asia/Tokyo', shoeSize: 9 } }), 400, { param: 'customer[shoeSize]' });
    expectError(await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', customer: { timezone: 'Mars/Base' } }), 400, { param: 'customer[timezone]' });
    expectError(await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', customer: 'cus_nobody' }), 400, { code: 'resource_missing', param: 'customer' });
  });

  it('never recommends retrying a hard decline', async () => {
    const { api } = await account();
    const p = (await api.post('/api/predict/retry-time', { declineCode: 'stolen_card', amount: 4999, currency: 'USD' })).body.prediction;
    expect(p).toMatchObject({ recommendedTime: null, probability: 0, alternatives: [], schedule: [] });
    expect(p.reasoning).toMatch(/hard decline/);
  });

  it('400s name the parameter', async () => {
    const { api } = await account();
    expectError(await api.post('/api/predict/retry-time', { amount: 4999, currency: 'USD' }), 400, { param: 'declineCode' });
    expectError(await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', timezone: 'Mars/Base' }), 400, { param: 'timezone' });
    expectError(await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', maxRetries: 0 }), 400, { param: 'maxRetries' });
    expectError(await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', failedAt: 'yesterday' }), 400, { param: 'failedAt' });
  });
});

describe('POST /api/predict/churn', () => {
  it('a customer whose payment is failing scores higher than one who pays; drivers explain it', async () => {
    const { api, customer } = await account();
    const good = (await api.post('/v2/customers', { timezone: 'America/New_York' })).body.id;
    await pay(api, customer, 'pm_card_chargeDeclinedInsufficientFunds', 1);
    for (let i = 0; i < 3; i++) await pay(api, good, 'pm_card_visa', i);
    const failing = await api.post('/api/predict/churn', { customer });
    expect(failing.status).toBe(200);
    expect(failing.body.success).toBe(true);
    const f = failing.body.prediction;
    expect(Object.keys(f).sort()).toEqual(['churnProbability', 'customer', 'drivers', 'model', 'reasoning', 'score']);
    expect(f.customer).toBe(customer);
    expect(f.score).toBeCloseTo(f.churnProbability * 100, 1);
    expect(f.model.source).toBe('prior');
    expect(f.drivers.length).toBeGreaterThan(0);
    for (const d of f.drivers) expect(Object.keys(d).sort()).toEqual(['description', 'effect', 'feature', 'value']);
    const paying = (await api.post('/api/predict/churn', { customer: good })).body.prediction;
    expect(paying.churnProbability).toBeLessThan(f.churnProbability);
    expect(paying.drivers[0].feature).toBe('monthly_failure_rate');
    expect(paying.reasoning).toMatch(/no payment is failing/);
  });

  it('400s name the parameter', async () => {
    const { api } = await account();
    expectError(await api.post('/api/predict/churn', {}), 400, { param: 'customer' });
    expectError(await api.post('/api/predict/churn', { customer: 'cus_nope' }), 400, { code: 'resource_missing', param: 'customer' });
  });
});
