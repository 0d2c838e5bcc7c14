import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { widgetToken } from '../../src/domain/widget-token.ts';
import { createLogger } from '../../src/log.ts';
import { openDb } from '../../src/store/db.ts';
import { createPostgresDatabase, ENGINES } from '../support/databases.ts';
import { fixedHostileRequests, requestArbitrary, send, type FuzzWorld } from '../support/fuzz.ts';
import { eventually, request, startTestRescue, type TestRescue } from '../support/harness.ts';

// Secrets never reach the logs. A server logging everything (trace) into memory is used as a
// merchant and an attacker would: sign-up, keys in every header, webhook secrets, an update-payment
// link, dashboard sign-ins, then hostile requests on every route carrying those secrets in paths,
// queries and bodies. Its whole output is then searched for each secret it created. The database
// driver's own errors, which carry the failed query's values, are checked on both engines.

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);

interface Captured {
  write(line: string): void;
  text(): string;
}

function capture(): Captured {
  const lines: string[] = [];
  return { write: (line) => void lines.push(line), text: () => lines.join('') };
}

describe('secrets stay out of the logs of a fuzzed server (pglite)', () => {
  let t: TestRescue;
  const out = capture();
  const secrets = {} as Record<'password' | 'testKey' | 'liveKey' | 'passwordHash' | 'hashDigest' | 'webhookSecret' | 'rotatedSecret' | 'updatePaymentToken' | 'sessionToken' | 'widgetSecret' | 'widgetToken', string>;

  beforeAll(async () => {
    t = await startTestRescue({ logDestination: out, env: { LOG_LEVEL: 'trace', RESCUE_HTTP_GATEWAY_TIMEOUT_MS: '300', RESCUE_RATE_LIMIT_PER_KEY: '0' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates secrets, uses them, is fuzzed with them, and never writes one', async () => {
    const password = `pw-${Math.random().toString(36).slice(2)}-Zq9`;
    const email = `owner-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const signup = await request(t.url, 'POST', '/signup', undefined, { email, password, business_name: 'Acme' });
    expect(signup.status).toBe(201);
    secrets.password = password;
    secrets.testKey = signup.body.api_keys.test;
    secrets.liveKey = signup.body.api_keys.live;
    const hash = (await t.rescue.db.selectFrom('accounts').select('password_hash').where('email', '=', email).executeTakeFirstOrThrow()).password_hash;
    secrets.passwordHash = hash;
    secrets.hashDigest = hash.split('$')[2] ?? '';
    const api = t.client(secrets.testKey);

    const endpoint = await api.post('/v2/webhook_endpoints', { url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] });
    secrets.webhookSecret = endpoint.body.secret;
    secrets.rotatedSecret = (await api.post(`/v2/webhook_endpoints/${endpoint.body.id}/rotate_secret`)).body.secret;
    expect(secrets.webhookSecret).toMatch(/^whsec_/);

    // A failed payment of a customer with an email: its dunning email carries an update-payment link.
    const customer = (await api.post('/v2/customers', { email: 'ada@example.com' })).body;
    const payment = (await api.post('/v2/payments', { amount: 4999, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', customer: customer.id, auto_rescue: { enabled: true } })).body;
    const link = await eventually(async () => {
      const emails = (await api.get(`/v2/emails?payment=${payment.id}`)).body.data;
      // The seed's path carries the token as its signature: /api/update-payment/pay_…?sig=<token>.
      return emails.map((e: any) => /\/update-payment\/[^\s"<?]+\?sig=([^\s"<&]+)/.exec(e.text)?.[1]).find(Boolean);
    });
    secrets.updatePaymentToken = String(link);

    // The link used as a customer would, and abused.
    expect((await fetch(`${t.url}/api/update-payment/${payment.id}?sig=${link}`)).status).toBe(200);
    await fetch(`${t.url}/api/update-payment/${payment.id}?sig=${link}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'card_number=4000%00&exp=12%2F30&cvc=123' });
    expect((await fetch(`${t.url}/update-payment/${link}`)).status).toBe(200);
    await fetch(`${t.url}/update-payment/${link}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'card_number=4000%00&exp=12%2F30&cvc=123' });
    await fetch(`${t.url}/update-payment/${link}?token=${link}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"card_number":' });
    await api.post(`/v2/payments/${payment.id}/payment_method`, { payment_method: 'pm_card_visa', link_token: `${link}x` });

    // The portal widget: its secret, and a token made with it, used and tampered with.
    secrets.widgetSecret = (await api.post('/v2/settings/widget/rotate_secret')).body.secret;
    secrets.widgetToken = widgetToken({ secret: secrets.widgetSecret, customer: customer.id, expiresAt: new Date(Date.now() + 600_000) });
    expect((await fetch(`${t.url}/api/widget/insights?token=${secrets.widgetToken}`)).status).toBe(200);
    await fetch(`${t.url}/api/widget/insights?token=${secrets.widgetToken}x`, { headers: { accept: 'application/json' } });
    await fetch(`${t.url}/api/widget/insights/retry`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${secrets.widgetToken}&payment=${payment.id}` });

    // Dashboard sign-ins: right, wrong, hostile; the session cookie is a secret too.
    const dash = { 'content-type': 'application/json', 'x-rescue-dashboard': '1' };
    const signedIn = await fetch(`${t.url}/dashboard/api/session`, { method: 'POST', headers: dash, body: JSON.stringify({ email, password }) });
    expect(signedIn.status).toBe(201);
    secrets.sessionToken = /rescue_session=([^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')![1]!;
    await fetch(`${t.url}/dashboard/api/session`, { headers: { ...dash, cookie: `rescue_session=${secrets.sessionToken}` } });
    await fetch(`${t.url}/dashboard/api/session`, { method: 'POST', headers: dash, body: JSON.stringify({ email, password: `${password}\u0000` }) });
    await fetch(`${t.url}/dashboard/api/session`, { method: 'POST', headers: dash, body: JSON.stringify({ email, password: 'wrong password' }) });

    // Every route, fuzzed with the secrets among its strings and ids.
    const world: FuzzWorld = { keys: { test: secrets.testKey, live: secrets.liveKey }, ids: [customer.id, payment.id, endpoint.body.id], extraStrings: [password, hash, String(link), String(secrets.webhookSecret)] };
    for (const route of t.rescue.routes.filter((r) => r.method !== 'HEAD')) {
      for (const r of fixedHostileRequests(route, world)) await send(t.url, r);
      await fc.assert(fc.asyncProperty(requestArbitrary(route, world), async (r) => void (await send(t.url, r))), { seed: SEED, numRuns: 2 });
    }

    const logs = out.text();
    // The grep means something only if the server did log the requests that carried the secrets.
    expect(logs).toContain('incoming request');
    expect(logs).toContain('"route":"/update-payment/:token"');
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length, name).toBeGreaterThan(8);
      const at = logs.indexOf(secret);
      expect(at, `${name} appears in the logs: …${logs.slice(Math.max(0, at - 300), at + 100)}…`).toBe(-1);
    }
  }, 120_000);
});

describe.each(ENGINES)('a database driver error is logged without its values (%s)', (engine) => {
  it('neither the failed query\'s parameters nor the values in its message reach the log', async () => {
    const dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'rescue-log-')) : null;
    const pgdb = engine === 'postgres' ? await createPostgresDatabase() : null;
    const db = await openDb(pgdb ? { kind: 'postgres', url: pgdb.url } : { kind: 'pglite', dataDir });
    const out = capture();
    const log = createLogger('trace', out);
    const hash = 'scrypt$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';
    const secret = 'whsec_T0pS3cretT0pS3cretT0pS3cret';
    try {
      const failures: unknown[] = [];
      // A value the column type refuses (the value is quoted in the message), and one with a NUL.
      await sql`select ${hash}::int as n, ${secret}::text as s`.execute(db).catch((err) => failures.push(err));
      await sql`select ${`${secret}\u0000`}::text as s, ${hash}::text as h`.execute(db).catch((err) => failures.push(err));
      expect(failures).toHaveLength(2);
      for (const err of failures) log.error({ err }, 'unhandled error');
      const text = out.text();
      expect(text).toContain('unhandled error');
      expect(text).toContain('invalid input syntax');
      for (const s of [hash, secret, hash.split('$')[2]!]) expect(text.includes(s), `${s} in ${text.slice(0, 400)}`).toBe(false);
    } finally {
      await db.destroy();
      await pgdb?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
