import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Fallback payment methods (Revtain's fallbackPaymentMethodTokens) inside the engine's lifecycle:
// the primary's schedule runs out on a recoverable decline, then each fallback is charged in order,
// each with its own budget and under the network rules of its own card. Driven by a test clock.

const DAY = 86_400_000;
const T0 = new Date('2026-03-02T15:00:00Z');

let t: TestRescue;
let api: Client;
beforeAll(async () => {
  t = await startTestRescue();
  api = t.client((await t.signup()).testKey);
  // Each payment method: 2 retries in a 7-day window.
  expect((await api.post('/v2/settings/auto_rescue', { max_retries: 2, retry_window_days: 7 })).status).toBe(200);
});
afterAll(() => t.close());

async function onClock(name: string) {
  const clock = (await api.post('/v2/test_clocks', { frozen_time: T0.getTime() / 1000, name })).body;
  const customer = (await api.post('/v2/customers', { email: `${name}@example.com`, timezone: 'UTC', test_clock: clock.id })).body;
  return { clock, customer };
}

let n = 0;
async function handOff(customer: string, body: Record<string, unknown>) {
  const res = await api.post('/api/recovery/execute', { amount: 2900, currency: 'USD', originalDeclineCode: 'insufficient_funds', idempotencyKey: `fb_${++n}`, customer, ...body });
  return res;
}

const recovery = async (id: string) => (await api.get(`/api/recovery/${id}`)).body;
const eventsOf = async (paymentId: string) => (await api.get(`/v2/events?object=${paymentId}&limit=100`)).body.data.reverse();

describe('fallback cascade', () => {
  it('exhausts the primary, then each fallback in order, until one pays; each method has its own budget', async () => {
    const { clock, customer } = await onClock('cascade');
    const res = await handOff(customer.id, {
      paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds',
      fallbackPaymentMethodTokens: ['pm_card_chargeDeclined', 'pm_card_mastercard'],
    });
    expect(res.status).toBe(202);
    const id = res.body.recoveryId;
    expect(res.body.recovery.paymentMethods.map((m: any) => [m.position, m.last4, m.status])).toEqual([[0, '9995', 'active'], [1, '0002', 'pending'], [2, '4444', 'pending']]);

    await advanceClock(api, clock.id, new Date(T0.getTime() + 40 * DAY));
    const r = await recovery(id);
    expect(r.status).toBe('recovered');
    // 1 recorded failure + 2 retries on the primary; first charge + 2 retries on fallback 1; fallback 2 pays.
    expect(r.history.map((h: any) => [h.paymentMethod, h.result, h.declineCode])).toEqual([
      [0, 'failed', 'insufficient_funds'], [0, 'failed', 'insufficient_funds'], [0, 'failed', 'insufficient_funds'],
      [1, 'failed', 'generic_decline'], [1, 'failed', 'generic_decline'], [1, 'failed', 'generic_decline'],
      [2, 'succeeded', null],
    ]);
    expect(r.paymentMethods.map((m: any) => m.status)).toEqual(['exhausted', 'exhausted', 'succeeded']);
    expect(r.attempts).toBe(7);
    // A fresh window for fallback 1: its retries run past the primary's 7-day window.
    const at = (i: number) => Date.parse(r.history[i].attemptedAt);
    const primaryWindowEnd = T0.getTime() + 7 * DAY;
    expect(at(2)).toBeLessThanOrEqual(primaryWindowEnd);
    expect(at(5)).toBeLessThanOrEqual(at(3) + 7 * DAY);
    // Fallback 1's first charge follows the primary's last retry by minutes, not a new schedule.
    expect(at(3) - at(2)).toBeLessThan(3_600_000);
    expect(at(6) - at(5)).toBeLessThan(3_600_000);

    const payment = (await api.get(`/v2/payments/${r.payment}`)).body;
    expect(payment).toMatchObject({ status: 'succeeded', payment_method: 'pm_card_mastercard', auto_rescue: { status: 'recovered', attempts_made: 7 } });
    const events = await eventsOf(r.payment);
    expect(events.map((e: any) => e.type).filter((x: string) => !x.endsWith('rescue_retry'))).toEqual(['payment.rescue_started', 'payment.rescue_succeeded', 'recovery.success', 'recovery_event']);
    const success = events.find((e: any) => e.type === 'recovery.success').data;
    expect(success).toMatchObject({ recoveryId: id, attempts: 7, transactionId: r.transactionId });
    expect(success.paymentMethod).toEqual({ type: 'card', brand: 'mastercard', last4: '4444', fingerprint: r.paymentMethods[2].fingerprint, position: 2 });
    expect(JSON.stringify(success)).not.toContain('pm_card');
  });

  it('ends with recovery.failed when every method is exhausted', async () => {
    const { clock, customer } = await onClock('all-fail');
    const res = await handOff(customer.id, { paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds_b', fallbackPaymentMethodTokens: ['pm_card_chargeDeclined_b'] });
    await advanceClock(api, clock.id, new Date(T0.getTime() + 40 * DAY));
    const r = await recovery(res.body.recoveryId);
    expect(r).toMatchObject({ status: 'failed', endReason: 'max_retries', attempts: 6 });
    expect(r.paymentMethods.map((m: any) => m.status)).toEqual(['exhausted', 'exhausted']);
    const failed = (await eventsOf(r.payment)).find((e: any) => e.type === 'recovery.failed').data;
    expect(failed).toMatchObject({ recoveryId: r.id, attempts: 6, finalDeclineCode: 'generic_decline', reason: 'max_retries', paymentMethod: { last4: '0002', position: 1 } });
  });

  it('a hard decline on a fallback ends the recovery; the next fallback is never charged', async () => {
    const { clock, customer } = await onClock('hard-fallback');
    const res = await handOff(customer.id, {
      paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds_c',
      fallbackPaymentMethodTokens: ['pm_card_visa_chargeDeclinedLostCard', 'pm_card_amex'],
    });
    await advanceClock(api, clock.id, new Date(T0.getTime() + 40 * DAY));
    const r = await recovery(res.body.recoveryId);
    expect(r).toMatchObject({ status: 'blocked', endReason: 'hard_decline' });
    expect(r.history.map((h: any) => [h.paymentMethod, h.declineCode])).toEqual([[0, 'insufficient_funds'], [0, 'insufficient_funds'], [0, 'insufficient_funds'], [1, 'lost_card']]);
    expect(r.paymentMethods.map((m: any) => m.status)).toEqual(['exhausted', 'exhausted', 'unused']);
    const blocked = (await eventsOf(r.payment)).find((e: any) => e.type === 'recovery.blocked').data;
    expect(blocked).toMatchObject({ reason: 'hard_decline', declineCode: 'lost_card', attempts: 4, paymentMethod: { last4: '9987', position: 1 } });
  });

  it('each fallback is its own card under the network rules: a fallback the rules forbid is skipped, never charged', async () => {
    const { clock, customer } = await onClock('network');
    // Card 9979 declines as stolen (Visa category 1): no reattempt on it for 30 days.
    expect((await handOff(customer.id, { paymentMethodToken: 'pm_card_visa_chargeDeclinedStolenCard', originalDeclineCode: 'stolen_card' })).status).toBe(403);
    const res = await handOff(customer.id, {
      paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds_d',
      fallbackPaymentMethodTokens: ['pm_card_visa_chargeDeclinedStolenCard_backup', 'pm_card_amex'],
    });
    expect(res.status).toBe(202);
    await advanceClock(api, clock.id, new Date(T0.getTime() + 40 * DAY));
    const r = await recovery(res.body.recoveryId);
    expect(r.status).toBe('recovered');
    // Nothing was charged on the stolen card: the attempt planned for it was refused by the rule.
    expect(r.history.map((h: any) => [h.paymentMethod, h.result])).toEqual([[0, 'failed'], [0, 'failed'], [0, 'failed'], [2, 'succeeded']]);
    expect(r.paymentMethods.map((m: any) => [m.last4, m.status])).toEqual([['9995', 'exhausted'], ['9979', 'exhausted'], ['0005', 'succeeded']]);
    const payment = (await api.get(`/v2/payments/${r.payment}`)).body;
    expect(payment.payment_method).toBe('pm_card_amex');
  });

  it('a fallback routed to another gateway is charged there', async () => {
    const named = await api.post('/v2/settings/gateways', { name: 'backup_sandbox', type: 'sandbox', token_prefixes: ['bk_'] });
    expect(named.status).toBe(200);
    const { clock, customer } = await onClock('routed');
    const res = await handOff(customer.id, {
      paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds_e',
      fallbackPaymentMethodTokens: [{ token: 'bk_card_123', paymentMethodType: 'card' }],
    });
    expect(res.body.recovery.paymentMethods.map((m: any) => m.gateway)).toEqual(['default', 'backup_sandbox']);
    await advanceClock(api, clock.id, new Date(T0.getTime() + 40 * DAY));
    const r = await recovery(res.body.recoveryId);
    expect(r.status).toBe('recovered');
    expect(r.history.at(-1)).toMatchObject({ paymentMethod: 1, gateway: 'backup_sandbox', result: 'succeeded' });
  });
});
