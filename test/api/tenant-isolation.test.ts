import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type Merchant } from '../support/merchant.ts';

// No tenant sees another's data (DESIGN.md invariant 4), and a test key never sees live objects.
// Account A owns everything; account B probes it through every endpoint.

describe.each(ENGINES)('tenant isolation (%s)', (engine) => {
  let t: TestRescue;
  let merchant: Merchant;
  let a: Client;
  let b: Client;
  let aLive: Client;
  let bLive: Client;
  const A: { clock: string; customer: string; clockCustomer: string; rescuing: string; paid: string; livePayment: string; liveCustomer: string } = {} as never;

  beforeAll(async () => {
    t = await startTestRescue({ engine, worker: false, env: { RESCUE_LIVE_GATEWAY_PRIVATE_ADDRESSES: 'true' } });
    merchant = await startMerchant(() => ({ charge: { status: 'succeeded', transaction_id: `txn_${Math.random().toString(36).slice(2)}` } }));
    const [ka, kb] = await Promise.all([t.signup(), t.signup()]);
    a = t.client(ka.testKey);
    aLive = t.client(ka.liveKey);
    b = t.client(kb.testKey);
    bLive = t.client(kb.liveKey);

    A.clock = (await a.post('/v2/test_clocks', { frozen_time: 1_790_000_000, name: 'A clock' })).body.id;
    A.customer = (await a.post('/v2/customers', { email: 'a@example.com' })).body.id;
    A.clockCustomer = (await a.post('/v2/customers', { email: 'c@example.com', test_clock: A.clock })).body.id;
    const rescuing = await a.post('/v2/payments', { amount: 2000, currency: 'USD', customer: A.clockCustomer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true } });
    expect(rescuing.body.status).toBe('requires_rescue');
    A.rescuing = rescuing.body.id;
    A.paid = (await a.post('/v2/payments', { amount: 1000, currency: 'USD', customer: A.customer, payment_method: 'pm_card_visa' })).body.id;
    expect((await aLive.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret })).status).toBe(200);
    A.liveCustomer = (await aLive.post('/v2/customers', { email: 'live@example.com' })).body.id;
    A.livePayment = (await aLive.post('/v2/payments', { amount: 3000, currency: 'USD', customer: A.liveCustomer, payment_method: 'pm_card_visa' })).body.id;
    expect(Object.values(A).every((id) => typeof id === 'string')).toBe(true);
  });
  afterAll(async () => {
    await t.close();
    await merchant.close();
  });

  describe('another account', () => {
    it('gets 404 for every one of A\'s objects', async () => {
      for (const path of [
        `/v2/payments/${A.rescuing}`,
        `/v2/payments/${A.paid}`,
        `/v2/payments/${A.livePayment}`,
        `/v2/customers/${A.customer}`,
        `/v2/customers/${A.clockCustomer}`,
        `/v2/test_clocks/${A.clock}`,
      ]) {
        expectError(await b.get(path), 404, { type: 'invalid_request_error', code: 'resource_missing' });
      }
      expectError(await bLive.get(`/v2/payments/${A.livePayment}`), 404, { code: 'resource_missing' });
      expectError(await bLive.get(`/v2/customers/${A.liveCustomer}`), 404, { code: 'resource_missing' });
    });

    it('never lists A\'s objects', async () => {
      for (const [client, path] of [[b, '/v2/payments?limit=100'], [b, '/v2/customers?limit=100'], [b, '/v2/test_clocks?limit=100'], [bLive, '/v2/payments?limit=100'], [bLive, '/v2/customers?limit=100']] as const) {
        const res = await client.get(path);
        expect(res.status).toBe(200);
        expect(res.body.data).toEqual([]);
      }
      expect((await b.get(`/v2/payments?customer=${A.customer}`)).body.data).toEqual([]);
      expect((await b.get('/v2/payments?status=requires_rescue')).body.data).toEqual([]);
      // A's ids do not work as B's cursors either.
      expectError(await b.get(`/v2/payments?starting_after=${A.paid}`), 400, { param: 'starting_after' });
      expectError(await b.get(`/v2/customers?starting_after=${A.customer}`), 400, { param: 'starting_after' });
    });

    it('cannot cancel, retry or advance A\'s things, and A\'s payment is untouched', async () => {
      const before = (await a.get(`/v2/payments/${A.rescuing}`)).body;
      expectError(await b.post(`/v2/payments/${A.rescuing}/cancel_rescue`), 404, { code: 'resource_missing' });
      expectError(await b.post(`/v2/payments/${A.rescuing}/retry_now`), 404, { code: 'resource_missing' });
      expectError(await b.post(`/v2/test_clocks/${A.clock}/advance`, { frozen_time: 1_800_000_000 }), 404, { code: 'resource_missing' });
      const after = (await a.get(`/v2/payments/${A.rescuing}`)).body;
      expect(after).toEqual(before);
      expect(after.status).toBe('requires_rescue');
      expect(after.rescue_history).toHaveLength(1);
      const clock = (await a.get(`/v2/test_clocks/${A.clock}`)).body;
      expect(clock).toMatchObject({ status: 'ready', frozen_time: 1_790_000_000 });
    });

    it('cannot charge A\'s customer or put its own customer on A\'s clock', async () => {
      expectError(await b.post('/v2/customers', { test_clock: A.clock }), 400, { code: 'resource_missing', param: 'test_clock' });
      expect((await b.get('/v2/payments')).body.data).toEqual([]);
      expect((await b.get('/v2/customers')).body.data).toEqual([]);
      expect((await a.get(`/v2/payments?customer=${A.customer}`)).body.data.map((p: any) => p.id)).toEqual([A.paid]);
    });

    it('naming A\'s customer id gets a customer of its own with that id, none of A\'s (ids are per account)', async () => {
      const c = t.client((await t.signup()).testKey);
      const paid = await c.post('/v2/payments', { amount: 500, currency: 'USD', customer: A.customer, payment_method: 'pm_card_visa' });
      expect(paid.status).toBe(201);
      expect((await c.get(`/v2/customers/${A.customer}`)).body).toMatchObject({ id: A.customer, email: null });
      expect((await a.get(`/v2/customers/${A.customer}`)).body).toMatchObject({ id: A.customer, email: 'a@example.com' });
      expect((await a.get(`/v2/payments?customer=${A.customer}`)).body.data.map((p: any) => p.id)).toEqual([A.paid]);
      expect((await c.get(`/v2/payments?customer=${A.customer}`)).body.data.map((p: any) => p.id)).toEqual([paid.body.id]);
    });

    it('sees only its own objects once it has some', async () => {
      const mine = (await b.post('/v2/customers', { name: 'B' })).body.id;
      const pay = (await b.post('/v2/payments', { amount: 700, currency: 'USD', customer: mine, payment_method: 'pm_card_visa' })).body.id;
      expect((await b.get('/v2/customers')).body.data.map((c: any) => c.id)).toEqual([mine]);
      expect((await b.get('/v2/payments')).body.data.map((p: any) => p.id)).toEqual([pay]);
      expectError(await a.get(`/v2/payments/${pay}`), 404);
      expect((await a.get('/v2/payments?limit=100')).body.data.map((p: any) => p.id)).not.toContain(pay);
    });

    it('keeps its own settings', async () => {
      expect((await b.post('/v2/settings/auto_rescue', { enabled: true, max_retries: 2 })).status).toBe(200);
      expect((await b.post('/v2/settings/gateway', { type: 'http', url: 'http://127.0.0.1:9/charge' })).status).toBe(200);
      expect((await a.get('/v2/settings/auto_rescue')).body).toMatchObject({ enabled: false, max_retries: 4 });
      expect((await a.get('/v2/settings/gateway')).body).toMatchObject({ type: 'sandbox' });
      // A still charges through the sandbox, unaffected by B's gateway.
      const p = await a.post('/v2/payments', { amount: 100, currency: 'USD', payment_method: 'pm_card_visa' });
      expect(p.body.status).toBe('succeeded');
    });
  });

  describe('test and live mode of one account', () => {
    it('a test key gets 404 for live objects, and a live key for test objects', async () => {
      expectError(await a.get(`/v2/payments/${A.livePayment}`), 404, { code: 'resource_missing' });
      expectError(await a.get(`/v2/customers/${A.liveCustomer}`), 404, { code: 'resource_missing' });
      expectError(await aLive.get(`/v2/payments/${A.paid}`), 404, { code: 'resource_missing' });
      expectError(await aLive.get(`/v2/customers/${A.customer}`), 404, { code: 'resource_missing' });
      expectError(await a.post(`/v2/payments/${A.livePayment}/cancel_rescue`), 404, { code: 'resource_missing' });
      expectError(await aLive.post(`/v2/payments/${A.rescuing}/cancel_rescue`), 404, { code: 'resource_missing' });
      expectError(await aLive.post(`/v2/payments/${A.rescuing}/retry_now`), 404, { code: 'resource_missing' });
      // An id is the account's in one mode: a test payment cannot name (nor create) a live customer.
      expectError(await a.post('/v2/payments', { amount: 500, currency: 'USD', customer: A.liveCustomer, payment_method: 'pm_card_visa' }), 400, { code: 'resource_missing', param: 'customer' });
    });

    it('lists are separate', async () => {
      const livePayments = (await aLive.get('/v2/payments?limit=100')).body.data;
      expect(livePayments.map((p: any) => p.id)).toEqual([A.livePayment]);
      expect(livePayments[0].livemode).toBe(true);
      expect((await aLive.get('/v2/customers?limit=100')).body.data.map((c: any) => c.id)).toEqual([A.liveCustomer]);
      const testPayments = (await a.get('/v2/payments?limit=100')).body.data;
      expect(testPayments.map((p: any) => p.id)).not.toContain(A.livePayment);
      expect(testPayments.every((p: any) => p.livemode === false)).toBe(true);
      expect((await a.get('/v2/customers?limit=100')).body.data.map((c: any) => c.id)).not.toContain(A.liveCustomer);
      expect((await a.get(`/v2/payments?customer=${A.liveCustomer}`)).body.data).toEqual([]);
    });

    it('a payment in one mode cannot use the other mode\'s customer', async () => {
      expectError(await a.post('/v2/payments', { amount: 100, currency: 'USD', customer: A.liveCustomer, payment_method: 'pm_card_visa' }), 400, { param: 'customer' });
      expectError(await aLive.post('/v2/payments', { amount: 100, currency: 'USD', customer: A.customer, payment_method: 'pm_card_visa' }), 400, { param: 'customer' });
    });

    it('settings are per mode', async () => {
      expect((await aLive.post('/v2/settings/auto_rescue', { enabled: true })).body).toMatchObject({ enabled: true, livemode: true });
      expect((await a.get('/v2/settings/auto_rescue')).body).toMatchObject({ enabled: false, livemode: false });
      expect((await aLive.post('/v2/settings/auto_rescue', { enabled: false })).status).toBe(200);
    });
  });
});
