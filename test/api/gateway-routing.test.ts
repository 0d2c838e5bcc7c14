import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api-assertions.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type Merchant } from '../support/merchant.ts';

// Several gateways per account: the default one (/v2/settings/gateway, unchanged) and named ones a
// token is routed to by an explicit `gateway` field or by its prefix ("directly against the gateway
// that issued the original token"). Two real merchant endpoints stand in for two issuers.

let t: TestRescue;
let eu: Merchant;
let us: Merchant;
beforeAll(async () => {
  const approve = (tag: string) => (call: any) => ({ charge: { status: 'succeeded' as const, transaction_id: `${tag}_${call.body.attempt_id}` } });
  eu = await startMerchant(approve('eu'));
  us = await startMerchant(approve('us'));
  t = await startTestRescue({ worker: false });
});
afterAll(async () => {
  await t?.close();
  await eu?.close();
  await us?.close();
});

describe('named gateways', () => {
  let api: Client;
  beforeAll(async () => {
    api = t.client((await t.signup()).testKey);
  });

  it('start as just the default gateway, which /v2/settings/gateway still sets', async () => {
    expect((await api.get('/v2/settings/gateways')).body).toEqual({
      object: 'list',
      url: '/v2/settings/gateways',
      has_more: false,
      data: [{ object: 'gateway', name: 'default', default: true, livemode: false, type: 'sandbox', token_prefixes: [] }],
    });
    expect((await api.post('/v2/settings/gateway', { type: 'sandbox' })).body).toEqual({ object: 'gateway_settings', livemode: false, type: 'sandbox' });
  });

  it('are added by name with their token prefixes; the secret is shown once', async () => {
    const added = await api.post('/v2/settings/gateways', { name: 'billing_eu', type: 'http', url: eu.url, secret: eu.secret, token_prefixes: ['eutok_'] });
    expect(added.status).toBe(200);
    expect(added.body).toEqual({ object: 'gateway', name: 'billing_eu', default: false, livemode: false, type: 'http', url: eu.url, secret: eu.secret, token_prefixes: ['eutok_'] });
    expect((await api.post('/v2/settings/gateways', { name: 'billing_us', type: 'http', url: us.url, secret: us.secret, token_prefixes: ['ustok_', 'ustok_special_'] })).status).toBe(200);
    const list = (await api.get('/v2/settings/gateways')).body.data;
    expect(list.map((g: any) => g.name)).toEqual(['default', 'billing_eu', 'billing_us']);
    expect(list[1].secret).toMatch(/…$/);
    // Replacing by name keeps one entry.
    expect((await api.post('/v2/settings/gateways', { name: 'billing_eu', type: 'http', url: eu.url, secret: eu.secret, token_prefixes: ['eutok_', 'sepa_'] })).body.token_prefixes).toEqual(['eutok_', 'sepa_']);
    expect((await api.get('/v2/settings/gateways')).body.data).toHaveLength(3);
  });

  it('a token goes to the gateway its prefix names, an explicit gateway wins, and anything else to the default', async () => {
    const execute = (body: Record<string, unknown>) => api.post('/api/recovery/execute', { amount: 700, currency: 'EUR', originalDeclineCode: 'issuer_unavailable', ...body });
    const byPrefix = await execute({ paymentMethodToken: 'eutok_123' });
    expect(byPrefix.status).toBe(200);
    expect(byPrefix.body.transactionId).toMatch(/^eu_att_/);
    expect(eu.calls.at(-1)!.body.payment_method).toBe('eutok_123');
    const explicit = await execute({ paymentMethodToken: 'eutok_456', gateway: 'billing_us' });
    expect(explicit.body.transactionId).toMatch(/^us_att_/);
    expect(explicit.body.recovery.paymentMethods[0].gateway).toBe('billing_us');
    const fallback = await execute({ paymentMethodToken: 'pm_card_visa' });
    expect(fallback.body.transactionId).toMatch(/^txn_sbx_/);
    expect(fallback.body.recovery.paymentMethods[0].gateway).toBe('default');
    // `pm_` would be Stripe's shape, but no stripe gateway is configured: the default charges it.
    expect(fallback.body.recovery.history[1].gateway).toBe('default');
    const explicitDefault = await execute({ paymentMethodToken: 'eutok_789', gateway: 'default' });
    expect(explicitDefault.body.transactionId).toMatch(/^txn_sbx_/);
  });

  it('routes /v2/payments by token prefix too', async () => {
    const before = us.calls.length;
    const p = await api.post('/v2/payments', { amount: 1500, currency: 'USD', payment_method: 'ustok_special_1' });
    expect(p.status).toBe(201);
    expect(p.body.status).toBe('succeeded');
    expect(us.calls.length).toBe(before + 1);
  });

  it.each([
    ['the reserved name default', { name: 'default', type: 'sandbox' }, 'name'],
    ['an upper-case name', { name: 'EU', type: 'sandbox' }, 'name'],
    ['an unknown type', { name: 'x', type: 'stripe' }, 'type'],
    ['a prefix another gateway owns', { name: 'other', type: 'sandbox', token_prefixes: ['eutok_'] }, 'token_prefixes'],
    ['a one-character prefix', { name: 'other', type: 'sandbox', token_prefixes: ['x'] }, 'token_prefixes[0]'],
    ['an http gateway without url', { name: 'other', type: 'http' }, 'url'],
    ['an unknown field', { name: 'other', type: 'sandbox', priority: 1 }, 'priority'],
  ])('refuses %s (400)', async (_name, body, param) => {
    expectError(await api.post('/v2/settings/gateways', body), 400, { param });
  });

  it('live mode needs a real gateway for named ones too', async () => {
    const live = t.client((await t.signup()).liveKey);
    expectError(await live.post('/v2/settings/gateways', { name: 'sbx', type: 'sandbox' }), 400, { param: 'type' });
  });

  it('another account sees only its own gateways', async () => {
    const other = t.client((await t.signup()).testKey);
    expect((await other.get('/v2/settings/gateways')).body.data.map((g: any) => g.name)).toEqual(['default']);
    expectError(await other.post('/api/recovery/execute', { paymentMethodToken: 'x', amount: 1, currency: 'USD', gateway: 'billing_eu' }), 400, { code: 'resource_missing', param: 'gateway' });
  });
});
