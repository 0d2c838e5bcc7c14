import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Idempotency-Key, checked where it matters: the merchant's own charge endpoint (the http gateway)
// counts how many times it was asked to charge, so "only one charge" is observed, not inferred.

interface Merchant {
  url: string;
  charges: { payment: string; idempotency_key: string; payment_method: string }[];
  close(): Promise<void>;
}

async function startMerchant(): Promise<Merchant> {
  const charges: Merchant['charges'] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text);
      charges.push({ payment: body.payment, idempotency_key: body.idempotency_key, payment_method: body.payment_method });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify(
          body.payment_method === 'pm_nsf'
            ? { status: 'failed', decline_code: 'insufficient_funds', message: 'The card has insufficient funds.' }
            : { status: 'succeeded', transaction_id: `txn_${charges.length}` },
        ),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/charge`,
    charges,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.each(ENGINES)('Idempotency-Key (%s)', (engine) => {
  let t: TestRescue;
  let merchant: Merchant;
  let api: Client;

  beforeAll(async () => {
    [t, merchant] = await Promise.all([startTestRescue({ engine, worker: false, env: { RESCUE_LIVE_GATEWAY_PRIVATE_ADDRESSES: 'true' } }), startMerchant()]);
    api = await merchantAccount();
  });
  afterAll(async () => {
    await t.close();
    await merchant.close();
  });

  async function merchantAccount(): Promise<Client> {
    const client = t.client((await t.signup()).testKey);
    const gw = await client.post('/v2/settings/gateway', { type: 'http', url: merchant.url });
    expect(gw.status).toBe(200);
    return client;
  }

  const chargesFor = (paymentId: string) => merchant.charges.filter((c) => c.payment === paymentId);
  const body = (over: Record<string, unknown> = {}) => ({ amount: 4999, currency: 'USD', payment_method: 'pm_ok', metadata: { subscription_id: 'sub_1' }, ...over });
  const withKey = (key: string) => ({ 'Idempotency-Key': key });

  it('same key and same body: the same response, replayed, and the card charged once', async () => {
    const c = await merchantAccount();
    const first = await c.post('/v2/payments', body(), withKey('order-1001'));
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await c.post('/v2/payments', body(), withKey('order-1001'));
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);

    expect(chargesFor(first.body.id)).toHaveLength(1);
    const list = await c.get('/v2/payments');
    expect(list.body.data.map((p: any) => p.id)).toEqual([first.body.id]);
    expect((await c.get(`/v2/payments/${first.body.id}`)).body.rescue_history).toHaveLength(1);
  });

  it('replays a payment that went into rescue without a second attempt', async () => {
    const c = await merchantAccount();
    const req = body({ payment_method: 'pm_nsf', auto_rescue: { enabled: true } });
    const first = await c.post('/v2/payments', req, withKey('order-2002'));
    expect(first.body.status).toBe('requires_rescue');
    const second = await c.post('/v2/payments', req, withKey('order-2002'));
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    const now = (await c.get(`/v2/payments/${first.body.id}`)).body;
    expect(now.rescue_history).toHaveLength(1);
    expect(now.auto_rescue.attempts_made).toBe(1);
    expect(chargesFor(first.body.id)).toHaveLength(1);
  });

  it('treats the same fields in another order as the same request', async () => {
    const first = await api.post('/v2/payments', { currency: 'USD', amount: 700, payment_method: 'pm_ok', metadata: { b: '2', a: '1' } }, withKey('reordered'));
    const second = await api.post('/v2/payments', { metadata: { a: '1', b: '2' }, payment_method: 'pm_ok', amount: 700, currency: 'USD' }, withKey('reordered'));
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    expect(chargesFor(first.body.id)).toHaveLength(1);
  });

  it('same key with a different body is a 409 idempotency_error, and charges nothing', async () => {
    const c = await merchantAccount();
    const first = await c.post('/v2/payments', body(), withKey('order-3003'));
    expect(first.status).toBe(201);
    const before = merchant.charges.length;
    for (const changed of [body({ amount: 5000 }), body({ currency: 'EUR' }), body({ metadata: {} }), body({ off_session: true })]) {
      expectError(await c.post('/v2/payments', changed, withKey('order-3003')), 409, { type: 'idempotency_error', code: 'idempotency_key_reused' });
    }
    // The same key on another endpoint is a different request too.
    expectError(await c.post('/v2/customers', { name: 'x' }, withKey('order-3003')), 409, { type: 'idempotency_error' });
    expect(merchant.charges.length).toBe(before);
    expect((await c.get('/v2/payments')).body.data).toHaveLength(1);
    expect((await c.get('/v2/customers')).body.data).toHaveLength(0);
    // The original is still replayed intact.
    const again = await c.post('/v2/payments', body(), withKey('order-3003'));
    expect(again.body).toEqual(first.body);
  });

  it('different keys are different payments, each charged once', async () => {
    const c = await merchantAccount();
    const a = await c.post('/v2/payments', body(), withKey('k-a'));
    const b = await c.post('/v2/payments', body(), withKey('k-b'));
    const none = await c.post('/v2/payments', body());
    expect([a.status, b.status, none.status]).toEqual([201, 201, 201]);
    expect(new Set([a.body.id, b.body.id, none.body.id]).size).toBe(3);
    for (const p of [a, b, none]) expect(chargesFor(p.body.id)).toHaveLength(1);
    expect((await c.get('/v2/payments')).body.data).toHaveLength(3);
  });

  it('keys belong to one account and one mode', async () => {
    const other = await merchantAccount();
    const mine = await api.post('/v2/payments', body(), withKey('shared-key'));
    const theirs = await other.post('/v2/payments', body(), withKey('shared-key'));
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);
    // A different body under the other account's key is not a conflict either.
    const third = t.client((await t.signup()).testKey);
    expect((await third.post('/v2/payments', { amount: 1, currency: 'GBP', payment_method: 'pm_card_visa' }, withKey('shared-key'))).status).toBe(201);
    expect((await other.get(`/v2/payments/${mine.body.id}`)).status).toBe(404);
  });

  it('the same key in live mode is a separate request', async () => {
    const keys = await t.signup();
    const test = t.client(keys.testKey);
    const live = t.client(keys.liveKey);
    expect((await live.post('/v2/settings/gateway', { type: 'http', url: merchant.url })).status).toBe(200);
    const req = { amount: 1200, currency: 'USD', payment_method: 'pm_card_visa' };
    const a = await test.post('/v2/payments', req, withKey('mode-key'));
    const b = await live.post('/v2/payments', req, withKey('mode-key'));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect([a.body.livemode, b.body.livemode]).toEqual([false, true]);
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('concurrent requests with one key make one payment and one charge', async () => {
    const c = await merchantAccount();
    const replies = await Promise.all(Array.from({ length: 6 }, () => c.post('/v2/payments', body({ amount: 1234 }), withKey('burst'))));
    const ok = replies.filter((r) => r.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of replies) {
      if (r.status !== 201) expectError(r, 409, { type: 'idempotency_error', code: 'idempotency_key_in_use' });
    }
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
    const list = (await c.get('/v2/payments')).body.data;
    expect(list).toHaveLength(1);
    expect(chargesFor(list[0].id)).toHaveLength(1);
    // Once settled, the key replays the finished payment.
    const after = await c.post('/v2/payments', body({ amount: 1234 }), withKey('burst'));
    expect(after.headers.get('idempotent-replayed')).toBe('true');
    expect(after.body).toEqual(list[0]);
  });

  it('a refused request (400) does not use up its key', async () => {
    const c = await merchantAccount();
    expectError(await c.post('/v2/payments', body({ amount: -1 }), withKey('fix-and-retry')), 400, { param: 'amount' });
    const fixed = await c.post('/v2/payments', body(), withKey('fix-and-retry'));
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    expect(chargesFor(fixed.body.id)).toHaveLength(1);
  });

  it('replays a refusal (400: a customer id the account uses in live mode) the same way it answered it', async () => {
    const keys = await t.signup();
    const test = t.client(keys.testKey);
    expect((await t.client(keys.liveKey).post('/v2/customers', { id: 'cus_live_only' })).status).toBe(201);
    const req = body({ customer: 'cus_live_only', payment_method: 'pm_card_visa' });
    const first = await test.post('/v2/payments', req, withKey('ghost-customer'));
    expectError(first, 400, { code: 'resource_missing', param: 'customer' });
    const second = await test.post('/v2/payments', req, withKey('ghost-customer'));
    expect(second.status).toBe(400);
    expect(second.body).toEqual(first.body);
  });

  it('retry_now with a key runs the retry once', async () => {
    const c = await merchantAccount();
    const p = (await c.post('/v2/payments', body({ payment_method: 'pm_nsf', auto_rescue: { enabled: true, max_retries: 4 } }))).body;
    expect(p.status).toBe('requires_rescue');
    const first = await c.post(`/v2/payments/${p.id}/retry_now`, undefined, withKey(`retry-${p.id}`));
    expect(first.status).toBe(200);
    const second = await c.post(`/v2/payments/${p.id}/retry_now`, undefined, withKey(`retry-${p.id}`));
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(chargesFor(p.id)).toHaveLength(2);
    expect((await c.get(`/v2/payments/${p.id}`)).body.rescue_history).toHaveLength(2);
    // Each attempt went to the merchant under its own gateway idempotency key.
    expect(new Set(chargesFor(p.id).map((ch) => ch.idempotency_key)).size).toBe(2);
  });

  it.each([['an empty key', ''], ['a key over 255 characters', 'k'.repeat(256)]])('refuses %s with 400 naming Idempotency-Key', async (_n, key) => {
    const c = await merchantAccount();
    expectError(await c.post('/v2/payments', body(), withKey(key)), 400, { param: 'Idempotency-Key' });
    expect((await c.get('/v2/payments')).body.data).toHaveLength(0);
  });
});
