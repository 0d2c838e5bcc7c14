import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

const DAY = 86_400_000;

describe.each(ENGINES)('payment lifecycle through a test clock (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  beforeAll(async () => {
    t = await startTestRescue({ engine });
    api = t.client((await t.signup()).testKey);
  });
  afterAll(() => t.close());

  async function clockAndCustomer(start: Date, timezone = 'America/New_York', on: Client = api) {
    const clock = await on.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000, name: 'lifecycle' });
    expect(clock.status).toBe(201);
    const customer = await on.post('/v2/customers', { email: 'ada@example.com', name: 'Ada', timezone, test_clock: clock.body.id });
    expect(customer.status).toBe(201);
    return { clock: clock.body, customer: customer.body };
  }

  it('recovers an insufficient-funds payment when the card has money again', async () => {
    const start = new Date('2026-03-25T10:30:00Z');
    const { clock, customer } = await clockAndCustomer(start);
    const fundsBack = Math.floor((start.getTime() + 5 * DAY) / 1000);
    const created = await api.post('/v2/payments', {
      amount: 4999,
      currency: 'usd',
      customer: customer.id,
      payment_method: `pm_card_insufficientFunds_until_${fundsBack}`,
      off_session: true,
      auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 },
      metadata: { subscription_id: 'sub_xyz789' },
    });
    expect(created.status).toBe(201);
    const p = created.body;
    expect(p).toMatchObject({
      object: 'payment',
      amount: 4999,
      currency: 'USD',
      status: 'requires_rescue',
      customer: customer.id,
      failure_code: 'insufficient_funds',
      failure_message: 'The card has insufficient funds.',
      auto_rescue: { enabled: true, status: 'active', attempts_made: 1, max_retries: 4, retry_window_ends_at: '2026-04-08T10:30:00Z' },
      created_at: '2026-03-25T10:30:00Z',
    });
    expect(p.rescue_schedule.scheduled_retries).toHaveLength(4);
    expect(p.rescue_schedule.next_retry_at).toBe(p.rescue_schedule.scheduled_retries[0].scheduled_at);
    expect(p.rescue_schedule.retry_number).toBe(1);

    const ready = await advanceClock(api, clock.id, new Date(start.getTime() + 20 * DAY));
    expect(ready.status).toBe('ready');
    expect(ready.frozen_time).toBe(Math.floor((start.getTime() + 20 * DAY) / 1000));

    const after = (await api.get(`/v2/payments/${p.id}`)).body;
    expect(after.status).toBe('succeeded');
    expect(after.auto_rescue.status).toBe('recovered');
    expect(after.rescue_schedule).toBeNull();
    const history = after.rescue_history;
    expect(history[0]).toEqual({ attempt: 1, attempted_at: '2026-03-25T10:30:00Z', result: 'failed', failure_code: 'insufficient_funds' });
    expect(history.at(-1).result).toBe('succeeded');
    // Each retry ran at the time it was planned, and the winning one after the money came back.
    const planned = p.rescue_schedule.scheduled_retries.map((r: any) => r.scheduled_at);
    expect(history[1].attempted_at).toBe(planned[0]);
    expect(Date.parse(history.at(-1).attempted_at)).toBeGreaterThanOrEqual(fundsBack * 1000);
    expect(history.slice(1, -1).every((h: any) => Date.parse(h.attempted_at) < fundsBack * 1000)).toBe(true);
    expect(after.auto_rescue.attempts_made).toBe(history.length);
    expect(after.auto_rescue.recovered_at).toBe(history.at(-1).attempted_at);
  });

  it('fails a hard decline at once, with no schedule, and never retries it', async () => {
    const start = new Date('2026-05-01T12:00:00Z');
    const { clock, customer } = await clockAndCustomer(start);
    const created = await api.post('/v2/payments', {
      amount: 1500, currency: 'EUR', customer: customer.id, payment_method: 'pm_card_chargeDeclinedStolenCard', auto_rescue: { enabled: true },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'failed', failure_code: 'stolen_card', rescue_schedule: null, auto_rescue: { status: 'not_retryable' } });
    await advanceClock(api, clock.id, new Date(start.getTime() + 30 * DAY));
    const after = (await api.get(`/v2/payments/${created.body.id}`)).body;
    expect(after.status).toBe('failed');
    expect(after.rescue_history).toHaveLength(1);
  });

  it('exhausts the budget on a card that never recovers: exactly 1 + max_retries attempts inside the window', async () => {
    const start = new Date('2026-06-10T09:00:00Z');
    // An account of its own: the shared one retrains its model on the other tests' retries (the
    // worker's schedule, on their clocks), and a model that has seen this card fail may rightly plan
    // fewer retries — what this test pins is the budget, on the shipped prior.
    const own = t.client((await t.signup()).testKey);
    const { clock, customer } = await clockAndCustomer(start, 'Europe/Berlin', own);
    const created = await own.post('/v2/payments', {
      amount: 2500, currency: 'USD', customer: customer.id, payment_method: 'pm_card_chargeDeclined', auto_rescue: { enabled: true, max_retries: 3, retry_window_days: 10 },
    });
    expect(created.body.status).toBe('requires_rescue');
    await advanceClock(own, clock.id, new Date(start.getTime() + 30 * DAY));
    const after = (await own.get(`/v2/payments/${created.body.id}`)).body;
    expect(after.status).toBe('failed');
    expect(after.auto_rescue.status).toBe('exhausted');
    expect(after.rescue_history).toHaveLength(4);
    const last = Date.parse(after.rescue_history.at(-1).attempted_at);
    expect(last).toBeLessThanOrEqual(start.getTime() + 10 * DAY);
  });

  it('runs the seed\'s custom schedule on exactly its days', async () => {
    const start = new Date('2026-07-01T15:00:00Z');
    const { clock, customer } = await clockAndCustomer(start);
    const created = await api.post('/v2/payments', {
      amount: 4999, currency: 'USD', customer: customer.id, payment_method: 'pm_card_chargeDeclined', off_session: true,
      auto_rescue: { enabled: true, retry_schedule: 'custom', custom_schedule_days: [1, 2, 5, 10, 15], max_retries: 5 },
    });
    expect(created.status).toBe(201);
    const days = created.body.rescue_schedule.scheduled_retries.map((r: any) => (Date.parse(r.scheduled_at) - start.getTime()) / DAY);
    expect(days).toEqual([1, 2, 5, 10, 15]);
    await advanceClock(api, clock.id, new Date(start.getTime() + 16 * DAY));
    const after = (await api.get(`/v2/payments/${created.body.id}`)).body;
    expect(after.rescue_history.map((h: any) => (Date.parse(h.attempted_at) - start.getTime()) / DAY)).toEqual([0, 1, 2, 5, 10, 15]);
    expect(after.status).toBe('failed');
  });

  it('cancel_rescue stops the retries; retry_now runs the next one at once', async () => {
    const start = new Date('2026-08-03T14:00:00Z');
    const { clock, customer } = await clockAndCustomer(start);
    const body = { amount: 990, currency: 'GBP', customer: customer.id, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true } };
    const a = (await api.post('/v2/payments', body)).body;
    const b = (await api.post('/v2/payments', { ...body, payment_method: `pm_card_insufficientFunds_until_${start.getTime() / 1000 + 60}` })).body;

    const cancelled = await api.post(`/v2/payments/${a.id}/cancel_rescue`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'rescue_cancelled', auto_rescue: { status: 'cancelled' }, rescue_schedule: null });
    expect((await api.post(`/v2/payments/${a.id}/cancel_rescue`)).status).toBe(409);
    expect((await api.post(`/v2/payments/${a.id}/retry_now`)).status).toBe(409);

    await advanceClock(api, clock.id, new Date(start.getTime() + 120_000));
    const retried = await api.post(`/v2/payments/${b.id}/retry_now`);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('succeeded');
    expect(retried.body.rescue_history).toHaveLength(2);
    expect(retried.body.rescue_history[1].attempted_at).toBe(new Date(start.getTime() + 120_000).toISOString().replace('.000', ''));

    await advanceClock(api, clock.id, new Date(start.getTime() + 30 * DAY));
    expect((await api.get(`/v2/payments/${a.id}`)).body.rescue_history).toHaveLength(1);
    expect((await api.get(`/v2/payments/${b.id}`)).body.rescue_history).toHaveLength(2);
  });
});
