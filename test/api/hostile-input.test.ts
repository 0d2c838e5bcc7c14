import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// The edge's rules, case by case (the fuzz test, hostile-input-fuzz.test.ts, covers every route at
// random): text that cannot be stored is a 400 naming the field and writes nothing; instants beyond
// 9999 are a 400; the update-payment page answers a malformed body with a 400 page; bodies are
// capped; a request sent too slowly is cut off with a 408.

describe.each(ENGINES)('hostile input at the edge (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  let key: string;

  beforeAll(async () => {
    t = await startTestRescue({ engine, worker: false, env: { RESCUE_REQUEST_TIMEOUT_MS: '1000' } });
    key = (await t.signup()).testKey;
    api = t.client(key);
  });
  afterAll(async () => {
    await t.close();
  });

  const customerCount = async () => (await api.get('/v2/customers?limit=100')).body.data.length;

  it.each([
    ['a NUL in a name', { name: 'a\u0000b' }, 'name'],
    ['a lone surrogate in a metadata value', { metadata: { plan: 'pro\ud800' } }, 'metadata[plan]'],
    ['a NUL in a metadata key', { metadata: { 'k\u0000': 'v' } }, 'metadata[k\\u0000]'],
    ['a lone low surrogate in an email', { email: '\udfff@example.com' }, 'email'],
  ])('POST /v2/customers with %s is a 400 naming the field, and no customer is written', async (_name, body, param) => {
    const before = await customerCount();
    expectError(await api.post('/v2/customers', body), 400, { code: 'parameter_invalid', param });
    expect(await customerCount()).toBe(before);
  });

  it('a lone surrogate in a JSONB setting (dunning from_name) is a 400, and the setting keeps its value', async () => {
    expect((await api.post('/v2/settings/dunning', { from_name: 'Acme Billing' })).status).toBe(200);
    expectError(await api.post('/v2/settings/dunning', { from_name: '\ud800' }), 400, { param: 'from_name' });
    expect((await api.get('/v2/settings/dunning')).body.from_name).toBe('Acme Billing');
  });

  it('a NUL in a path segment or a cursor is a 400 naming it', async () => {
    expectError(await api.get('/v2/payments/%00'), 400, { param: 'id' });
    expectError(await api.post('/v2/payments/a%00b/cancel_rescue'), 400, { param: 'id' });
    expectError(await api.get('/v2/payments?starting_after=%00'), 400, { param: 'starting_after' });
    // A lone surrogate cannot even be percent-encoded as UTF-8: the URL itself is refused.
    expectError(await api.get('/v2/customers/%ED%A0%80'), 400, { code: 'parameter_invalid' });
  });

  it('well-formed text outside the BMP is stored as given', async () => {
    const created = await api.post('/v2/customers', { name: 'Zoë 😀', metadata: { 'ключ': '値' } });
    expect(created.status).toBe(201);
    expect((await api.get(`/v2/customers/${created.body.id}`)).body).toMatchObject({ name: 'Zoë 😀', metadata: { 'ключ': '値' } });
  });

  it.each([
    ['/api/recovery/lift?to=999999999999', 'to'],
    ['/api/dashboard?to=999999999999', 'to'],
    ['/api/dashboard?from=0001-01-01', 'from'],
    ['/v2/events?created[gte]=999999999999', 'created[gte]'],
    ['/api/recovery/lift?to=not-a-date', 'to'],
  ])('GET %s is a 400 naming the instant', async (path, param) => {
    expectError(await api.get(path), 400, { code: 'parameter_invalid', param });
  });

  it('instants in bodies are bounded the same way, and the last second of 9999 is still accepted', async () => {
    expectError(await api.post('/v2/test_clocks', { frozen_time: 999_999_999_999 }), 400, { param: 'frozen_time' });
    expectError(await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 100, currency: 'USD', failedAt: 99_999_999_999_999 }), 400, { param: 'failedAt' });
    expectError(await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 100, currency: 'USD', failedAt: '+275760-09-13T00:00:00Z' }), 400, { param: 'failedAt' });
    expect((await api.get('/api/dashboard?from=9999-12-01&to=9999-12-31T23:59:59Z')).status).toBe(200);
    expect((await api.post('/v2/test_clocks', { frozen_time: 253402300799 })).status).toBe(201);
  });

  it('a number a real column cannot hold (a denormal risk threshold) is kept to the hundredth, not a 500', async () => {
    const res = await api.post('/v2/settings/prediction', { risk_threshold: 2.5e-323 });
    expect(res.status).toBe(200);
    expect(res.body.risk_threshold).toBe(0);
    expect((await api.post('/v2/settings/prediction', { risk_threshold: 72.456 })).body.risk_threshold).toBe(72.46);
    expect((await api.get('/v2/settings/prediction')).body.risk_threshold).toBeCloseTo(72.46, 4);
  });

  it('POST /update-payment/:token with a malformed body is a 400 page, not a 503', async () => {
    for (const [contentType, body] of [
      ['application/json', '{"card_number":'],
      ['application/x-www-form-urlencoded', 'card_number=4242%00&exp=12%2F30&cvc=123'],
      ['application/xml', '<card/>'],
    ]) {
      const res = await rawRequest(t.url, 'POST', '/update-payment/some.token', { headers: { 'content-type': contentType! }, body });
      expect(res.status, `${contentType} ${body}`).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.body).toContain('The form could not be read');
    }
  });

  it('a body nested too deep is a 400 naming where, and a body over 1 MiB is a 413', async () => {
    const deep = `{"metadata":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const nested = await rawRequest(t.url, 'POST', '/v2/customers', { headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: deep });
    expectError(nested, 400, { code: 'parameter_invalid' });
    expect(nested.body.error.param).toMatch(/^metadata\[0\]/);
    const big = await rawRequest(t.url, 'POST', '/v2/customers', { headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(1_100_000) }) });
    expectError(big, 413, { code: 'payload_too_large' });
  });

  it('a body sent too slowly is cut off with a Stripe-style 408 once RESCUE_REQUEST_TIMEOUT_MS has passed', async () => {
    const url = new URL(t.url);
    const started = performance.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        // Headers promise 100 bytes; only one ever comes.
        socket.write(`POST /v2/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
      });
      let text = '';
      socket.on('data', (c) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    const seconds = (performance.now() - started) / 1000;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: { type: 'invalid_request_error', code: 'request_timeout', message: expect.any(String) } });
    // Bounded by the setting (1 s) and Node's check interval (250 ms), with room for a busy machine.
    expect(seconds).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(10);
  }, 20_000);

  it('a control character in a header is refused before routing, with a Stripe-style 400', async () => {
    const url = new URL(t.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write(`GET /v2/customers HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\u0000b\r\n\r\n`));
      let text = '';
      socket.on('data', (c) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid' });
  });
});
