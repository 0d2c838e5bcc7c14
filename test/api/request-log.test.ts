import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestRescue, type TestRescue } from '../support/harness.ts';

// Every request leaves one structured line with its request id, and its account once the key is
// known; the id is the `Request-Id` header the client got, and the error lines of the same request
// carry it too.

describe('request log lines', () => {
  let t: TestRescue;
  const lines: string[] = [];
  beforeAll(async () => {
    t = await startTestRescue({ worker: false, env: { LOG_LEVEL: 'info' }, logDestination: { write: (l: string) => void lines.push(l) } });
  });
  afterAll(async () => {
    await t.close();
  });

  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('one line per request: request id (= Request-Id header), account id, route without the raw URL, status, duration', async () => {
    const { accountId, testKey } = await t.signup();
    const created = await request(t.url, 'POST', '/v2/customers', testKey, { email: 'log@example.com' });
    expect(created.status).toBe(201);
    const missing = await request(t.url, 'GET', '/v2/payments/pay_nope?token=abc', testKey);
    expect(missing.status).toBe(404);
    const anonymous = await request(t.url, 'GET', '/health');

    const byId = (id: string | null) => logged().filter((l) => l.request_id === id);
    const createdLine = byId(created.headers.get('request-id')).find((l) => l.msg === 'request');
    expect(created.headers.get('request-id')).toMatch(/^req_[A-Za-z0-9]{16}$/);
    expect(createdLine).toMatchObject({ level: 30, account_id: accountId, method: 'POST', route: '/v2/customers', status: 201, component: 'api' });
    expect(createdLine!.ms).toEqual(expect.any(Number));
    expect(byId(missing.headers.get('request-id')).find((l) => l.msg === 'request')).toMatchObject({ account_id: accountId, route: '/v2/payments/:id', status: 404 });
    expect(byId(anonymous.headers.get('request-id')).find((l) => l.msg === 'request')).toMatchObject({ account_id: null, route: '/health', status: 200 });
    expect(lines.join('')).not.toContain('token=abc');
    // Every line about a request names it.
    for (const l of logged().filter((x) => x.route !== undefined)) expect(l.request_id).toMatch(/^req_/);
  });

  it('a refused request is logged too: a 400 with its account, an unknown key (401) without one', async () => {
    const { accountId, testKey } = await t.signup();
    // An unknown field is a 400, logged only in the request line; an invalid key has no account.
    const bad = await request(t.url, 'POST', '/v2/customers', testKey, { emial: 'typo@example.com' });
    expect(bad.status).toBe(400);
    expect(logged().find((l) => l.request_id === bad.headers.get('request-id') && l.msg === 'request')).toMatchObject({ account_id: accountId, status: 400 });
    const unknown = await request(t.url, 'GET', '/v2/payments', 'sk_test_00000000000000000000000000000000');
    expect(unknown.status).toBe(401);
    expect(logged().find((l) => l.request_id === unknown.headers.get('request-id') && l.msg === 'request')).toMatchObject({ account_id: null, status: 401 });
  });
});
