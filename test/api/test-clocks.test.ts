import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, expectError } from '../support/api-assertions.ts';
import { advanceClock, eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Test clocks: Stripe's shape (frozen_time in Unix seconds), test mode only, and the time that
// customers and payments on a clock live at.

const T0 = Date.parse('2026-03-25T10:30:00Z') / 1000;
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');

let t: TestRescue;
let api: Client;
let live: Client;
beforeAll(async () => {
  t = await startTestRescue();
  const keys = await t.signup();
  api = t.client(keys.testKey);
  live = t.client(keys.liveKey);
});
afterAll(() => t.close());

describe('POST /v2/test_clocks, GET, list', () => {
  it('creates a clock frozen at the given time, ready', async () => {
    const res = await api.post('/v2/test_clocks', { frozen_time: T0, name: 'Annual renewal' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^clock_[0-9A-Za-z]{24}$/),
      object: 'test_clock',
      frozen_time: T0,
      name: 'Annual renewal',
      status: 'ready',
      livemode: false,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(Math.abs(Date.parse(res.body.created_at) - Date.now())).toBeLessThan(60_000);
    const got = await api.get(`/v2/test_clocks/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    // A name is optional.
    const unnamed = await api.post('/v2/test_clocks', { frozen_time: T0 });
    expect(unnamed.status).toBe(201);
    expect(unnamed.body.name).toBeNull();
  });

  it('lists clocks newest first, with limit, has_more and starting_after', async () => {
    const c = t.client((await t.signup()).testKey);
    expect((await c.get('/v2/test_clocks')).body).toEqual({ object: 'list', url: '/v2/test_clocks', data: [], has_more: false });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await c.post('/v2/test_clocks', { frozen_time: T0 + i, name: `c${i}` })).body.id);
    const newest = [...ids].reverse();
    const all = await c.get('/v2/test_clocks');
    expect(all.body.data.map((x: any) => x.id)).toEqual(newest);
    expect(all.body.has_more).toBe(false);
    const p1 = await c.get('/v2/test_clocks?limit=2');
    expect(p1.body.data.map((x: any) => x.id)).toEqual(newest.slice(0, 2));
    expect(p1.body.has_more).toBe(true);
    const p2 = await c.get(`/v2/test_clocks?limit=2&starting_after=${newest[1]}`);
    expect(p2.body.data.map((x: any) => x.id)).toEqual(newest.slice(2, 4));
    expect(p2.body.has_more).toBe(true);
    const p3 = await c.get(`/v2/test_clocks?limit=2&starting_after=${newest[3]}`);
    expect(p3.body.data.map((x: any) => x.id)).toEqual(newest.slice(4));
    expect(p3.body.has_more).toBe(false);
    expectError(await c.get('/v2/test_clocks?starting_after=clock_nope'), 400, { code: 'resource_missing', param: 'starting_after' });
    expectError(await c.get('/v2/test_clocks?limit=0'), 400, { param: 'limit' });
  });

  it.each([
    ['a missing frozen_time', {}, 'frozen_time', 'parameter_missing'],
    ['frozen_time as an ISO string', { frozen_time: '2026-03-25T10:30:00Z' }, 'frozen_time', 'parameter_invalid'],
    ['frozen_time in milliseconds past year 9999', { frozen_time: T0 * 1000 * 1000 }, 'frozen_time', 'parameter_invalid'],
    ['a fractional frozen_time', { frozen_time: T0 + 0.5 }, 'frozen_time', 'parameter_invalid'],
    ['a negative frozen_time', { frozen_time: -1 }, 'frozen_time', 'parameter_invalid'],
    ['a name that is not a string', { frozen_time: T0, name: 7 }, 'name', 'parameter_invalid'],
    ['an unknown field', { frozen_time: T0, timezone: 'UTC' }, 'timezone', 'parameter_invalid'],
  ])('refuses %s with 400 naming the param', async (_name, body, param, code) => {
    expectError(await api.post('/v2/test_clocks', body), 400, { type: 'invalid_request_error', code, param });
  });

  it('answers an unknown clock with 404', async () => {
    expectError(await api.get('/v2/test_clocks/clock_000000000000000000000000'), 404, { code: 'resource_missing' });
    expectError(await api.post('/v2/test_clocks/clock_000000000000000000000000/advance', { frozen_time: T0 }), 404, { code: 'resource_missing' });
  });

  it('is test mode only: a live key gets 400 on every clock endpoint', async () => {
    const clock = (await api.post('/v2/test_clocks', { frozen_time: T0 })).body;
    for (const res of [
      await live.post('/v2/test_clocks', { frozen_time: T0 }),
      await live.get('/v2/test_clocks'),
      await live.get(`/v2/test_clocks/${clock.id}`),
      await live.post(`/v2/test_clocks/${clock.id}/advance`, { frozen_time: T0 + 60 }),
    ]) {
      expectError(res, 400, { type: 'invalid_request_error', code: 'test_clocks_live_mode' });
    }
    expect((await api.get(`/v2/test_clocks/${clock.id}`)).body).toMatchObject({ frozen_time: T0, status: 'ready' });
  });
});

describe('POST /v2/test_clocks/:id/advance', () => {
  it('moves the clock forward and returns to ready', async () => {
    const clock = (await api.post('/v2/test_clocks', { frozen_time: T0 })).body;
    const res = await api.post(`/v2/test_clocks/${clock.id}/advance`, { frozen_time: T0 + 3600 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: clock.id, object: 'test_clock' });
    const ready = await advanceClock(api, clock.id, new Date((T0 + 7200) * 1000));
    expect(ready).toMatchObject({ status: 'ready', frozen_time: T0 + 7200 });
    // Advancing to the time it is already at is allowed.
    const same = await advanceClock(api, clock.id, new Date((T0 + 7200) * 1000));
    expect(same.frozen_time).toBe(T0 + 7200);
  });

  it('refuses to go back in time (400 frozen_time) and stays where it was', async () => {
    const clock = (await api.post('/v2/test_clocks', { frozen_time: T0 })).body;
    await advanceClock(api, clock.id, new Date((T0 + DAY_MS / 1000) * 1000));
    expectError(await api.post(`/v2/test_clocks/${clock.id}/advance`, { frozen_time: T0 }), 400, { type: 'invalid_request_error', code: 'test_clock_in_past', param: 'frozen_time' });
    expect((await api.get(`/v2/test_clocks/${clock.id}`)).body).toMatchObject({ status: 'ready', frozen_time: T0 + DAY_MS / 1000 });
  });

  it.each([
    ['a missing frozen_time', {}, 'frozen_time'],
    ['frozen_time as a string', { frozen_time: String(T0 + 60) }, 'frozen_time'],
    ['an unknown field', { frozen_time: T0 + 60, name: 'renamed' }, 'name'],
  ])('refuses %s with 400', async (_name, body, param) => {
    const clock = (await api.post('/v2/test_clocks', { frozen_time: T0 })).body;
    expectError(await api.post(`/v2/test_clocks/${clock.id}/advance`, body), 400, { param });
    expect((await api.get(`/v2/test_clocks/${clock.id}`)).body).toMatchObject({ status: 'ready', frozen_time: T0 });
  });
});

describe('customers and payments on a clock', () => {
  it('a customer is created at the clock\'s time, and so are its payments, before and after an advance', async () => {
    const clock = (await api.post('/v2/test_clocks', { frozen_time: T0 })).body;
    const customer = (await api.post('/v2/customers', { test_clock: clock.id, timezone: 'America/New_York' })).body;
    expect(customer.test_clock).toBe(clock.id);
    expect(Date.parse(customer.created_at)).toBe(T0 * 1000);

    const p1 = (await api.post('/v2/payments', { amount: 4999, currency: 'USD', customer: customer.id, payment_method: 'pm_card_visa' })).body;
    expect(p1).toMatchObject({ status: 'succeeded', test_clock: clock.id, created_at: iso(T0) });
    expect(p1.rescue_history).toEqual([{ attempt: 1, attempted_at: iso(T0), result: 'succeeded' }]);

    await advanceClock(api, clock.id, new Date((T0 + 3 * 86_400) * 1000));
    const p2 = (await api.post('/v2/payments', { amount: 4999, currency: 'USD', customer: customer.id, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true } })).body;
    expect(p2).toMatchObject({ status: 'requires_rescue', test_clock: clock.id, created_at: iso(T0 + 3 * 86_400) });
    expect(Date.parse(p2.auto_rescue.retry_window_ends_at)).toBe((T0 + 3 * 86_400) * 1000 + 14 * DAY_MS);
    expect(Date.parse(p2.rescue_schedule.next_retry_at)).toBeGreaterThan((T0 + 3 * 86_400) * 1000);

    // A payment without a customer on a clock lives in real time.
    const p3 = (await api.post('/v2/payments', { amount: 100, currency: 'USD', payment_method: 'pm_card_visa' })).body;
    expect(p3.test_clock).toBeNull();
    expect(Math.abs(Date.parse(p3.created_at) - Date.now())).toBeLessThan(60_000);
  });
});

describe('a clock that is advancing', () => {
  // With the worker paused nothing moves the clock, so "advancing" lasts as long as the test needs.
  it('refuses a second advance and new payments with 409 until it is ready', async () => {
    const c = t.client((await t.signup()).testKey);
    const clock = (await c.post('/v2/test_clocks', { frozen_time: T0 })).body;
    const customer = (await c.post('/v2/customers', { test_clock: clock.id })).body;
    const worker = t.rescue.worker!;
    await worker.stop();
    try {
      const first = await c.post(`/v2/test_clocks/${clock.id}/advance`, { frozen_time: T0 + 86_400 });
      expect(first.status).toBe(200);
      expect(first.body.status).toBe('advancing');
      expect((await c.get(`/v2/test_clocks/${clock.id}`)).body.status).toBe('advancing');

      expectError(await c.post(`/v2/test_clocks/${clock.id}/advance`, { frozen_time: T0 + 2 * 86_400 }), 409, { type: 'invalid_request_error', code: 'test_clock_advancing' });
      expectError(await c.post('/v2/payments', { amount: 500, currency: 'USD', customer: customer.id, payment_method: 'pm_card_visa' }), 409, { code: 'test_clock_advancing' });
      expect((await c.get('/v2/payments')).body.data).toEqual([]);
    } finally {
      worker.start();
    }
    // Once the worker has moved it, the clock is at the first target (the refused one changed nothing).
    const ready = await eventually(async () => {
      const got = (await c.get(`/v2/test_clocks/${clock.id}`)).body;
      return got.status === 'ready' ? got : undefined;
    });
    expect(ready.frozen_time).toBe(T0 + 86_400);
    const pay = await c.post('/v2/payments', { amount: 500, currency: 'USD', customer: customer.id, payment_method: 'pm_card_visa' });
    expect(pay.status).toBe(201);
    expect(pay.body.created_at).toBe(iso(T0 + 86_400));
  });
});
