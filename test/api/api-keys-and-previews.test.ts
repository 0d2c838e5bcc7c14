import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startRescue } from '../../src/server.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { request, startTestRescue, type TestRescue } from '../support/harness.ts';
import { NODE } from '../support/workers.ts';
import { startEmailReceiver, type EmailReceiver } from '../support/email-receiver.ts';
import { startMerchant } from '../support/merchant.ts';
import { newMerchant, PASSWORD, signIn } from '../web/dashboard-client.ts';

// The endpoints the settings page adds: API keys (create, reveal once, roll, revoke), the retry
// schedule preview (the engine's planner on an example decline) and the email preview; the
// operator's password reset; and the addresses a person types (/, /signup). Both engines.

const DAY = 86_400_000;
/** An instant as the API writes it: ISO 8601 in UTC, whole seconds. */
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

describe.each(ENGINES)('settings page endpoints (%s)', (engine) => {
  let t: TestRescue;
  let smtp: EmailReceiver;
  beforeAll(async () => {
    smtp = await startEmailReceiver();
    t = await startTestRescue({ engine, worker: false, env: { RESCUE_SMTP_URL: smtp.url, RESCUE_EMAIL_FROM: 'billing@rescue.example' } });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("sends a test email to the account's own address through SMTP, never into the outbox", async () => {
    const email = `owner-${engine}@example.com`;
    const res0 = await request(t.url, 'POST', '/signup', undefined, { email, password: PASSWORD, business_name: 'Acme' });
    const api = t.client(res0.body.api_keys.test);
    await api.post('/v2/settings/dunning', { reply_to: 'help@acme.test' });
    const res = await api.post('/v2/settings/dunning/test_email', { kind: 'rescue_failed', from_name: 'Acme Billing' });
    expect(res.status).toBe(200);
    const preview = (await api.post('/v2/settings/dunning/preview', { kind: 'rescue_failed', from_name: 'Acme Billing' })).body;
    expect(res.body).toMatchObject({ object: 'test_email', kind: 'rescue_failed', to: email, subject: `[Test] ${preview.subject}` });
    const got = smtp.received.filter((m) => m.to.includes(email));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ subject: `[Test] ${preview.subject}`, from: '"Acme Billing" <billing@rescue.example>', replyTo: 'help@acme.test' });
    // The same message as the preview, but for the example link's expiry (30 days from when each was
    // rendered: the two may straddle a minute).
    const expiry = /This link works until [^)]*\)/;
    expect(got[0]!.text).toMatch(expiry);
    expect(got[0]!.text.trim().replace(expiry, 'EXPIRY')).toBe(preview.text.trim().replace(expiry, 'EXPIRY'));
    expect((await api.get('/v2/emails')).body.data).toEqual([]);
    // No way to mail someone else.
    expectError(await api.post('/v2/settings/dunning/test_email', { kind: 'rescue_failed', to: 'stranger@example.com' }), 400, { param: 'to' });
  });

  it('creates a key whose secret is shown once and works, rolls it (the old secret stops) and revokes it', async () => {
    const m = await t.signup();
    const api = t.client(m.testKey);
    const first = await api.get('/v2/api_keys');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(1);
    expect(first.body.data[0]).toMatchObject({ object: 'api_key', livemode: false, secret: null, hint: `sk_test_…${m.testKey.slice(-4)}` });

    const created = await api.post('/v2/api_keys');
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^sk_test_[A-Za-z0-9]{32}$/);
    const fresh = t.client(created.body.secret);
    expect((await fresh.get('/v2/customers')).status).toBe(200);
    // Listed without its secret from now on.
    const listed = (await api.get('/v2/api_keys')).body.data;
    expect(listed.map((k: any) => k.id)).toContain(created.body.id);
    expect(listed.every((k: any) => k.secret === null)).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(created.body.secret);

    const rolled = await api.post(`/v2/api_keys/${created.body.id}/roll`);
    expect(rolled.status).toBe(200);
    expect(rolled.body.secret).toMatch(/^sk_test_/);
    expect(rolled.body.secret).not.toBe(created.body.secret);
    expectError(await fresh.get('/v2/customers'), 401, { code: 'api_key_invalid' });
    expect((await t.client(rolled.body.secret).get('/v2/customers')).status).toBe(200);

    const revoked = await api.del(`/v2/api_keys/${rolled.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ id: rolled.body.id, object: 'api_key', deleted: true });
    expectError(await t.client(rolled.body.secret).get('/v2/customers'), 401, { code: 'api_key_invalid' });
    expectError(await api.del(`/v2/api_keys/${rolled.body.id}`), 404, { code: 'resource_missing' });
    // The original key still works, and the live key lists only live keys.
    expect((await api.get('/v2/api_keys')).body.data.map((k: any) => k.id)).toEqual([first.body.data[0].id]);
    const live = (await t.client(m.liveKey).get('/v2/api_keys')).body.data;
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ livemode: true, hint: `sk_live_…${m.liveKey.slice(-4)}` });
  });

  it("never rolls or revokes another account's key, nor the other mode's", async () => {
    const a = await t.signup();
    const b = await t.signup();
    const bKey = (await t.client(b.testKey).get('/v2/api_keys')).body.data[0].id;
    expectError(await t.client(a.testKey).post(`/v2/api_keys/${bKey}/roll`), 404, { code: 'resource_missing' });
    expectError(await t.client(a.testKey).del(`/v2/api_keys/${bKey}`), 404, { code: 'resource_missing' });
    expectError(await t.client(b.liveKey).del(`/v2/api_keys/${bKey}`), 404, { code: 'resource_missing' });
    expect((await t.client(b.testKey).get('/v2/customers')).status).toBe(200);
    expectError(await t.client(a.testKey).post('/v2/api_keys', { name: 'x' }), 400, { param: 'name' });
  });

  it('previews custom days as the engine plans them, without saving anything', async () => {
    const m = await t.signup();
    const api = t.client(m.testKey);
    const failedAt = '2026-03-02T15:00:00Z';
    const res = await api.post('/v2/settings/auto_rescue/preview', { custom_schedule_days: [1, 3, 7], example: { decline_code: 'insufficient_funds', timezone: 'UTC', failed_at: failedAt } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'schedule_preview', planner: 'custom', max_retries: 3, retry_window_days: 14, failed_at: '2026-03-02T15:00:00Z', window_ends_at: '2026-03-16T15:00:00Z', stop_reason: null });
    expect(res.body.scheduled_retries.map((r: any) => [r.retry_number, r.scheduled_at, r.days_after_failure])).toEqual([
      [1, iso(Date.parse(failedAt) + DAY), 1],
      [2, iso(Date.parse(failedAt) + 3 * DAY), 3],
      [3, iso(Date.parse(failedAt) + 7 * DAY), 7],
    ]);
    // Nothing was saved.
    expect((await api.get('/v2/settings/auto_rescue')).body).toMatchObject({ retry_schedule: 'automatic', custom_schedule_days: null, max_retries: 4 });
    // A hard decline plans nothing and says why.
    const hard = await api.post('/v2/settings/auto_rescue/preview', { example: { decline_code: 'stolen_card', failed_at: failedAt } });
    expect(hard.body).toMatchObject({ stop_reason: 'hard_decline', scheduled_retries: [] });
  });

  it('previews the automatic schedule with the learned planner: within the window and the budget, each with its chance', async () => {
    const m = await t.signup();
    const api = t.client(m.testKey);
    await api.post('/v2/settings/auto_rescue', { max_retries: 3, retry_window_days: 10 });
    const res = await api.post('/v2/settings/auto_rescue/preview', { example: { failed_at: '2026-03-02T15:00:00Z', timezone: 'America/New_York' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ planner: 'learned', max_retries: 3, retry_window_days: 10, decline: { code: 'insufficient_funds', category: 'soft' } });
    const retries = res.body.scheduled_retries;
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.length).toBeLessThanOrEqual(3);
    for (const r of retries) {
      expect(Date.parse(r.scheduled_at)).toBeGreaterThan(Date.parse('2026-03-02T15:00:00Z'));
      expect(Date.parse(r.scheduled_at)).toBeLessThanOrEqual(Date.parse(res.body.window_ends_at));
      expect(r.predicted_p).toBeGreaterThan(0);
      expect(typeof r.reason).toBe('string');
    }
    const ruleBased = await api.post('/v2/settings/auto_rescue/preview', { learned: false, example: { failed_at: '2026-03-02T15:00:00Z' } });
    expect(ruleBased.body.planner).toBe('automatic');
    expect(ruleBased.body.scheduled_retries.every((r: any) => r.predicted_p === null)).toBe(true);
  });

  it('refuses a bad preview with the field named, never a 500', async () => {
    const api = t.client((await t.signup()).testKey);
    expectError(await api.post('/v2/settings/auto_rescue/preview', { max_retries: 99 }), 400, { param: 'max_retries' });
    expectError(await api.post('/v2/settings/auto_rescue/preview', { example: { timezone: 'Mars/Base' } }), 400, { param: 'example[timezone]' });
    expectError(await api.post('/v2/settings/auto_rescue/preview', { custom_schedule_days: [3, 20], retry_window_days: 14 }), 400);
    expectError(await api.post('/v2/settings/dunning/preview', { kind: 'nope' }), 400, { param: 'kind' });
    expectError(await api.post('/v2/settings/dunning/preview', { kind: 'payment_failed', reply_to: 'not an email' }), 400, { param: 'reply_to' });
    expectError(await api.post('/v2/settings/dunning/preview', { kind: 'payment_failed', brand_color: 'red;background:url(x)' }), 400, { param: 'brand_color' });
  });

  it('previews each email with the unsaved sender name and the saved reply-to, as the outbox would render it', async () => {
    const m = await t.signup();
    const api = t.client(m.testKey);
    await api.post('/v2/settings/dunning', { reply_to: 'help@acme.test' });
    for (const kind of ['payment_failed', 'retry_reminder', 'rescue_failed', 'payment_recovered']) {
      const res = await api.post('/v2/settings/dunning/preview', { kind, from_name: 'Acme Billing' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ object: 'email_preview', kind, from_name: 'Acme Billing', reply_to: 'help@acme.test' });
      expect(res.body.text).toContain('Hi Ada Lovelace,');
      expect(res.body.text).toContain('$49.99');
      expect(res.body.html).toContain('<!doctype html>');
    }
    // Branding: the logo above the email and the button in the merchant's colour, unsaved or saved.
    const branded = (await api.post('/v2/settings/dunning/preview', { kind: 'payment_failed', logo_url: 'https://acme.example/logo.png', brand_color: '#0a7a3d' })).body;
    expect(branded.html).toContain('<img src="https://acme.example/logo.png" alt="Acme"');
    expect(branded.html).toContain('background:#0a7a3d');
    expect(branded.html).not.toContain('#1a56db');
    await api.post('/v2/settings/dunning', { brand_color: '#0a7a3d' });
    expect((await api.post('/v2/settings/dunning/preview', { kind: 'retry_reminder' })).body.html).toContain('background:#0a7a3d');
    await api.post('/v2/settings/dunning', { brand_color: null });
    const failed = (await api.post('/v2/settings/dunning/preview', { kind: 'payment_failed' })).body;
    expect(failed.html).toContain('background:#1a56db');
    expect(failed.html).not.toContain('<img');
    expect(failed.from_name).toBe('Acme');
    expect(failed.text).toContain('/api/update-payment/pay_example?sig=example');
    // Nothing saved but what was posted to the settings.
    expect((await api.get('/v2/settings/dunning')).body).toMatchObject({ from_name: null, reply_to: 'help@acme.test', logo_url: null, brand_color: null });
  });

  it('sends one signed test charge to the http gateway and shows its answer; never to the sandbox, never in live mode', async () => {
    const merchant = await startMerchant((call) =>
      call.body?.amount === 100 && call.signatureError === null ? { charge: { status: 'succeeded', transaction_id: 'txn_test_ok' } } : { charge: { status: 'failed', decline_code: 'do_not_honor' } },
    );
    try {
      const m = await t.signup();
      const api = t.client(m.testKey);
      expectError(await api.post('/v2/settings/gateways/test_charge'), 400, { param: 'gateway' });
      await api.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret });
      const ok = await api.post('/v2/settings/gateways/test_charge');
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ object: 'test_charge', gateway: 'default', status: 'succeeded', transaction_id: 'txn_test_ok', decline_code: null });
      expect(merchant.calls).toHaveLength(1);
      expect(merchant.calls[0]).toMatchObject({ signatureError: null, body: { amount: 100, currency: 'usd', payment_method: 'pm_rescue_test_charge' } });
      expect(merchant.calls[0]!.headers['idempotency-key']).toBe(ok.body.idempotency_key);
      // A named gateway whose secret the endpoint does not know: it refuses the signature (400), no charge.
      await api.post('/v2/settings/gateways', { name: 'other', type: 'http', url: merchant.url, token_prefixes: ['tok_other'] });
      const refused = await api.post('/v2/settings/gateways/test_charge', { gateway: 'other' });
      expect(refused.body).toMatchObject({ gateway: 'other', status: 'unknown', transaction_id: null, message: 'merchant gateway answered HTTP 400' });
      expect(merchant.calls[1]!.signatureError).not.toBeNull();
      // Nothing written: no payment, no event.
      expect((await api.get('/v2/payments')).body.data).toEqual([]);
      expect((await api.get('/v2/events')).body.data).toEqual([]);
      expectError(await api.post('/v2/settings/gateways/test_charge', { gateway: 'nope' }), 400, { code: 'gateway_not_configured' });
      expectError(await t.client(m.liveKey).post('/v2/settings/gateways/test_charge'), 400, { param: 'gateway' });
    } finally {
      await merchant.close();
    }
  });

  it('sends a person at / or /signup into the app', async () => {
    const root = await fetch(`${t.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard/');
    const signup = await fetch(`${t.url}/signup`, { redirect: 'manual' });
    expect(signup.status).toBe(302);
    expect(signup.headers.get('location')).toBe('/dashboard/signup');
    // POST /signup is still the API.
    expect((await request(t.url, 'POST', '/signup', undefined, { email: `x${engine}@example.com`, password: PASSWORD, business_name: 'X' })).status).toBe(201);
  });
});

describe('rescue account reset-password (Postgres, beside a running API)', () => {
  let t: TestRescue;
  beforeAll(async () => {
    t = await startTestRescue({ engine: 'postgres', worker: false });
  });
  afterAll(() => t?.close());

  it('prints a new password once; it signs in, the old one does not, and open sessions end', async () => {
    const m = await newMerchant(t, 'reset');
    const before = await signIn(t, m.email, PASSWORD);
    expect(before.status).toBe(201);
    const cookie = before.headers.get('set-cookie')!.split(';')[0]!;
    const out = execFileSync(NODE, ['src/cli.ts', 'account', 'reset-password', m.email.toUpperCase()], { env: { ...process.env, DATABASE_URL: t.databaseUrl!, LOG_LEVEL: 'warn' }, encoding: 'utf8' });
    const password = /password: +(\S+)/.exec(out)?.[1];
    expect(password, out).toMatch(/^[A-Za-z0-9]{20}$/);
    expect((await signIn(t, m.email, password!)).status).toBe(201);
    expectError(await signIn(t, m.email, PASSWORD), 401, { code: 'sign_in_failed' });
    // The old session is gone: asking answers signed out, and the API refuses it.
    const old = await rawRequest(t.url, 'GET', '/dashboard/api/session', { headers: { cookie, 'x-rescue-dashboard': '1' } });
    expect([old.status, old.body]).toEqual([200, { object: 'dashboard_session', account: null, expires_at: null }]);
    expectError(await rawRequest(t.url, 'GET', '/v2/payments', { headers: { cookie, 'x-rescue-dashboard': '1' } }), 401, { code: 'session_invalid' });
  });

  it('refuses a test email where no SMTP server is configured, with the reason', async () => {
    const api = t.client((await t.signup()).testKey);
    expectError(await api.post('/v2/settings/dunning/test_email', { kind: 'payment_failed' }), 400, { code: 'smtp_not_configured' });
  });

  it('says so for an unknown email, and prints no password', () => {
    let failure: any;
    try {
      execFileSync(NODE, ['src/cli.ts', 'account', 'reset-password', 'nobody@example.com'], { env: { ...process.env, DATABASE_URL: t.databaseUrl!, LOG_LEVEL: 'warn' }, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      failure = err;
    }
    expect(failure?.status).toBe(1);
    expect(String(failure.stderr)).toContain('No account has the email nobody@example.com');
    expect(String(failure.stdout)).not.toContain('password');
  });
});

describe('rescue account reset-password on the embedded default (PGlite data folder)', () => {
  it('resets the password of an account in ./.rescue-style storage; the server started on it then takes the new one only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rescue-reset-'));
    // No DATABASE_URL: the embedded PGlite in the data folder, as `npm start` uses it.
    const { DATABASE_URL: _postgres, ...inherited } = process.env;
    const env = { ...inherited, RESCUE_DATA_DIR: dir, LOG_LEVEL: 'warn' };
    try {
      const created = execFileSync(NODE, ['src/cli.ts', 'create-account', 'owner@example.com', 'Acme'], { env, encoding: 'utf8' });
      const first = /password: +(\S+)/.exec(created)?.[1];
      expect(first, created).toBeDefined();
      const out = execFileSync(NODE, ['src/cli.ts', 'account', 'reset-password', 'owner@example.com'], { env, encoding: 'utf8' });
      const password = /password: +(\S+)/.exec(out)?.[1];
      expect(password, out).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(password).not.toBe(first);
      // Shown once: the only line with a secret is the password's.
      expect(out.trim().split('\n')).toEqual(['New password for owner@example.com, shown once:', `  password:      ${password}`]);

      const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', RESCUE_DATA_DIR: dir } as NodeJS.ProcessEnv);
      const rescue = await startRescue(config, { api: true, worker: false });
      try {
        const t = { url: rescue.url! } as TestRescue;
        expect((await signIn(t, 'owner@example.com', password!)).status).toBe(201);
        expectError(await signIn(t, 'owner@example.com', first!), 401, { code: 'sign_in_failed' });
      } finally {
        await rescue.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
