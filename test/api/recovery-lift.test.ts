import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentGroup } from '../../src/domain/experiment.ts';
import { expectError } from '../support/api-assertions.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Lift (recovered revenue ÷ organic revenue), the recovery rate, and the control group, read back
// through GET /api/recovery/lift and GET /api/dashboard from real pulses, payments and hand-offs.

const DAY = 86_400_000;

let t: TestRescue;
beforeAll(async () => {
  t = await startTestRescue();
});
afterAll(() => t.close());

const newApi = async () => t.client((await t.signup()).testKey);
const byCurrency = (list: any[], c: string) => list.find((x) => x.currency === c);

describe('Lift', () => {
  let api: Client;
  beforeAll(async () => {
    api = await newApi();
    // Organic: three successes logged by the merchant, one charged through Rescue at the first try.
    for (const [amount, currency, transactionId] of [[6000, 'USD', 'ch_a'], [4000, 'USD', 'ch_b'], [5000, 'EUR', 'ch_c']] as const) {
      expect((await api.post('/api/recovery/pulse', { amount, currency, transactionId })).status).toBe(200);
    }
    expect((await api.post('/v2/payments', { amount: 2000, currency: 'USD', payment_method: 'pm_card_visa' })).body.status).toBe('succeeded');
    // Failed elsewhere and handed over: one recovered at once, one queued, one blocked.
    expect((await api.post('/api/recovery/execute', { paymentMethodToken: 'pm_card_visa', amount: 4999, currency: 'USD', originalDeclineCode: 'issuer_unavailable' })).status).toBe(200);
    expect((await api.post('/api/recovery/execute', { paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds', amount: 1000, currency: 'EUR', originalDeclineCode: 'insufficient_funds' })).status).toBe(202);
    expect((await api.post('/api/recovery/execute', { paymentMethodToken: 'pm_card_visa_chargeDeclinedLostCard', amount: 3000, currency: 'USD', originalDeclineCode: 'lost_card' })).status).toBe(403);
  });

  it('is recovered revenue over organic revenue, per currency, with the recovered count and rate', async () => {
    const res = await api.get('/api/recovery/lift');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, object: 'lift', interval: 'month' });
    expect(res.body.totals).toEqual([
      { currency: 'EUR', organicRevenue: 5000, organicCount: 1, recoveredRevenue: 0, recoveredCount: 0, liftPercent: 0, failedRevenue: 1000, failedCount: 1, failedRecoveredCount: 0, failedRecoveredRevenue: 0, recoveryRate: 0, recoveryRateByAmount: 0 },
      // 4999 / (6000 + 4000 + 2000) = 41.66 %; 1 of the 2 USD payments that failed is recovered, 4999 of 7999 by amount.
      { currency: 'USD', organicRevenue: 12000, organicCount: 3, recoveredRevenue: 4999, recoveredCount: 1, liftPercent: 41.66, failedRevenue: 7999, failedCount: 2, failedRecoveredCount: 1, failedRecoveredRevenue: 4999, recoveryRate: 50, recoveryRateByAmount: 62.5 },
    ]);
    const sum = (k: string) => res.body.periods.flatMap((p: any) => p.currencies).filter((c: any) => c.currency === 'USD').reduce((a: number, c: any) => a + c[k], 0);
    expect(sum('organicRevenue')).toBe(12000);
    expect(sum('recoveredRevenue')).toBe(4999);
  });

  it('takes from and to as dates, instants or unix seconds; an empty range is empty', async () => {
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const tomorrow = new Date(now + DAY).toISOString().slice(0, 10);
    const byDay = (await api.get(`/api/recovery/lift?from=${day}&to=${tomorrow}&interval=day`)).body;
    expect(byDay.periods).toHaveLength(1);
    expect(byDay.periods[0].start).toBe(`${day}T00:00:00Z`);
    expect(byCurrency(byDay.totals, 'USD').liftPercent).toBe(41.66);
    const old = (await api.get(`/api/recovery/lift?from=${Math.floor(now / 1000) - 90 * 86400}&to=2000-01-01T00:00:00Z`));
    expectError(old, 400, { param: 'from' });
    const before = (await api.get(`/api/recovery/lift?from=2020-01-01&to=2020-02-01`)).body;
    expect(before.totals).toEqual([]);
    expect(before.periods).toEqual([]);
  });

  it.each([
    ['from after to', '?from=2026-02-01&to=2026-01-01', 'from'],
    ['an unknown interval', '?interval=year', 'interval'],
    ['too many periods', '?from=2020-01-01&to=2026-01-01&interval=day', 'interval'],
    ['a malformed date', '?from=yesterday', 'from'],
    ['an unknown parameter', '?currency=USD', 'currency'],
  ])('%s is a 400', async (_name, qs, param) => {
    expectError(await api.get(`/api/recovery/lift${qs}`), 400, { param });
  });

  it('a recovery counts in the period it happened; its failure in the period it failed', async () => {
    const api2 = await newApi();
    const start = new Date('2026-01-05T12:00:00Z');
    const clock = (await api2.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body;
    const customer = (await api2.post('/v2/customers', { email: 'l@example.com', timezone: 'UTC', test_clock: clock.id })).body;
    const until = start.getTime() / 1000 + 8 * 86400; // the next Tuesday: the recovery falls in a later week
    expect((await api2.post('/api/recovery/execute', { paymentMethodToken: `pm_card_insufficientFunds_until_${until}`, amount: 1500, currency: 'GBP', originalDeclineCode: 'insufficient_funds', customer: customer.id })).status).toBe(202);
    await advanceClock(api2, clock.id, new Date(start.getTime() + 20 * DAY));
    const jan = (await api2.get('/api/recovery/lift?from=2026-01-01&to=2026-02-01&interval=week')).body;
    const weeks = jan.periods.map((p: any) => [p.start, byCurrency(p.currencies, 'GBP')]);
    const failedWeek = weeks.find(([, c]: any) => c.failedCount === 1);
    const recoveredWeek = weeks.find(([, c]: any) => c.recoveredCount === 1);
    expect(failedWeek[0]).toBe('2026-01-05T00:00:00Z'); // Monday of the failure's week
    expect(Date.parse(recoveredWeek[0])).toBeGreaterThan(Date.parse(failedWeek[0]));
    expect(byCurrency(jan.totals, 'GBP')).toMatchObject({ recoveredRevenue: 1500, failedCount: 1, recoveryRate: 100, organicRevenue: 0, liftPercent: null });
    // The dashboard shows the same figures.
    const dash = (await api2.get('/api/dashboard?from=2026-01-01&to=2026-02-01')).body;
    expect(dash.lift.totals).toEqual(jan.totals);
    expect(dash.lift.interval).toBe('day');
  });
});

describe('control group', () => {
  let api: Client;
  beforeAll(async () => {
    api = await newApi();
  });

  it('is an account setting from 0 to 20 %', async () => {
    expect((await api.get('/v2/settings/recovery')).body).toEqual({ object: 'recovery_settings', livemode: false, control_group_percent: 0 });
    expectError(await api.post('/v2/settings/recovery', { control_group_percent: 21 }), 400, { param: 'control_group_percent' });
    expectError(await api.post('/v2/settings/recovery', { control_group_percent: -1 }), 400, { param: 'control_group_percent' });
    expectError(await api.post('/v2/settings/recovery', {}), 400, { code: 'parameter_missing', param: 'control_group_percent' });
    const set = await api.post('/v2/settings/recovery', { control_group_percent: 20 });
    expect(set.body).toEqual({ object: 'recovery_settings', livemode: false, control_group_percent: 20 });
    expect((await api.get('/v2/settings/recovery')).body.control_group_percent).toBe(20);
  });

  it('holds back a deterministic share on a plain fixed schedule, and the dashboard shows the difference with a 95% interval', async () => {
    // Keys whose hash puts them in each group (the same function Rescue applies).
    const keys = (group: string, count: number) => {
      const out: string[] = [];
      for (let i = 0; out.length < count; i++) if (experimentGroup(`exp_${i}`, 20) === group) out.push(`exp_${i}`);
      return out;
    };
    const control = keys('control', 4);
    const treatment = keys('treatment', 4);
    const start = new Date('2026-06-01T14:00:00Z');
    const clock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body;
    const customer = (await api.post('/v2/customers', { email: 'c@example.com', timezone: 'UTC', test_clock: clock.id })).body;
    const execute = (idempotencyKey: string, paymentMethodToken: string, originalDeclineCode = 'issuer_unavailable') =>
      api.post('/api/recovery/execute', { paymentMethodToken, amount: 1000, currency: 'USD', originalDeclineCode, idempotencyKey, customer: customer.id });

    // Treatment: an issuer outage is retried at once and recovered in the request.
    for (const key of treatment) {
      const res = await execute(key, `pm_card_visa_${key}`);
      expect(res.status).toBe(200);
      expect(res.body.recovery.experimentGroup).toBe('treatment');
    }
    // Control: no retry in the request; the fixed schedule (4 retries in 14 days: days 4, 7, 11, 14).
    const controlIds: string[] = [];
    for (const [i, key] of control.entries()) {
      const res = await execute(key, i < 2 ? `pm_card_mastercard_${key}` : `pm_card_chargeDeclinedIssuerUnavailable_${key}`);
      expect(res.status).toBe(202);
      expect(res.body.recovery.experimentGroup).toBe('control');
      expect(res.body.recovery.scheduledRetries.map((s: any) => (Date.parse(s.scheduledAt) - start.getTime()) / DAY)).toEqual([4, 7, 11, 14]);
      controlIds.push(res.body.recoveryId);
    }
    // A hard decline is not part of the experiment.
    const hard = await execute(control[0]!.replace('exp', 'hard'), 'pm_card_visa_chargeDeclinedStolenCard', 'stolen_card');
    expect(hard.status).toBe(403);
    expect(hard.body.recovery.experimentGroup).toBeNull();

    const pending = (await api.get('/api/dashboard?from=2026-05-01&to=2026-07-01')).body.experiment;
    expect(pending.control).toMatchObject({ handOffs: 4, decided: 0, pending: 4 });
    expect(pending.incrementalRecoveryRate).toBeNull();

    await advanceClock(api, clock.id, new Date(start.getTime() + 20 * DAY));
    const recovered = await api.get(`/api/recovery/${controlIds[0]}`);
    expect(recovered.body).toMatchObject({ status: 'recovered' });
    expect(Date.parse(recovered.body.history[1].attemptedAt) - start.getTime()).toBe(4 * DAY);

    const dash = (await api.get('/api/dashboard?from=2026-05-01&to=2026-07-01')).body;
    expect(dash.experiment).toEqual({
      controlGroupPercent: 20,
      treatment: { handOffs: 4, decided: 4, pending: 0, recovered: 4, recoveryRate: 100, recoveredRevenue: { USD: 4000 } },
      control: { handOffs: 4, decided: 4, pending: 0, recovered: 2, recoveryRate: 50, recoveredRevenue: { USD: 2000 } },
      // 4/4 − 2/4 with Newcombe's hybrid score interval: 50 points, 95% CI −10.21 to 85.00.
      incrementalRecoveryRate: { estimate: 50, low: -10.21, high: 85, confidence: 0.95, method: 'newcombe_hybrid_score' },
      significant: false,
    });
  });

  it('assigns about the configured share over many keys', () => {
    const n = 20_000;
    let control = 0;
    for (let i = 0; i < n; i++) if (experimentGroup(`order_${i}_recovery`, 10) === 'control') control++;
    expect(control / n).toBeGreaterThan(0.09);
    expect(control / n).toBeLessThan(0.11);
    expect(experimentGroup('order_1_recovery', 0)).toBeNull();
  });
});

describe('wallet types on the dashboard', () => {
  it('counts hand-offs and recoveries by the primary payment method\'s type', async () => {
    const api = await newApi();
    for (const [type, token, code] of [['apple_pay', 'pm_card_visa', 'issuer_unavailable'], ['apple_pay', 'pm_card_visa_chargeDeclinedInsufficientFunds', 'insufficient_funds'], ['paypal', 'pm_card_mastercard', 'network_timeout']] as const) {
      await api.post('/api/recovery/execute', { paymentMethodToken: token, paymentMethodType: type, amount: 500, currency: 'USD', originalDeclineCode: code });
    }
    const dash = (await api.get('/api/dashboard')).body;
    expect(dash.paymentMethodTypes).toEqual([
      { type: 'apple_pay', handOffs: 2, decided: 1, recovered: 1, recoveryRate: 100 },
      { type: 'paypal', handOffs: 1, decided: 1, recovered: 1, recoveryRate: 100 },
    ]);
  });
});
