import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

let t: TestRescue;
let api: Client;
let live: Client;
beforeAll(async () => {
  t = await startTestRescue({ worker: false });
  const keys = await t.signup();
  api = t.client(keys.testKey);
  live = t.client(keys.liveKey);
});
afterAll(() => t.close());

describe('POST /v2/customers', () => {
  it('creates a customer with every field and returns it as GET does', async () => {
    const res = await api.post('/v2/customers', {
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      timezone: 'Europe/London',
      locale: 'en-GB',
      metadata: { crm_id: '42', plan: 'gold' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^cus_[0-9A-Za-z]{24}$/),
      object: 'customer',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      timezone: 'Europe/London',
      locale: 'en-GB',
      metadata: { crm_id: '42', plan: 'gold' },
      test_clock: null,
      livemode: false,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const age = Date.now() - Date.parse(res.body.created_at);
    expect(age).toBeGreaterThanOrEqual(-1000);
    expect(age).toBeLessThan(60_000);

    const got = await api.get(`/v2/customers/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('fills defaults for an empty body: UTC, no email, no metadata', async () => {
    const res = await api.post('/v2/customers', {});
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: null, name: null, timezone: 'UTC', locale: null, metadata: {}, test_clock: null });
  });

  it('accepts any IANA zone, including ones with half-hour offsets', async () => {
    for (const timezone of ['America/New_York', 'Asia/Kolkata', 'Australia/Adelaide', 'America/Argentina/Buenos_Aires']) {
      const res = await api.post('/v2/customers', { timezone });
      expect(res.status, timezone).toBe(201);
      expect(res.body.timezone).toBe(timezone);
    }
  });

  it('stores a zone typed in the wrong case under its IANA spelling', async () => {
    const res = await api.post('/v2/customers', { timezone: 'america/new_york' });
    expect(res.status).toBe(201);
    expect(res.body.timezone).toBe('America/New_York');
  });

  it('puts a customer on a test clock at the clock\'s time', async () => {
    const frozen = Math.floor(Date.parse('2026-01-15T08:00:00Z') / 1000);
    const clock = (await api.post('/v2/test_clocks', { frozen_time: frozen })).body;
    const res = await api.post('/v2/customers', { name: 'Clocked', test_clock: clock.id });
    expect(res.status).toBe(201);
    expect(res.body.test_clock).toBe(clock.id);
    expect(res.body.created_at).toBe('2026-01-15T08:00:00Z');
  });

  it.each([
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, 'timezone'],
    ['a UTC offset instead of a zone', { timezone: '+05:30' }, 'timezone'],
    ['a bare UTC offset', { timezone: '-0800' }, 'timezone'],
    ['a time zone of the wrong type', { timezone: 5 }, 'timezone'],
    ['a malformed email', { email: 'ada-at-example' }, 'email'],
    ['a malformed locale', { locale: 'english please' }, 'locale'],
    ['metadata that is not an object', { metadata: 'vip' }, 'metadata'],
    ['a metadata value that is not a string', { metadata: { tier: 1 } }, 'metadata[tier]'],
    ['a metadata value over 500 characters', { metadata: { note: 'x'.repeat(501) } }, 'metadata[note]'],
    ['more than 50 metadata keys', { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    ['a name over 256 characters', { name: 'n'.repeat(257) }, 'name'],
    ['an unknown field', { phone: '+1 555 0100' }, 'phone'],
  ])('refuses %s with 400 naming the param', async (_name, body, param) => {
    const before = (await api.get('/v2/customers?limit=100')).body.data.length;
    const res = await api.post('/v2/customers', body);
    expectError(res, 400, { type: 'invalid_request_error', code: 'parameter_invalid', param });
    expect((await api.get('/v2/customers?limit=100')).body.data.length).toBe(before);
  });

  it('refuses an unknown test clock with 404 naming test_clock', async () => {
    expectError(await api.post('/v2/customers', { test_clock: 'clock_doesnotexist' }), 400, { type: 'invalid_request_error', code: 'resource_missing', param: 'test_clock' });
  });

  it('refuses a test clock with a live key (400 test_clock)', async () => {
    const clock = (await api.post('/v2/test_clocks', { frozen_time: 1_800_000_000 })).body;
    expectError(await live.post('/v2/customers', { test_clock: clock.id }), 400, { param: 'test_clock' });
  });

  it('takes the merchant\'s own id (seed 003\'s cus_abc123), unique within the account and its modes', async () => {
    const res = await api.post('/v2/customers', { id: 'cus_abc123', email: 'abc@example.com' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: 'cus_abc123', email: 'abc@example.com' });
    expect((await api.get('/v2/customers/cus_abc123')).body).toEqual(res.body);
    expectError(await api.post('/v2/customers', { id: 'cus_abc123' }), 409, { code: 'resource_already_exists', param: 'id' });
    // The live mode of the same account cannot take it either: one id, one customer.
    expectError(await live.post('/v2/customers', { id: 'cus_abc123' }), 409, { code: 'resource_already_exists', param: 'id' });
    // Another account has its own cus_abc123.
    const other = t.client((await t.signup()).testKey);
    expect((await other.post('/v2/customers', { id: 'cus_abc123', email: 'other@example.com' })).status).toBe(201);
    expect((await api.get('/v2/customers/cus_abc123')).body.email).toBe('abc@example.com');
  });

  it.each([['a space', 'cus abc'], ['a slash', 'cus/1'], ['101 characters', `c${'x'.repeat(100)}`], ['an empty id', ''], ['a leading dash', '-cus']])('refuses an id with %s (400 naming id)', async (_name, id) => {
    expectError(await api.post('/v2/customers', { id }), 400, { code: 'parameter_invalid', param: 'id' });
  });

  it('creates the customer a payment names on first use, and uses it after', async () => {
    const first = await api.post('/v2/payments', { amount: 500, currency: 'USD', customer: 'user-42', payment_method: 'pm_card_visa' });
    expect(first.status).toBe(201);
    expect(first.body.customer).toBe('user-42');
    const customer = (await api.get('/v2/customers/user-42')).body;
    expect(customer).toMatchObject({ id: 'user-42', object: 'customer', email: null, timezone: 'UTC', livemode: false, test_clock: null });
    expect(Math.abs(Date.parse(customer.created_at) - Date.parse(first.body.created_at))).toBeLessThan(60_000);
    const second = await api.post('/v2/payments', { amount: 600, currency: 'USD', customer: 'user-42', payment_method: 'pm_card_visa' });
    expect(second.body.customer).toBe('user-42');
    expect((await api.get('/v2/customers/user-42')).body).toEqual(customer);
    expect((await api.get('/v2/payments?customer=user-42')).body.data.map((p: any) => p.id)).toEqual([second.body.id, first.body.id]);
  });

  it('answers invalid JSON with 400', async () => {
    const { testKey } = await t.signup();
    const res = await rawRequest(t.url, 'POST', '/v2/customers', { headers: { authorization: `Bearer ${testKey}`, 'content-type': 'application/json' }, body: "{'email': 'single quotes'}" });
    expectError(res, 400, { code: 'invalid_json' });
  });
});

describe('GET /v2/customers/:id', () => {
  it('answers an unknown id with 404', async () => {
    const res = await api.get('/v2/customers/cus_000000000000000000000000');
    expectError(res, 404, { type: 'invalid_request_error', code: 'resource_missing' });
    expect(res.body.error.message).toContain('cus_000000000000000000000000');
  });
});

describe('GET /v2/customers', () => {
  it('pages newest first with limit, starting_after and has_more', async () => {
    const c = t.client((await t.signup()).testKey);
    const empty = await c.get('/v2/customers');
    expect(empty.body).toEqual({ object: 'list', url: '/v2/customers', data: [], has_more: false });

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await c.post('/v2/customers', { name: `c${i}` })).body.id);
    const newestFirst = [...ids].reverse();

    const all = await c.get('/v2/customers');
    expect(all.status).toBe(200);
    expect(all.body.object).toBe('list');
    expect(all.body.has_more).toBe(false);
    expect(all.body.data.map((x: any) => x.id)).toEqual(newestFirst);
    expect(all.body.data[0]).toMatchObject({ object: 'customer', name: 'c4' });

    const p1 = await c.get('/v2/customers?limit=2');
    expect(p1.body.data.map((x: any) => x.id)).toEqual(newestFirst.slice(0, 2));
    expect(p1.body.has_more).toBe(true);
    const p2 = await c.get(`/v2/customers?limit=2&starting_after=${p1.body.data[1].id}`);
    expect(p2.body.data.map((x: any) => x.id)).toEqual(newestFirst.slice(2, 4));
    expect(p2.body.has_more).toBe(true);
    const p3 = await c.get(`/v2/customers?limit=2&starting_after=${p2.body.data[1].id}`);
    expect(p3.body.data.map((x: any) => x.id)).toEqual(newestFirst.slice(4));
    expect(p3.body.has_more).toBe(false);

    // Exactly a full last page is not "has more".
    const exact = await c.get(`/v2/customers?limit=3&starting_after=${newestFirst[1]}`);
    expect(exact.body.data).toHaveLength(3);
    expect(exact.body.has_more).toBe(false);
  });

  it('defaults to 10 a page', async () => {
    const c = t.client((await t.signup()).testKey);
    for (let i = 0; i < 11; i++) await c.post('/v2/customers', {});
    const page = await c.get('/v2/customers');
    expect(page.body.data).toHaveLength(10);
    expect(page.body.has_more).toBe(true);
    expect((await c.get('/v2/customers?limit=100')).body.data).toHaveLength(11);
  });

  it.each([['0'], ['101'], ['abc'], ['2.5'], ['-1']])('refuses limit=%s with 400 naming limit', async (limit) => {
    expectError(await api.get(`/v2/customers?limit=${limit}`), 400, { param: 'limit' });
  });

  it('refuses an unknown query parameter instead of ignoring it', async () => {
    expectError(await api.get('/v2/customers?email=ada@example.com'), 400, { code: 'parameter_invalid', param: 'email' });
  });

  it('answers an unknown starting_after with 400 naming starting_after', async () => {
    expectError(await api.get('/v2/customers?starting_after=cus_nope'), 400, { code: 'resource_missing', param: 'starting_after' });
  });
});
