import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type ChargeCall, type Decision, type Merchant } from '../support/merchant.ts';

// A dead card (a decline whose fix is new card data, here `expired_card`) through the merchant's own
// `http` gateway on a test clock: the rescue never charges the unchanged card again; it waits inside
// its window for a new card and then retries once, at once — or ends as `no_new_card`.

const DAY = 86_400_000;
const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);

describe.each(ENGINES)('a dead card waits for a new card (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  let merchant: Merchant;
  /** Per payment-method token, what the merchant does; unknown tokens succeed. */
  const scripts = new Map<string, (call: ChargeCall) => Decision>();

  beforeAll(async () => {
    merchant = await startMerchant((call) => {
      const script = scripts.get(call.body?.payment_method);
      return script ? script(call) : { charge: { status: 'succeeded', transaction_id: `txn_${call.body.attempt_id}` } };
    });
    t = await startTestRescue({ engine });
    api = t.client((await t.signup()).testKey);
    expect((await api.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret })).status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await merchant?.close();
  });

  // Tuesday 15:00 UTC, 11:00 in New York: no quiet hours near the failure.
  async function expiredPayment(name: string, start: Date, o: { windowDays: number; answer?: Record<string, string> }) {
    const token = `pm_merchant_expired_${name}`;
    scripts.set(token, () => ({ charge: { status: 'failed', decline_code: 'expired_card', message: 'Expired', ...o.answer } }));
    const clock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000, name })).body;
    const customer = (await api.post('/v2/customers', { email: `${name}@example.com`, timezone: 'America/New_York', test_clock: clock.id })).body;
    const created = await api.post('/v2/payments', {
      amount: 2900, currency: 'USD', customer: customer.id, payment_method: token, off_session: true,
      auto_rescue: { enabled: true, max_retries: 4, retry_window_days: o.windowDays },
    });
    expect(created.status).toBe(201);
    return { clock, token, p: created.body };
  }

  const callsOf = (paymentId: string) => merchant.calls.filter((c) => c.body?.payment === paymentId);
  const get = async (id: string) => (await api.get(`/v2/payments/${id}`)).body;
  const eventTypes = async (id: string) => ((await api.get(`/v2/events?object=${id}&limit=100`)).body.data as any[]).reverse().map((e) => e.type);

  it('is not charged again while no new card arrives; a new card from the update-payment API is charged once, at once', async () => {
    const start = new Date('2026-03-24T15:00:00Z');
    const { clock, p } = await expiredPayment('update_api', start, { windowDays: 15 });
    expect(p).toMatchObject({ status: 'requires_rescue', failure_code: 'expired_card', auto_rescue: { status: 'active' } });
    const firstRetryAt = at(p.rescue_schedule.next_retry_at);
    const windowEnd = at(p.auto_rescue.retry_window_ends_at);
    expect(windowEnd).toBe(start.getTime() + 15 * DAY);

    // Two days past the first planned retry: it was checked (twice or more) and never charged.
    const waitUntil = Math.min(firstRetryAt + 2 * DAY + MINUTE, windowEnd - DAY);
    expect(waitUntil).toBeGreaterThan(firstRetryAt + DAY);
    await advanceClock(api, clock.id, new Date(waitUntil));
    const waiting = await get(p.id);
    expect(callsOf(p.id)).toHaveLength(1);
    expect(waiting).toMatchObject({ status: 'requires_rescue', auto_rescue: { status: 'active', attempts_made: 1 }, rescue_schedule: { waiting_for_new_card: true, retry_number: 1 } });
    expect(waiting.rescue_history).toHaveLength(1);
    const nextCheck = at(waiting.rescue_schedule.next_retry_at);
    expect(nextCheck).toBeGreaterThan(waitUntil);
    expect(nextCheck).toBeLessThanOrEqual(waitUntil + DAY);
    expect(await eventTypes(p.id)).toEqual(['payment.rescue_started']);

    // The customer gives a new card: the waiting retry runs at once (the minimum gap), on that card.
    const update = await api.post(`/v2/payments/${p.id}/payment_method`, { payment_method: 'pm_merchant_renewed_card' });
    expect(update.status).toBe(200);
    expect(update.body).toMatchObject({ outcome: 'retry_moved', payment: { payment_method: 'pm_merchant_renewed_card', rescue_schedule: { waiting_for_new_card: false } } });
    expect(at(update.body.retry_at)).toBe(waitUntil + 10 * MINUTE);

    await advanceClock(api, clock.id, new Date(waitUntil + DAY));
    const after = await get(p.id);
    expect(after).toMatchObject({ status: 'succeeded', payment_method: 'pm_merchant_renewed_card', auto_rescue: { status: 'recovered' } });
    expect(after.rescue_history.map((h: any) => h.result)).toEqual(['failed', 'succeeded']);
    const calls = callsOf(p.id);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.body).toMatchObject({ payment_method: 'pm_merchant_renewed_card', retry_number: 1 });
    expect(at(calls[1]!.body.attempted_at)).toBe(waitUntil + 10 * MINUTE);
    const types = await eventTypes(p.id);
    expect(types.filter((e) => e === 'payment.rescue_retry')).toHaveLength(1);
    expect(types).toContain('payment.rescue_succeeded');
  });

  it('a decline whose answer names the new card (updated_payment_method) retries on it at once, once', async () => {
    const start = new Date('2026-04-07T15:00:00Z');
    const { clock, token, p } = await expiredPayment('answer_field', start, { windowDays: 15, answer: { updated_payment_method: 'pm_merchant_reissued' } });
    expect(p).toMatchObject({ status: 'requires_rescue', failure_code: 'expired_card', payment_method: 'pm_merchant_reissued', rescue_schedule: { waiting_for_new_card: false } });
    expect(at(p.rescue_schedule.next_retry_at)).toBe(start.getTime() + 10 * MINUTE);

    await advanceClock(api, clock.id, new Date(start.getTime() + 20 * DAY));
    const after = await get(p.id);
    expect(after).toMatchObject({ status: 'succeeded', payment_method: 'pm_merchant_reissued', auto_rescue: { status: 'recovered' } });
    const calls = callsOf(p.id);
    expect(calls.map((c) => c.body.payment_method)).toEqual([token, 'pm_merchant_reissued']);
    expect(at(calls[1]!.body.attempted_at)).toBe(start.getTime() + 10 * MINUTE);
    const retries = ((await api.get(`/v2/events?object=${p.id}&limit=100`)).body.data as any[]).filter((e) => e.type === 'payment.rescue_retry');
    expect(retries).toHaveLength(1);
    expect(retries[0].data).toMatchObject({ retry_number: 1, card_was_updated: true });
  });

  it('an updated_payment_method over 255 characters makes the answer unreadable: no answer, nothing decided', async () => {
    const start = new Date('2026-04-14T15:00:00Z');
    const { p } = await expiredPayment('answer_too_long', start, { windowDays: 15, answer: { updated_payment_method: `pm_${'x'.repeat(253)}` } });
    expect(p).toMatchObject({ status: 'processing', rescue_history: [] });
  });

  it('with no new card in its window, the rescue ends as no_new_card without charging the card again', async () => {
    const start = new Date('2026-05-05T15:00:00Z');
    const { clock, p } = await expiredPayment('never', start, { windowDays: 10 });
    await advanceClock(api, clock.id, new Date(start.getTime() + 12 * DAY));
    const after = await get(p.id);
    expect(after).toMatchObject({
      status: 'failed',
      failure_code: 'expired_card',
      rescue_schedule: null,
      auto_rescue: { status: 'exhausted', end_reason: 'no_new_card', attempts_made: 1 },
    });
    expect(at(after.auto_rescue.ended_at)).toBe(start.getTime() + 10 * DAY);
    expect(callsOf(p.id)).toHaveLength(1);
    const types = await eventTypes(p.id);
    expect(types).toContain('payment.rescue_failed');
    expect(types).not.toContain('payment.rescue_retry');
    const failed = ((await api.get(`/v2/events?object=${p.id}&limit=100`)).body.data as any[]).find((e) => e.type === 'payment.rescue_failed');
    expect(failed.data).toMatchObject({ final_failure_code: 'expired_card', total_attempts: 1, recommendation: 'Ask the customer for a new card' });
  });
});
