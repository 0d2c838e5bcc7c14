import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';

// The OpenAPI document is generated from the schemas that validate requests; check that it lists
// every route the server answers, with its request schema, and that the server agrees with it.

const ROUTES: [method: string, path: string][] = [
  ['post', '/signup'],
  ['post', '/v2/customers'],
  ['get', '/v2/customers'],
  ['get', '/v2/customers/{id}'],
  ['post', '/v2/payments'],
  ['get', '/v2/payments'],
  ['get', '/v2/payments/{id}'],
  ['post', '/v2/payments/{id}/cancel_rescue'],
  ['post', '/v2/payments/{id}/retry_now'],
  ['get', '/v2/settings/auto_rescue'],
  ['post', '/v2/settings/auto_rescue'],
  ['get', '/v2/settings/gateway'],
  ['post', '/v2/settings/gateway'],
  ['get', '/v2/settings/gateways'],
  ['post', '/v2/settings/gateways'],
  ['get', '/v2/settings/recovery'],
  ['post', '/v2/settings/recovery'],
  ['get', '/v2/settings/prediction'],
  ['post', '/v2/settings/prediction'],
  ['post', '/api/predict/risk'],
  ['post', '/api/predict/retry-time'],
  ['post', '/api/predict/churn'],
  ['post', '/api/recovery/execute'],
  ['get', '/api/recovery/{id}'],
  ['post', '/api/recovery/pulse'],
  ['get', '/api/recovery/lift'],
  ['get', '/api/dashboard'],
  ['post', '/v2/test_clocks'],
  ['get', '/v2/test_clocks'],
  ['get', '/v2/test_clocks/{id}'],
  ['post', '/v2/test_clocks/{id}/advance'],
  ['get', '/v2/events'],
  ['get', '/v2/events/{id}'],
  ['post', '/v2/events/{id}/resend'],
  ['post', '/v2/webhook_endpoints'],
  ['get', '/v2/webhook_endpoints'],
  ['get', '/v2/webhook_endpoints/{id}'],
  ['post', '/v2/webhook_endpoints/{id}'],
  ['delete', '/v2/webhook_endpoints/{id}'],
  ['post', '/v2/webhook_endpoints/{id}/rotate_secret'],
  ['get', '/v2/webhook_endpoints/{id}/deliveries'],
  ['post', '/v2/stripe/connect_links'],
  ['get', '/v2/stripe/connection'],
  ['post', '/v2/stripe/connection'],
  ['delete', '/v2/stripe/connection'],
  ['get', '/v2/settings/dunning'],
  ['post', '/v2/settings/dunning'],
  ['post', '/v2/settings/dunning/preview'],
  ['post', '/v2/settings/dunning/test_email'],
  ['post', '/v2/settings/auto_rescue/preview'],
  ['post', '/v2/settings/gateways/test_charge'],
  ['get', '/v2/api_keys'],
  ['post', '/v2/api_keys'],
  ['post', '/v2/api_keys/{id}/roll'],
  ['delete', '/v2/api_keys/{id}'],
  ['get', '/v2/emails'],
  ['get', '/v2/emails/{id}'],
  ['post', '/v2/payments/{id}/payment_method'],
];

let t: TestRescue;
let doc: any;
beforeAll(async () => {
  t = await startTestRescue({ worker: false });
  const res = await rawRequest(t.url, 'GET', '/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = res.body;
});
afterAll(() => t.close());

const op = (method: string, path: string) => doc.paths[path]?.[method];
const bodySchema = (method: string, path: string) => op(method, path)?.requestBody?.content?.['application/json']?.schema;

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document that needs no key', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(doc.components.securitySchemes).length).toBeGreaterThan(0);
    expect(doc.components.schemas.Error).toBeDefined();
  });

  it('lists every route, and nothing the server does not answer', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m} ${path}`));
    expect(listed.sort()).toEqual(ROUTES.map(([m, p]) => `${m} ${p}`).sort());
    for (const [method, path] of ROUTES) {
      expect(op(method, path).summary, `${method} ${path}`).toEqual(expect.any(String));
      expect(Object.keys(op(method, path).responses), `${method} ${path}`).toContain('4XX');
    }
  });

  it.each(ROUTES)('the server answers %s %s as documented (auth required unless the document says otherwise)', async (method, path) => {
    const o = op(method, path);
    const open = Array.isArray(o.security) && o.security.length === 0;
    const res = await rawRequest(t.url, method.toUpperCase(), path.replace('{id}', 'x_1'), method === 'post' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {});
    if (open) {
      expect(path).toBe('/signup');
      expectError(res, 400, { code: 'parameter_missing' });
    } else {
      expectError(res, 401, { type: 'authentication_error' });
    }
  });

  it('declares path parameters, list queries and Idempotency-Key', () => {
    for (const [method, path] of ROUTES.filter(([, p]) => p.includes('{id}'))) {
      expect(op(method, path).parameters, `${method} ${path}`).toContainEqual(expect.objectContaining({ name: 'id', in: 'path', required: true }));
    }
    const list = op('get', '/v2/payments').parameters;
    const names = list.filter((p: any) => p.in === 'query').map((p: any) => p.name).sort();
    expect(names).toEqual(['customer', 'limit', 'starting_after', 'status']);
    const status = list.find((p: any) => p.name === 'status');
    expect(status.schema.enum).toEqual(expect.arrayContaining(['requires_rescue', 'rescue_in_progress', 'succeeded', 'failed', 'rescue_cancelled']));
    const limit = list.find((p: any) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ minimum: 1, maximum: 100 });
    for (const path of ['/v2/customers', '/v2/test_clocks']) {
      expect(op('get', path).parameters.map((p: any) => p.name).sort()).toEqual(['limit', 'starting_after']);
    }
    expect(op('post', '/v2/payments').parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }));
  });

  it('gives every POST that takes a body its JSON request schema', () => {
    for (const [method, path] of ROUTES.filter(([m, p]) => m === 'post' && !/cancel_rescue|retry_now|rotate_secret|api_keys/.test(p))) {
      const schema = bodySchema(method, path);
      expect(schema, `${method} ${path}`).toBeDefined();
      expect(schema.type ?? schema.oneOf ?? schema.anyOf, `${method} ${path}`).toBeDefined();
    }
  });

  it('documents the payment body with the seed\'s fields and ranges', () => {
    const s = bodySchema('post', '/v2/payments');
    expect(s.type).toBe('object');
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties).sort()).toEqual(['amount', 'auto_rescue', 'currency', 'customer', 'metadata', 'off_session', 'payment_method'].sort());
    expect([...s.required].sort()).toEqual(['amount', 'currency', 'payment_method']);
    expect(s.properties.amount.type).toBe('integer');
    const ar = s.properties.auto_rescue;
    expect(Object.keys(ar.properties).sort()).toEqual(['check_account_updater', 'custom_schedule_days', 'enabled', 'max_retries', 'notify_customer', 'retry_schedule', 'retry_window_days']);
    expect(ar.properties.max_retries).toMatchObject({ type: 'integer', minimum: 1, maximum: 8 });
    expect(ar.properties.retry_window_days).toMatchObject({ type: 'integer', minimum: 7, maximum: 30 });
    expect(ar.properties.retry_schedule.enum).toEqual(['automatic', 'custom']);
    expect(ar.properties.custom_schedule_days).toMatchObject({ type: 'array', items: { type: 'integer' } });
  });

  it('documents signup, customers, settings and clocks bodies', () => {
    const signup = bodySchema('post', '/signup');
    expect([...signup.required].sort()).toEqual(['business_name', 'email', 'password']);
    expect(signup.properties.password.minLength).toBe(8);
    expect(Object.keys(bodySchema('post', '/v2/customers').properties).sort()).toEqual(['email', 'locale', 'metadata', 'name', 'test_clock', 'timezone']);
    expect(Object.keys(bodySchema('post', '/v2/settings/auto_rescue').properties)).toEqual(expect.arrayContaining(['enabled', 'max_retries', 'retry_window_days', 'retry_schedule', 'custom_schedule_days', 'qualifying']));
    const gw = JSON.stringify(bodySchema('post', '/v2/settings/gateway'));
    for (const word of ['sandbox', 'http', 'url', 'secret']) expect(gw).toContain(word);
    expect(bodySchema('post', '/v2/test_clocks').required).toEqual(['frozen_time']);
    expect(bodySchema('post', '/v2/test_clocks/{id}/advance').required).toEqual(['frozen_time']);
  });
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/v2/nope'],
    ['GET', '/v1/payments'],
    ['POST', '/v2/payments/pay_1/refund'],
    ['DELETE', '/v2/payments/pay_1'],
    ['PUT', '/v2/settings/auto_rescue'],
  ])('%s %s is a 404 JSON error', async (method, path) => {
    const res = await rawRequest(t.url, method, path);
    expectError(res, 404, { type: 'invalid_request_error', code: 'route_not_found' });
    expect(res.body.error.message).toContain(path);
  });

  it('/health answers without a key', async () => {
    const res = await rawRequest(t.url, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});
