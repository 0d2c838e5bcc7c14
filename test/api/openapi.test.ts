import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { assertDocumentedResponse } from '../../src/api/response-check.ts';
import { Payment } from '../../src/api/responses.ts';

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
  ['get', '/api/cron/dunning'],
  ['get', '/v2/settings/widget'],
  ['post', '/v2/settings/widget'],
  ['post', '/v2/settings/widget/rotate_secret'],
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
    if (open && path === '/api/cron/dunning') {
      // No account key: the operator's RESCUE_CRON_SECRET, unset on this server, so the endpoint is off.
      expectError(res, 403, { code: 'cron_disabled' });
    } else if (open) {
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
    expect(op('get', '/v2/customers').parameters.map((p: any) => p.name).sort()).toEqual(['limit', 'q', 'starting_after']);
    for (const path of ['/v2/test_clocks']) {
      expect(op('get', path).parameters.map((p: any) => p.name).sort()).toEqual(['limit', 'starting_after']);
    }
    expect(op('post', '/v2/payments').parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }));
  });

  it('gives every POST that takes a body its JSON request schema', () => {
    for (const [method, path] of ROUTES.filter(([m, p]) => m === 'post' && !/cancel_rescue|retry_now|rotate_secret|\/v2\/api_keys/.test(p))) {
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
    expect(Object.keys(bodySchema('post', '/v2/customers').properties).sort()).toEqual(['email', 'id', 'locale', 'metadata', 'name', 'test_clock', 'timezone']);
    expect(Object.keys(bodySchema('post', '/v2/settings/auto_rescue').properties)).toEqual(expect.arrayContaining(['enabled', 'max_retries', 'retry_window_days', 'retry_schedule', 'custom_schedule_days', 'qualifying']));
    const gw = JSON.stringify(bodySchema('post', '/v2/settings/gateway'));
    for (const word of ['sandbox', 'http', 'url', 'secret']) expect(gw).toContain(word);
    expect(bodySchema('post', '/v2/test_clocks').required).toEqual(['frozen_time']);
    expect(bodySchema('post', '/v2/test_clocks/{id}/advance').required).toEqual(['frozen_time']);
  });
});

/**
 * Routes the server answers that are not API operations, each with the reason. Any other route the
 * server registers must be in the document, and every operation the document lists must be served.
 */
const NOT_IN_DOCUMENT: Record<string, string> = {
  'GET /health': 'operator probe (docs/operations.md)',
  'GET /ready': 'operator probe (docs/operations.md)',
  'GET /metrics': 'Prometheus exposition, not JSON',
  'GET /openapi.json': 'the document itself',
  'GET /docs/api': 'the document, rendered',
  'GET /docs/api/:file': 'the renderer\'s files',
  'GET /dashboard': 'the dashboard\'s HTML',
  'GET /dashboard/*': 'the dashboard\'s files',
  'POST /dashboard/api/session': 'the dashboard\'s own cookie session, not for API keys',
  'GET /dashboard/api/session': 'the dashboard\'s own cookie session, not for API keys',
  'DELETE /dashboard/api/session': 'the dashboard\'s own cookie session, not for API keys',
  'GET /api/stripe/connect': 'a browser redirect to Stripe OAuth',
  'GET /api/stripe/oauth/callback': 'Stripe OAuth\'s browser redirect back',
  'POST /api/stripe/webhook': 'called by Stripe, signed by Stripe',
  'POST /api/stripe/billing-webhook': 'called by Stripe, signed by Stripe',
  'GET /update-payment/:token': 'the customer\'s hosted HTML page',
  'POST /update-payment/:token': 'the customer\'s hosted HTML form',
  'GET /api/update-payment/:invoiceId': 'the customer\'s hosted HTML page, at seed 000\'s path (signed link)',
  'POST /api/update-payment/:invoiceId': 'the customer\'s hosted HTML form, at seed 000\'s path (signed link)',
  'GET /api/widget/insights': 'the customer-portal widget, an embeddable page signed for one customer (docs/widget.md)',
  'POST /api/widget/insights/retry': 'the widget\'s one-click retry, signed for one customer (docs/widget.md)',
  'GET /': 'a browser redirect to the dashboard',
  'GET /signup': 'a browser redirect to the dashboard\'s sign-up page',
  'GET /analytics': 'a browser redirect to the dashboard\'s analytics (seed 000\'s path)',
};

describe('the document and the server agree', () => {
  it('every route the server registers is an operation in the document, and the other way round', () => {
    const served = new Set(t.rescue.routes.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`));
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)));
    const undocumented = [...served].filter((r) => !documented.has(r) && !(r in NOT_IN_DOCUMENT));
    expect(undocumented, 'served but not in /openapi.json (document it, or say why not in NOT_IN_DOCUMENT)').toEqual([]);
    expect([...documented].filter((r) => !served.has(r)), 'in /openapi.json but not served').toEqual([]);
    expect(Object.keys(NOT_IN_DOCUMENT).filter((r) => documented.has(r)), 'listed as not in the document, yet documented').toEqual([]);
  });

  it('describes every operation\'s success body and its error body', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, o] of Object.entries(ops as Record<string, any>)) {
        const ok = Object.entries(o.responses).filter(([status]) => /^2\d\d$/.test(status));
        expect(ok.length, `${method} ${path}`).toBeGreaterThan(0);
        for (const [status, r] of ok as [string, any][]) {
          const schema = r.content?.['application/json']?.schema;
          expect(schema, `${method} ${path} ${status}`).toBeDefined();
          expect(schema.$ref ?? schema.type, `${method} ${path} ${status}`).toBeDefined();
        }
        expect(o.responses['4XX'].content['application/json'].schema, `${method} ${path}`).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
    // Every $ref points at a component that exists.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    for (const ref of new Set(refs)) expect(doc.components.schemas[ref], ref).toBeDefined();
  });

  it('documents the payment as the seed shows it, with one timestamp convention', () => {
    const payment = doc.components.schemas.Payment;
    expect(payment.additionalProperties).toBe(false);
    for (const field of ['id', 'object', 'amount', 'currency', 'status', 'customer', 'payment_method', 'failure_code', 'failure_message', 'auto_rescue', 'rescue_schedule', 'created_at']) {
      expect(payment.required, field).toContain(field);
    }
    expect(payment.properties.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    expect(doc.components.schemas.TestClock.properties).toHaveProperty('created_at');
    expect(doc.components.schemas.TestClock.properties).not.toHaveProperty('created');
    expect(doc.paths['/api/recovery/execute'].post.responses).toMatchObject({
      '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/RecoveryRecovered' } } } },
      '202': { content: { 'application/json': { schema: { $ref: '#/components/schemas/RecoveryQueued' } } } },
    });
  });

  it('under test every answer is checked against its schema: an extra, missing or mistyped field or an undocumented status fails', async () => {
    const created = await t.client((await t.signup()).testKey).post('/v2/payments', { amount: 100, currency: 'USD', payment_method: 'pm_card_visa' });
    expect(created.status).toBe(201);
    const body = created.body;
    expect(() => assertDocumentedResponse('POST /v2/payments', Payment, 201, body)).not.toThrow();
    expect(() => assertDocumentedResponse('POST /v2/payments', Payment, 201, { ...body, surprise: 1 })).toThrow(/fields its schema does not describe: \.surprise/);
    expect(() => assertDocumentedResponse('POST /v2/payments', Payment, 201, { ...body, auto_rescue: { ...body.auto_rescue, extra: true } })).toThrow(/\.auto_rescue\.extra/);
    const { customer: _dropped, ...missing } = body;
    expect(() => assertDocumentedResponse('POST /v2/payments', Payment, 201, missing)).toThrow(/schema refuses: customer/);
    expect(() => assertDocumentedResponse('POST /v2/payments', Payment, 201, { ...body, amount: '100' })).toThrow(/schema refuses: amount/);
    expect(() => assertDocumentedResponse('POST /v2/payments', Payment, 201, { ...body, created_at: new Date().toISOString() })).toThrow(/created_at/);
    expect(() => assertDocumentedResponse('POST /v2/payments', undefined, 202, body)).toThrow(/status its OpenAPI entry does not describe/);
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
