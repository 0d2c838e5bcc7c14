import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { request, startTestRescue, type TestRescue } from '../support/harness.ts';

let t: TestRescue;
beforeAll(async () => {
  t = await startTestRescue({ worker: false });
});
afterAll(() => t.close());

const signup = (body: unknown) => request(t.url, 'POST', '/signup', undefined, body);
const uniqueEmail = (tag: string) => `${tag}-${Math.random().toString(36).slice(2, 10)}@example.com`;

describe('POST /signup', () => {
  it('creates an account with a test and a live secret key', async () => {
    const email = uniqueEmail('Founder').replace('example.com', 'Example.COM');
    const res = await signup({ email, password: 'correct horse battery', business_name: 'Acme Fitness' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      account: { id: expect.stringMatching(/^acct_[0-9A-Za-z]{24}$/), object: 'account', email: email.toLowerCase(), business_name: 'Acme Fitness', created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
      api_keys: { test: expect.stringMatching(/^sk_test_[0-9A-Za-z]{20,}$/), live: expect.stringMatching(/^sk_live_[0-9A-Za-z]{20,}$/) },
    });
    expect(Number.isNaN(Date.parse(res.body.account.created_at))).toBe(false);
    expect(JSON.stringify(res.body)).not.toContain('correct horse battery');
    expect(JSON.stringify(res.body)).not.toMatch(/password/);

    // Both keys work at once, each in its own mode.
    const test = await request(t.url, 'POST', '/v2/customers', res.body.api_keys.test, { email: 'a@example.com' });
    const live = await request(t.url, 'POST', '/v2/customers', res.body.api_keys.live, { email: 'a@example.com' });
    expect([test.status, live.status]).toEqual([201, 201]);
    expect([test.body.livemode, live.body.livemode]).toEqual([false, true]);
  });

  it('gives every account its own keys', async () => {
    const [a, b] = await Promise.all([t.signup(), t.signup()]);
    expect(new Set([a.testKey, a.liveKey, b.testKey, b.liveKey]).size).toBe(4);
    expect(a.accountId).not.toBe(b.accountId);
  });

  it('refuses a second account for the same email, whatever its case, with 409', async () => {
    const email = uniqueEmail('dup');
    expect((await signup({ email, password: 'correct horse battery', business_name: 'First' })).status).toBe(201);
    for (const again of [email, email.toUpperCase(), email.replace(/^d/, 'D')]) {
      const res = await signup({ email: again, password: 'another password', business_name: 'Second' });
      expectError(res, 409, { type: 'invalid_request_error', code: 'email_taken', param: 'email' });
    }
  });

  it.each([
    ['a malformed email', { email: 'not-an-email' }, 'email', 'parameter_invalid'],
    ['an email of the wrong type', { email: 42 }, 'email', 'parameter_invalid'],
    ['a missing email', { email: undefined }, 'email', 'parameter_missing'],
    ['a short password', { password: 'short' }, 'password', 'parameter_invalid'],
    ['a missing password', { password: undefined }, 'password', 'parameter_missing'],
    ['a blank business name', { business_name: '   ' }, 'business_name', 'parameter_invalid'],
    ['a missing business name', { business_name: undefined }, 'business_name', 'parameter_missing'],
    ['an unknown field', { plan: 'pro' }, 'plan', 'parameter_invalid'],
  ])('refuses %s with 400 naming the param', async (_name, change, param, code) => {
    const email = uniqueEmail('bad');
    const res = await signup({ email, password: 'correct horse battery', business_name: 'Acme', ...change });
    expectError(res, 400, { type: 'invalid_request_error', code, param });
    // Nothing was created: the same email can still sign up.
    if (param !== 'email') expect((await signup({ email, password: 'correct horse battery', business_name: 'Acme' })).status).toBe(201);
  });

  it('answers a body that is not JSON with a 400 JSON error, not a 500', async () => {
    const res = await rawRequest(t.url, 'POST', '/signup', { headers: { 'content-type': 'application/json' }, body: '{"email": "x@example.com",' });
    expectError(res, 400, { type: 'invalid_request_error', code: 'invalid_json' });
  });
});

describe('authentication', () => {
  let key: string;
  let liveKey: string;
  beforeAll(async () => {
    ({ testKey: key, liveKey } = await t.signup());
  });

  it.each([
    ["Plexy's `x-api-key: Bearer KEY`", (k: string) => ({ 'x-api-key': `Bearer ${k}` })],
    ["Revtain's `X-API-KEY: KEY`", (k: string) => ({ 'X-API-KEY': k })],
    ['`Authorization: Bearer KEY`', (k: string) => ({ Authorization: `Bearer ${k}` })],
  ])('accepts the key as %s', async (_name, headers) => {
    const created = await rawRequest(t.url, 'POST', '/v2/customers', {
      headers: { ...headers(key), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Header test' }),
    });
    expect(created.status).toBe(201);
    const got = await rawRequest(t.url, 'GET', `/v2/customers/${created.body.id}`, { headers: headers(key) });
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(created.body.id);
    // The live key through the same header form lands in live mode.
    const live = await rawRequest(t.url, 'GET', '/v2/settings/auto_rescue', { headers: headers(liveKey) });
    expect(live.status).toBe(200);
    expect(live.body.livemode).toBe(true);
  });

  it('reads Authorization when x-api-key is sent empty', async () => {
    const res = await rawRequest(t.url, 'GET', '/v2/payments', { headers: { 'x-api-key': '', authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
  });

  it('accepts JSON sent with a charset', async () => {
    const res = await rawRequest(t.url, 'POST', '/v2/customers', { headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ name: 'Zoë' }) });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Zoë');
  });

  it('answers a request without a key with 401', async () => {
    const res = await rawRequest(t.url, 'GET', '/v2/payments');
    expectError(res, 401, { type: 'authentication_error', code: 'api_key_missing', param: null });
    const forms: Record<string, string>[] = [{ authorization: 'Bearer ' }, { 'x-api-key': '' }, { 'x-api-key': 'Bearer' }];
    for (const headers of forms) {
      expectError(await rawRequest(t.url, 'GET', '/v2/payments', { headers }), 401, { type: 'authentication_error' });
    }
  });

  it('answers an unknown key with 401 without echoing the key', async () => {
    const bogus = `sk_test_${'x'.repeat(32)}`;
    const forms: Record<string, string>[] = [
      { authorization: `Bearer ${bogus}` },
      { 'x-api-key': `Bearer ${bogus}` },
      { 'x-api-key': bogus },
      { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
    ];
    for (const headers of forms) {
      const res = await rawRequest(t.url, 'GET', '/v2/payments', { headers });
      expectError(res, 401, { type: 'authentication_error', code: 'api_key_invalid' });
      expect(res.body.error.message).not.toContain(bogus);
    }
    // A key with a character changed is not the key.
    const tampered = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    expectError(await request(t.url, 'GET', '/v2/payments', tampered), 401, { code: 'api_key_invalid' });
  });

  it('checks the key before the body: a bad request without a key is a 401, not a 400', async () => {
    const res = await rawRequest(t.url, 'POST', '/v2/payments', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: -1 }) });
    expectError(res, 401, { type: 'authentication_error' });
  });

  it.each([
    ['GET', '/v2/customers'],
    ['POST', '/v2/customers'],
    ['GET', '/v2/customers/cus_x'],
    ['GET', '/v2/payments'],
    ['POST', '/v2/payments'],
    ['GET', '/v2/payments/pay_x'],
    ['POST', '/v2/payments/pay_x/cancel_rescue'],
    ['POST', '/v2/payments/pay_x/retry_now'],
    ['GET', '/v2/settings/auto_rescue'],
    ['POST', '/v2/settings/auto_rescue'],
    ['GET', '/v2/settings/gateway'],
    ['POST', '/v2/settings/gateway'],
    ['GET', '/v2/test_clocks'],
    ['POST', '/v2/test_clocks'],
    ['GET', '/v2/test_clocks/clock_x'],
    ['POST', '/v2/test_clocks/clock_x/advance'],
  ])('%s %s needs a key', async (method, path) => {
    const res = await rawRequest(t.url, method, path, method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {});
    expectError(res, 401, { type: 'authentication_error', code: 'api_key_missing' });
  });
});
