import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, expectError } from '../support/api-assertions.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Account-level settings: Auto Rescue defaults (seed "Account-Level Default") and the gateway.

let t: TestRescue;
beforeAll(async () => {
  t = await startTestRescue({ worker: false });
});
afterAll(() => t.close());

const newAccount = async () => {
  const keys = await t.signup();
  return { test: t.client(keys.testKey), live: t.client(keys.liveKey) };
};

/** One account that only ever receives refused requests, so its settings stay the defaults. */
let refusedOnly: Promise<Client> | null = null;
const untouched = () => (refusedOnly ??= newAccount().then((a) => a.test));

const DECLINE = 'pm_card_chargeDeclinedInsufficientFunds';
const failing = (over: Record<string, unknown> = {}) => ({ amount: 2500, currency: 'USD', payment_method: DECLINE, ...over });

const DEFAULTS = {
  object: 'auto_rescue_settings',
  livemode: false,
  enabled: false,
  max_retries: 4,
  retry_window_days: 14,
  retry_schedule: 'automatic',
  custom_schedule_days: null,
  notify_customer: true,
  check_account_updater: true,
  learned: true,
  daily_churn_hazard: 0.077,
  qualifying: { subscription_payments: true, off_session_payments: true, amount_over: null },
};

describe('Auto Rescue account defaults', () => {
  it('start as the seed\'s defaults, off, in both modes', async () => {
    const { test, live } = await newAccount();
    const res = await test.get('/v2/settings/auto_rescue');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(DEFAULTS);
    expect((await live.get('/v2/settings/auto_rescue')).body).toEqual({ ...DEFAULTS, livemode: true });
  });

  it('while off, a failed subscription payment without auto_rescue just fails', async () => {
    const { test } = await newAccount();
    const p = (await test.post('/v2/payments', failing({ off_session: true, metadata: { subscription_id: 'sub_1' } }))).body;
    expect(p).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds', rescue_schedule: null, auto_rescue: { enabled: false, status: 'disabled' } });
  });

  describe('once enabled', () => {
    let api: Client;
    beforeAll(async () => {
      ({ test: api } = await newAccount());
      const res = await api.post('/v2/settings/auto_rescue', {
        enabled: true,
        max_retries: 3,
        retry_window_days: 10,
        qualifying: { subscription_payments: true, off_session_payments: true, amount_over: 10_000 },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...DEFAULTS, enabled: true, max_retries: 3, retry_window_days: 10, qualifying: { subscription_payments: true, off_session_payments: true, amount_over: 10_000 } });
      expect((await api.get('/v2/settings/auto_rescue')).body).toEqual(res.body);
    });

    it.each([
      ['a subscription payment (metadata.subscription_id)', { metadata: { subscription_id: 'sub_123' } }],
      ['an off-session payment', { off_session: true }],
      ['a payment over the threshold', { amount: 10_001 }],
    ])('rescues %s that has no auto_rescue of its own, with the account\'s budget', async (_name, over) => {
      const p = (await api.post('/v2/payments', failing(over))).body;
      expect(p.status).toBe('requires_rescue');
      expect(p.auto_rescue).toMatchObject({ enabled: true, status: 'active', attempts_made: 1, max_retries: 3 });
      expect(Date.parse(p.auto_rescue.retry_window_ends_at) - Date.parse(p.created_at)).toBe(10 * DAY_MS);
      expect(p.rescue_schedule.scheduled_retries.length).toBeGreaterThan(0);
      expect(p.rescue_schedule.scheduled_retries.length).toBeLessThanOrEqual(3);
    });

    it.each([
      ['an on-session one-off payment', {}],
      ['a payment exactly at the threshold', { amount: 10_000 }],
      ['a payment with other metadata', { metadata: { order_id: 'o_1' } }],
    ])('lets %s fail', async (_name, over) => {
      const p = (await api.post('/v2/payments', failing(over))).body;
      expect(p).toMatchObject({ status: 'failed', rescue_schedule: null, auto_rescue: { enabled: false, status: 'disabled' } });
    });

    it('a payment\'s own enabled:false wins over the account default', async () => {
      const p = (await api.post('/v2/payments', failing({ off_session: true, metadata: { subscription_id: 'sub_9' }, auto_rescue: { enabled: false } }))).body;
      expect(p).toMatchObject({ status: 'failed', auto_rescue: { enabled: false, status: 'disabled' } });
    });

    it('a payment\'s own options override single fields of the default', async () => {
      const p = (await api.post('/v2/payments', failing({ off_session: true, auto_rescue: { max_retries: 1 } }))).body;
      expect(p.status).toBe('requires_rescue');
      expect(p.auto_rescue.max_retries).toBe(1);
      expect(p.rescue_schedule.scheduled_retries).toHaveLength(1);
      expect(Date.parse(p.auto_rescue.retry_window_ends_at) - Date.parse(p.created_at)).toBe(10 * DAY_MS);
    });

    it('a hard decline still fails at once', async () => {
      const p = (await api.post('/v2/payments', failing({ off_session: true, payment_method: 'pm_card_chargeDeclinedStolenCard' }))).body;
      expect(p).toMatchObject({ status: 'failed', failure_code: 'stolen_card', rescue_schedule: null, auto_rescue: { enabled: true, status: 'not_retryable' } });
    });
  });

  it('updates only the fields sent, and each qualifying rule can be switched off', async () => {
    const { test } = await newAccount();
    await test.post('/v2/settings/auto_rescue', { enabled: true, max_retries: 6 });
    const res = await test.post('/v2/settings/auto_rescue', { notify_customer: false, qualifying: { subscription_payments: false } });
    expect(res.body).toMatchObject({ enabled: true, max_retries: 6, notify_customer: false, qualifying: { subscription_payments: false, off_session_payments: true, amount_over: null } });

    expect((await test.post('/v2/payments', failing({ metadata: { subscription_id: 'sub_1' } }))).body.status).toBe('failed');
    expect((await test.post('/v2/payments', failing({ off_session: true }))).body.status).toBe('requires_rescue');

    await test.post('/v2/settings/auto_rescue', { qualifying: { off_session_payments: false, amount_over: 0 } });
    // amount_over 0 means every payment qualifies.
    expect((await test.post('/v2/payments', failing({ amount: 1 }))).body.status).toBe('requires_rescue');
    await test.post('/v2/settings/auto_rescue', { qualifying: { amount_over: null } });
    expect((await test.post('/v2/payments', failing({ off_session: true, amount: 99_999 }))).body.status).toBe('failed');

    // Turning Auto Rescue off stops default rescues but keeps the settings.
    const off = await test.post('/v2/settings/auto_rescue', { enabled: false });
    expect(off.body).toMatchObject({ enabled: false, max_retries: 6 });
    await test.post('/v2/settings/auto_rescue', { qualifying: { off_session_payments: true } });
    expect((await test.post('/v2/payments', failing({ off_session: true }))).body.status).toBe('failed');
    // ...while a payment that asks for it still gets it.
    expect((await test.post('/v2/payments', failing({ auto_rescue: { enabled: true } }))).body.auto_rescue).toMatchObject({ status: 'active', max_retries: 6 });
  });

  it('an account-level custom schedule plans its days for qualifying payments; automatic clears them', async () => {
    const { test } = await newAccount();
    const set = await test.post('/v2/settings/auto_rescue', { enabled: true, retry_schedule: 'custom', custom_schedule_days: [1, 3, 7], max_retries: 3 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ retry_schedule: 'custom', custom_schedule_days: [1, 3, 7] });

    const start = Date.parse('2026-09-01T12:00:00Z');
    const clock = (await test.post('/v2/test_clocks', { frozen_time: start / 1000 })).body;
    const customer = (await test.post('/v2/customers', { test_clock: clock.id })).body;
    const p = (await test.post('/v2/payments', failing({ customer: customer.id, off_session: true }))).body;
    expect(p.status).toBe('requires_rescue');
    expect(p.rescue_schedule.scheduled_retries.map((r: any) => (Date.parse(r.scheduled_at) - start) / DAY_MS)).toEqual([1, 3, 7]);

    const back = await test.post('/v2/settings/auto_rescue', { retry_schedule: 'automatic' });
    expect(back.body).toMatchObject({ retry_schedule: 'automatic', custom_schedule_days: null });
  });

  it('accepts the seed\'s custom example as an account default, as a payment does', async () => {
    const { test } = await newAccount();
    const res = await test.post('/v2/settings/auto_rescue', { enabled: true, retry_schedule: 'custom', custom_schedule_days: [1, 2, 5, 10, 15], max_retries: 5 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ custom_schedule_days: [1, 2, 5, 10, 15], max_retries: 5 });
    expect(res.body.retry_window_days).toBeGreaterThanOrEqual(15);
    // Days alone: the count follows the days, as on a payment, and the schedule becomes custom.
    await test.post('/v2/settings/auto_rescue', { retry_schedule: 'automatic' });
    const days = await test.post('/v2/settings/auto_rescue', { custom_schedule_days: [2, 4, 6, 8, 10, 12] });
    expect(days.status, JSON.stringify(days.body)).toBe(200);
    expect(days.body).toMatchObject({ retry_schedule: 'custom', max_retries: 6 });
    // An explicit count or window is still checked against the days.
    expectError(await test.post('/v2/settings/auto_rescue', { custom_schedule_days: [1, 2, 3], max_retries: 2 }), 400, { param: 'custom_schedule_days' });
    expectError(await test.post('/v2/settings/auto_rescue', { custom_schedule_days: [1, 20], retry_window_days: 14 }), 400, { param: 'custom_schedule_days[1]' });
    expect((await test.get('/v2/settings/auto_rescue')).body).toMatchObject({ custom_schedule_days: [2, 4, 6, 8, 10, 12], max_retries: 6 });
  });

  it.each([
    ['max_retries 0', { max_retries: 0 }, 'max_retries'],
    ['max_retries 9', { max_retries: 9 }, 'max_retries'],
    ['retry_window_days 6', { retry_window_days: 6 }, 'retry_window_days'],
    ['retry_window_days 31', { retry_window_days: 31 }, 'retry_window_days'],
    ['enabled "yes"', { enabled: 'yes' }, 'enabled'],
    ['retry_schedule "hourly"', { retry_schedule: 'hourly' }, 'retry_schedule'],
    ['custom without days', { retry_schedule: 'custom' }, 'custom_schedule_days'],
    ['days not ascending', { retry_schedule: 'custom', custom_schedule_days: [5, 3] }, 'custom_schedule_days[1]'],
    ['a day beyond an explicit window', { retry_schedule: 'custom', custom_schedule_days: [1, 8], retry_window_days: 7 }, 'custom_schedule_days[1]'],
    ['a negative threshold', { qualifying: { amount_over: -1 } }, 'qualifying[amount_over]'],
    ['a threshold that is not an integer', { qualifying: { amount_over: 10.5 } }, 'qualifying[amount_over]'],
    ['an unknown qualifying rule', { qualifying: { annual_payments: true } }, 'qualifying[annual_payments]'],
    ['an unknown field', { retry_hours: 6 }, 'retry_hours'],
    ['a negative price of time', { daily_churn_hazard: -0.01 }, 'daily_churn_hazard'],
    ['a price of time over half a day\'s value', { daily_churn_hazard: 0.6 }, 'daily_churn_hazard'],
  ])('refuses %s with 400 naming the param, and keeps the settings', async (_name, body, param) => {
    const test = await untouched();
    expectError(await test.post('/v2/settings/auto_rescue', body), 400, { type: 'invalid_request_error', code: 'parameter_invalid', param });
    expect((await test.get('/v2/settings/auto_rescue')).body).toEqual(DEFAULTS);
  });
});

describe('gateway settings', () => {
  it('default to the sandbox in test mode and to none in live mode, where payments are refused until a gateway is set', async () => {
    const { test, live } = await newAccount();
    expect((await test.get('/v2/settings/gateway')).body).toEqual({ object: 'gateway_settings', livemode: false, type: 'sandbox' });
    expect((await live.get('/v2/settings/gateway')).body).toEqual({ object: 'gateway_settings', livemode: true, type: 'none' });
    expectError(await live.post('/v2/payments', { amount: 100, currency: 'USD', payment_method: 'pm_card_visa' }), 400, { code: 'gateway_not_configured' });
    expect((await live.get('/v2/payments')).body.data).toEqual([]);
    expectError(await live.post('/v2/settings/gateway', { type: 'sandbox' }), 400, { param: 'type' });
  });

  it('take a loopback http endpoint with a test key, show the new secret once, then mask it', async () => {
    const { test } = await newAccount();
    const set = await test.post('/v2/settings/gateway', { type: 'http', url: 'http://127.0.0.1:4567/charge' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ object: 'gateway_settings', livemode: false, type: 'http', url: 'http://127.0.0.1:4567/charge', secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/) });
    const secret: string = set.body.secret;

    const got = await test.get('/v2/settings/gateway');
    expect(got.body).toMatchObject({ type: 'http', url: 'http://127.0.0.1:4567/charge' });
    expect(got.body.secret).not.toBe(secret);
    expect(JSON.stringify(got.body)).not.toContain(secret.slice(10));
    expect(secret.startsWith(got.body.secret.replace(/…$/, ''))).toBe(true);

    for (const url of ['http://localhost:8080/pay', 'http://[::1]:8080/pay', 'http://10.0.0.5/pay', 'https://192.168.1.20/pay']) {
      expect((await test.post('/v2/settings/gateway', { type: 'http', url })).status, url).toBe(200);
    }
  });

  it('keep a secret the merchant supplies, and a new one each time otherwise', async () => {
    const { test } = await newAccount();
    const mine = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const set = await test.post('/v2/settings/gateway', { type: 'http', url: 'https://billing.example.com/charge', secret: mine });
    expect(set.body.secret).toBe(mine);
    const a = (await test.post('/v2/settings/gateway', { type: 'http', url: 'https://billing.example.com/charge' })).body.secret;
    const b = (await test.post('/v2/settings/gateway', { type: 'http', url: 'https://billing.example.com/charge' })).body.secret;
    expect(a).not.toBe(b);
  });

  it('refuse loopback and private addresses with a live key (400 url) and keep the old gateway', async () => {
    const { live, test } = await newAccount();
    for (const url of ['http://127.0.0.1:4567/charge', 'http://localhost/charge', 'http://[::1]/charge', 'http://10.1.2.3/charge', 'http://172.16.0.1/charge', 'http://192.168.0.10/charge', 'http://169.254.169.254/latest/meta-data', 'http://[::ffff:127.0.0.1]/charge', 'http://[::127.0.0.1]/charge', 'http://2130706433/charge', 'http://0x7f.1/charge', 'http://localhost./charge', 'http://[fd12:3456::1]/charge']) {
      expectError(await live.post('/v2/settings/gateway', { type: 'http', url }), 400, { type: 'invalid_request_error', code: 'gateway_url_not_allowed', param: 'url' });
    }
    expect((await live.get('/v2/settings/gateway')).body).toMatchObject({ type: 'none', livemode: true });
    // A public address is fine in live mode (an IP literal, so no DNS lookup is needed).
    const ok = await live.post('/v2/settings/gateway', { type: 'http', url: 'https://93.184.215.14/charge' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ livemode: true, type: 'http' });
    // The test mode gateway is separate.
    expect((await test.get('/v2/settings/gateway')).body.type).toBe('sandbox');
  });

  it.each([
    ['an unknown gateway type', { type: 'paypal' }, 'type'],
    ['a missing type', { url: 'https://x.example.com' }, 'type'],
    ['http without a url', { type: 'http' }, 'url'],
    ['a url that is not http(s)', { type: 'http', url: 'ftp://files.example.com/charge' }, 'url'],
    ['a url that is not a url', { type: 'http', url: 'billing endpoint' }, 'url'],
    ['a secret that is not whsec_', { type: 'http', url: 'https://x.example.com', secret: 'hunter2' }, 'secret'],
    ['a url on the sandbox', { type: 'sandbox', url: 'https://x.example.com' }, 'url'],
  ])('refuse %s with 400 naming the param', async (_name, body, param) => {
    const test = await untouched();
    expectError(await test.post('/v2/settings/gateway', body), 400, { type: 'invalid_request_error', param });
    expect((await test.get('/v2/settings/gateway')).body.type).toBe('sandbox');
  });

  it('can go back to the sandbox', async () => {
    const { test } = await newAccount();
    await test.post('/v2/settings/gateway', { type: 'http', url: 'http://127.0.0.1:1/charge' });
    expect((await test.post('/v2/settings/gateway', { type: 'sandbox' })).body).toEqual({ object: 'gateway_settings', livemode: false, type: 'sandbox' });
    expect((await test.post('/v2/payments', { amount: 100, currency: 'USD', payment_method: 'pm_card_visa' })).body.status).toBe('succeeded');
  });
});
