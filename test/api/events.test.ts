import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

const DAY = 86_400_000;

describe.each(ENGINES)('events (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  beforeAll(async () => {
    t = await startTestRescue({ engine });
    api = t.client((await t.signup()).testKey);
  });
  afterAll(() => t.close());

  async function onClock(start: Date) {
    const clock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body;
    const customer = (await api.post('/v2/customers', { email: 'e@example.com', timezone: 'UTC', test_clock: clock.id })).body;
    return { clock, customer };
  }

  const eventsOf = async (paymentId: string) => (await api.get(`/v2/events?object=${paymentId}&limit=100`)).body.data.reverse();

  it('a recovery emits rescue_started, one rescue_retry before each retry, then the three recovery events', async () => {
    const start = new Date('2026-03-25T10:30:00Z');
    const { clock, customer } = await onClock(start);
    const until = start.getTime() / 1000 + 6 * 86400;
    const p = (await api.post('/v2/payments', {
      amount: 4999, currency: 'USD', customer: customer.id, payment_method: `pm_card_insufficientFunds_until_${until}`, off_session: true,
      auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 },
    })).body;
    const started = await eventsOf(p.id);
    expect(started).toHaveLength(1);
    expect(started[0]).toEqual({
      id: expect.stringMatching(/^evt_/),
      object: 'event',
      type: 'payment.rescue_started',
      api_version: expect.any(String),
      created_at: '2026-03-25T10:30:00Z',
      livemode: false,
      data: {
        payment: p.id, customer: customer.id, amount: 4999, currency: 'USD', failure_code: 'insufficient_funds',
        rescue_schedule: { max_retries: 4, first_retry_at: p.rescue_schedule.scheduled_retries[0].scheduled_at, final_retry_at: p.rescue_schedule.scheduled_retries.at(-1).scheduled_at },
      },
    });

    await advanceClock(api, clock.id, new Date(start.getTime() + 20 * DAY));
    const after = (await api.get(`/v2/payments/${p.id}`)).body;
    expect(after.status).toBe('succeeded');
    const events = await eventsOf(p.id);
    const retries = after.rescue_history.length - 1;
    expect(events.map((e: any) => e.type)).toEqual([
      'payment.rescue_started',
      ...Array(retries).fill('payment.rescue_retry'),
      'payment.rescue_succeeded', 'recovery.success', 'recovery_event',
    ]);
    events.filter((e: any) => e.type === 'payment.rescue_retry').forEach((e: any, i: number) => {
      expect(e.data).toEqual({ payment: p.id, customer: customer.id, retry_number: i + 1, attempts_remaining: 4 - (i + 1), account_updater_checked: true, card_was_updated: false });
      // Announced at the retry's own time, before its outcome.
      expect(e.created_at).toBe(after.rescue_history[i + 1].attempted_at);
    });
    const succeeded = events.find((e: any) => e.type === 'payment.rescue_succeeded');
    const recoveredAt = Date.parse(after.auto_rescue.recovered_at);
    expect(succeeded.data).toEqual({
      payment: p.id, customer: customer.id, amount: 4999, currency: 'USD', retry_number: retries, total_attempts: retries + 1,
      days_to_recover: Math.round((recoveredAt - start.getTime()) / DAY),
    });
    expect(events.find((e: any) => e.type === 'recovery.success').data).toMatchObject({ paymentId: p.id, amount: 4999, currency: 'USD', attempts: retries + 1 });
    expect(events.find((e: any) => e.type === 'recovery_event').data).toMatchObject({ event: 'payment_recovered', payment_id: p.id, amount_recovered: 4999 });
  });

  it('an exhausted rescue emits rescue_failed with a recommendation, and recovery.failed', async () => {
    const start = new Date('2026-04-01T12:00:00Z');
    const { clock, customer } = await onClock(start);
    const p = (await api.post('/v2/payments', { amount: 700, currency: 'EUR', customer: customer.id, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true, max_retries: 2 } })).body;
    await advanceClock(api, clock.id, new Date(start.getTime() + 30 * DAY));
    const events = await eventsOf(p.id);
    expect(events.map((e: any) => e.type)).toEqual(['payment.rescue_started', 'payment.rescue_retry', 'payment.rescue_retry', 'payment.rescue_failed', 'recovery.failed']);
    expect(events[3].data).toEqual({ payment: p.id, customer: customer.id, amount: 700, currency: 'EUR', total_attempts: 3, final_failure_code: 'insufficient_funds', recommendation: 'Contact customer to update payment method' });
  });

  it('a hard decline is blocked, and a cancelled rescue says so', async () => {
    const { customer } = await onClock(new Date('2026-05-01T12:00:00Z'));
    const hard = (await api.post('/v2/payments', { amount: 100, currency: 'USD', customer: customer.id, payment_method: 'pm_card_chargeDeclinedLostCard', auto_rescue: { enabled: true } })).body;
    expect((await eventsOf(hard.id)).map((e: any) => [e.type, e.data.reason])).toEqual([['recovery.blocked', 'hard_decline']]);
    const soft = (await api.post('/v2/payments', { amount: 100, currency: 'USD', customer: customer.id, payment_method: 'pm_card_chargeDeclined', auto_rescue: { enabled: true } })).body;
    await api.post(`/v2/payments/${soft.id}/cancel_rescue`);
    const events = await eventsOf(soft.id);
    expect(events.map((e: any) => e.type)).toEqual(['payment.rescue_started', 'payment.rescue_cancelled']);
    expect(events[1].data).toEqual({ payment: soft.id, customer: customer.id, amount: 100, currency: 'USD', total_attempts: 1 });
    // A payment that never needed a rescue emits nothing.
    const ok = (await api.post('/v2/payments', { amount: 100, currency: 'USD', payment_method: 'pm_card_visa', auto_rescue: { enabled: true } })).body;
    expect(await eventsOf(ok.id)).toEqual([]);
  });

  it('lists with type, created[gte], limit and starting_after, and retrieves one; other accounts see nothing', async () => {
    const all = (await api.get('/v2/events?limit=100')).body;
    expect(all.object).toBe('list');
    expect(all.data.length).toBeGreaterThan(5);
    const started = (await api.get('/v2/events?type=payment.rescue_started&limit=100')).body.data;
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((e: any) => e.type === 'payment.rescue_started')).toBe(true);
    const family = (await api.get('/v2/events?type=recovery.*&limit=100')).body.data;
    expect(new Set(family.map((e: any) => e.type.split('.')[0]))).toEqual(new Set(['recovery']));
    const since = Date.parse('2026-04-01T00:00:00Z') / 1000;
    const recent = (await api.get(`/v2/events?created[gte]=${since}&limit=100`)).body.data;
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.every((e: any) => Date.parse(e.created_at) >= since * 1000)).toBe(true);
    const page1 = (await api.get('/v2/events?limit=2')).body;
    const page2 = (await api.get(`/v2/events?limit=2&starting_after=${page1.data[1].id}`)).body;
    expect(page1.has_more).toBe(true);
    expect(page2.data[0].id).toBe(all.data[2].id);
    expect((await api.get(`/v2/events/${all.data[0].id}`)).body).toEqual(all.data[0]);
    expect((await api.get('/v2/events?type=payment.nope')).status).toBe(400);
    const other = t.client((await t.signup()).testKey);
    expect((await other.get('/v2/events')).body.data).toEqual([]);
    expect((await other.get(`/v2/events/${all.data[0].id}`)).status).toBe(404);
  });
});
