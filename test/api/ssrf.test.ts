import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resolver } from '../../src/egress/egress-guard.ts';
import { expectError } from '../support/api-assertions.ts';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type Merchant } from '../support/merchant.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';

// Issue 11's SSRF forms against the real server, for merchant gateways and webhook endpoints, in
// test and live mode, on a Rescue listening on loopback (test mode may reach private addresses, the
// embedded default) and on one that may not (RESCUE_TEST_PRIVATE_ADDRESSES=false, the default beyond
// loopback). Names are answered by an injected resolver, so DNS rebinding is a real case here:
// `rebind-*.test` names answer a public address to the first lookup (`rebind2-*.test` to the first
// two) and loopback afterwards.

const FORMS: [url: string, cls: 'forbidden' | 'private'][] = [
  ['http://169.254.169.254/latest/meta-data/', 'forbidden'],
  ['http://[100::1]/hook', 'forbidden'],
  ['http://10.0.0.1/hook', 'private'],
  ['http://127.0.0.1:5432/', 'private'],
  ['http://[::1]/hook', 'private'],
  ['http://[2002:7f00:1::1]/hook', 'private'],
  ['http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook', 'private'], // Teredo carrying 127.0.0.1
  ['http://[fec0::1]/hook', 'private'],
  ['http://loopback.test/hook', 'private'], // a name that resolves to loopback
];

const HARD_DECLINE = { amount: 100, currency: 'USD', payment_method: 'pm_card_chargeDeclinedLostCard', auto_rescue: { enabled: true } };

/** `loopback.test` → 127.0.0.1; `rebindN-*.test` → public N times (once without N), then 127.0.0.1. */
function resolver(): Resolver {
  const seen = new Map<string, number>();
  return async (host) => {
    if (host === 'loopback.test') return [{ address: '127.0.0.1', family: 4 }];
    const rebind = /^rebind(\d*)-.*\.test$/.exec(host);
    if (rebind) {
      const lookups = (seen.get(host) ?? 0) + 1;
      seen.set(host, lookups);
      return [{ address: lookups <= Number(rebind[1] || 1) ? '93.184.215.14' : '127.0.0.1', family: 4 }];
    }
    throw new Error(`ENOTFOUND ${host}`);
  };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

describe.each([
  ['Rescue on loopback (test mode may reach private addresses)', {}, true],
  ['RESCUE_TEST_PRIVATE_ADDRESSES=false (the default beyond loopback)', { RESCUE_TEST_PRIVATE_ADDRESSES: 'false' }, false],
] as const)('%s', (_name, env, testPrivate) => {
  let t: TestRescue;
  let test: Client;
  let live: Client;
  let merchant: Merchant;
  let receiver: Receiver;

  beforeAll(async () => {
    merchant = await startMerchant(() => ({ charge: { status: 'succeeded', transaction_id: 'txn_1' } }));
    receiver = await startReceiver();
    t = await startTestRescue({ env: { ...env }, resolveHost: resolver() });
    const keys = await t.signup();
    test = t.client(keys.testKey);
    live = t.client(keys.liveKey);
  });
  afterAll(async () => {
    await t?.close();
    await merchant?.close();
    await receiver?.close();
  });

  describe.each([
    ['test', () => test, testPrivate],
    ['live', () => live, false],
  ] as const)('%s mode', (_mode, client, privateAllowed) => {
    it.each(FORMS)('gateway %s (%s)', async (url, cls) => {
      const res = await client().post('/v2/settings/gateway', { type: 'http', url });
      if (cls === 'private' && privateAllowed) expect(res.status, JSON.stringify(res.body)).toBe(200);
      else expectError(res, 400, { code: 'gateway_url_not_allowed', param: 'url' });
    });

    it.each(FORMS)('webhook endpoint %s (%s)', async (url, cls) => {
      const res = await client().post('/v2/webhook_endpoints', { url, enabled_events: ['*'] });
      if (cls === 'private' && privateAllowed) expect(res.status, JSON.stringify(res.body)).toBe(201);
      else expectError(res, 400, { code: 'url_not_allowed', param: 'url' });
      if (res.status === 201) expect((await client().del(`/v2/webhook_endpoints/${res.body.id}`)).status).toBe(200);
    });
  });

  it('charges through a name that resolves to loopback only where test mode may, connecting to the address it checked', async () => {
    const port = new URL(merchant.url).port;
    const saved = await test.post('/v2/settings/gateway', { type: 'http', url: `http://rebind-gw-test.test:${port}/charge`, secret: merchant.secret });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200); // public when saved
    const before = merchant.calls.length;
    const paid = await test.post('/v2/payments', { amount: 500, currency: 'USD', payment_method: 'tok_1' });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    if (testPrivate) {
      expect(paid.body.status).toBe('succeeded');
      expect(merchant.calls.slice(before).map((c) => c.headers.host)).toEqual([`rebind-gw-test.test:${port}`]);
    } else {
      // Loopback by the time Rescue connects: refused before connecting, the charge stays unknown.
      expect(paid.body.status).toBe('processing');
      expect(merchant.calls.length).toBe(before);
    }
  });

  it('never charges a live gateway whose name turns into loopback after it was saved (DNS rebinding)', async () => {
    const port = new URL(merchant.url).port;
    const saved = await live.post('/v2/settings/gateway', { type: 'http', url: `http://rebind-gw-live.test:${port}/charge`, secret: merchant.secret });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const before = merchant.calls.length;
    const paid = await live.post('/v2/payments', { amount: 500, currency: 'USD', payment_method: 'tok_live' });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    expect(paid.body.status).toBe('processing');
    expect(merchant.calls.length).toBe(before);
  });

  it('delivers a webhook only where its mode may reach the address, and logs a refusal the same for an open and a closed port', async () => {
    const openPort = new URL(receiver.url('/x')).port;
    const closedPort = await freePort();
    const make = async (url: string) => {
      const res = await test.post('/v2/webhook_endpoints', { url, enabled_events: ['recovery.blocked'] });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      receiver.secrets('/hook', [res.body.secret]);
      return res.body.id as string;
    };
    const open = await make(`http://rebind2-hook.test:${openPort}/hook`);
    const closed = await make(`http://rebind2-hook.test:${closedPort}/hook`);
    await test.post('/v2/settings/gateway', { type: 'sandbox' });
    expect((await test.post('/v2/payments', HARD_DECLINE)).status).toBe(201);
    const first = (id: string) =>
      eventually(async () => {
        const d = (await test.get(`/v2/webhook_endpoints/${id}/deliveries`)).body.data[0];
        return d && d.attempts > 0 ? d : undefined;
      });
    const [o, c] = [await first(open), await first(closed)];
    if (testPrivate) {
      expect(o).toMatchObject({ status: 'succeeded', response_status: 200 });
      expect(receiver.at('/hook')).toHaveLength(1);
      expect(c.status).toBe('pending'); // a closed port is a failure like any other, where reaching it is allowed
    } else {
      expect(receiver.at('/hook')).toHaveLength(0);
      for (const d of [o, c]) expect(d).toMatchObject({ status: 'pending', response_status: null, latency_ms: null });
      expect(o.error).toMatch(/^Refused before connecting: rebind2-hook\.test \(127\.0\.0\.1\) is a loopback address/);
      expect(c.error).toBe(o.error);
    }
  });
});
