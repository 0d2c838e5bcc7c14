import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { expectError } from '../support/api-assertions.ts';
import { callback, CONNECT_BASE, connectedAccount, encryptionKey, startOAuth, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';
import { startTestRescue } from '../support/harness.ts';
import { getStripeConnection } from '../../src/store/stripe.ts';
import { keyringFrom } from '../../src/stripe/crypto.ts';

// Stripe Connect OAuth end to end over HTTP against the fake Stripe: the link, the redirect with a
// signed state, the callback's token exchange through the SDK, the pages for every failure, tokens
// encrypted at rest, a pasted restricted key, observe/active mode, and disconnect.

const K1 = encryptionKey('k1');
let s: StripeRescue;
describe.each(ENGINES)('Stripe Connect (%s)', (engine) => {
  beforeAll(async () => {
    s = await startStripeRescue({ engine, worker: false, env: { RESCUE_ENCRYPTION_KEY: K1 } });
  });
  afterAll(() => s.close());

  describe('GET /api/stripe/connect', () => {
    it('redirects to Stripe with a signed state, read_only for observe and read_write for active', async () => {
      const api = s.t.client((await s.t.signup()).testKey);
      const observe = await startOAuth(s.t, api, 'observe');
      expect(observe.location.origin).toBe(CONNECT_BASE);
      expect(observe.location.pathname).toBe('/oauth/authorize');
      expect(Object.fromEntries(observe.location.searchParams)).toMatchObject({ response_type: 'code', client_id: 'ca_testplatform', scope: 'read_only', redirect_uri: `${s.t.url}/api/stripe/oauth/callback` });
      expect(observe.cookie).toMatch(/^rescue_stripe_oauth=.+/);
      const active = await startOAuth(s.t, api, 'active');
      expect(active.location.searchParams.get('scope')).toBe('read_write');
    });

    it('needs a valid link: a forged or missing token is a clear page, not a redirect', async () => {
      for (const q of ['', '?token=abc.def', '?token=' + 'x'.repeat(40)]) {
        const res = await fetch(`${s.t.url}/api/stripe/connect${q}`, { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/text\/html/);
        expect(await res.text()).toContain('data-reason="bad_state"');
      }
    });

    it('also starts with the API key itself', async () => {
      const { testKey } = await s.t.signup();
      const res = await fetch(`${s.t.url}/api/stripe/connect?mode=active`, { redirect: 'manual', headers: { authorization: `Bearer ${testKey}` } });
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location')!).searchParams.get('scope')).toBe('read_write');
    });

    it('the connect link needs an API key', async () => {
      expectError(await (await import('../support/harness.ts')).request(s.t.url, 'POST', '/v2/stripe/connect_links', undefined, {}), 401, { type: 'authentication_error' });
    });
  });

  describe('the OAuth callback', () => {
    it('exchanges the code through the SDK, stores the tokens encrypted, and shows the account', async () => {
      const api = s.t.client((await s.t.signup()).testKey);
      s.fake.codes.set('ac_good1', { stripe_user_id: 'acct_good1', scope: 'read_only' });
      const flow = await startOAuth(s.t, api);
      const page = await callback(s.t, { code: 'ac_good1', state: flow.state, scope: 'read_only' }, flow.cookie);
      expect(page.status).toBe(200);
      expect(page.contentType).toMatch(/text\/html/);
      expect(page.html).toContain('Stripe connected');
      expect(page.html).toContain('acct_good1');
      expect(page.html).toContain('Smart Retries');
      const token = s.fake.requestsTo('POST', /^\/oauth\/token$/).at(-1)!;
      expect(token.body.get('code')).toBe('ac_good1');
      expect(token.body.get('grant_type')).toBe('authorization_code');
      expect(token.headers.authorization).toBe('Bearer sk_test_platform');

      const conn = await api.get('/v2/stripe/connection');
      expect(conn.body).toMatchObject({ object: 'stripe_connection', status: 'connected', kind: 'oauth', stripe_account: 'acct_good1', scope: 'read_only', mode: 'observe' });
      expect(conn.body.notice).toMatch(/Smart Retries on/);
      // One sender: Stripe's API cannot say whether its failed-payment emails are on, so Rescue (whose emails are on in test mode) says which to turn off.
      expect(conn.body.customer_emails).toMatchObject({ stripe_failed_payment_emails: null, rescue_emails_enabled: true, settings_url: 'https://dashboard.stripe.com/settings/billing/automatic' });
      expect(conn.body.customer_emails.advice).toContain('turn off "Send emails when card payments fail"');
      expect((await api.post('/v2/settings/dunning', { enabled: false })).status).toBe(200);
      expect((await api.get('/v2/stripe/connection')).body.customer_emails).toMatchObject({ rescue_emails_enabled: false, advice: expect.stringContaining('can stay on') });
      expect((await api.post('/v2/settings/dunning', { enabled: true })).status).toBe(200);
      expect(conn.body.backfill.map((b: any) => b.object).sort()).toEqual(['charges', 'invoices', 'subscriptions']);

      const row = (await sql<any>`select * from stripe_connections where stripe_account_id = 'acct_good1'`.execute(s.t.rescue.db)).rows[0];
      expect(row.access_token_enc).toMatch(/^v1\.k1\./);
      expect(JSON.stringify(row)).not.toContain('sk_test_accessacct_good1');
      expect(JSON.stringify(row)).not.toContain('rt_refreshacct_good1');
      // Stripe's token shapes now route to the stripe gateway.
      const gateways = (await api.get('/v2/settings/gateways')).body;
      expect(JSON.stringify(gateways)).toContain('"stripe"');
    });

    it('a denial, an invalid code, a bad or foreign state each give a clear page and connect nothing', async () => {
      const api = s.t.client((await s.t.signup()).testKey);
      const flow = await startOAuth(s.t, api);
      const denied = await callback(s.t, { error: 'access_denied', error_description: 'The user denied your request', state: flow.state }, flow.cookie);
      expect(denied.status).toBe(200);
      expect(denied.html).toContain('data-reason="denied"');
      const invalid = await callback(s.t, { code: 'ac_nope', state: flow.state }, flow.cookie);
      expect(invalid.status).toBe(400);
      expect(invalid.html).toContain('data-reason="invalid_code"');
      expect(invalid.html).toContain('Authorization code does not exist');
      const tampered = await callback(s.t, { code: 'ac_nope', state: flow.state.slice(0, -3) + 'AAA' }, flow.cookie);
      expect(tampered.status).toBe(400);
      expect(tampered.html).toContain('data-reason="bad_state"');
      // The right state in another browser (no cookie, or another flow's cookie): CSRF.
      s.fake.codes.set('ac_csrf', { stripe_user_id: 'acct_csrf', scope: 'read_only' });
      expect((await callback(s.t, { code: 'ac_csrf', state: flow.state })).html).toContain('data-reason="bad_state"');
      const other = await startOAuth(s.t, api);
      expect((await callback(s.t, { code: 'ac_csrf', state: flow.state }, other.cookie)).html).toContain('data-reason="bad_state"');
      expect((await callback(s.t, {})).status).toBe(400);
      expect((await api.get('/v2/stripe/connection')).body.status).toBe('not_connected');
    });

    it('a Stripe outage during the exchange is a 502 page, not a 500', async () => {
      const api = s.t.client((await s.t.signup()).testKey);
      const flow = await startOAuth(s.t, api);
      s.fake.codes.set('ac_outage', { stripe_user_id: 'acct_outage', scope: 'read_only' });
      s.fake.failNext(/^\/oauth\/token$/, 503, { error: { type: 'api_error', message: 'down' } });
      const page = await callback(s.t, { code: 'ac_outage', state: flow.state }, flow.cookie);
      expect(page.status).toBe(502);
      expect(page.html).toContain('data-reason="stripe_unavailable"');
    });

    it('one Stripe account connects to one Rescue account', async () => {
      await connectedAccount(s, { stripe_user_id: 'acct_shared' });
      const api = s.t.client((await s.t.signup()).testKey);
      s.fake.codes.set('ac_shared2', { stripe_user_id: 'acct_shared', scope: 'read_only' });
      const flow = await startOAuth(s.t, api);
      const page = await callback(s.t, { code: 'ac_shared2', state: flow.state }, flow.cookie);
      expect(page.status).toBe(409);
      expect(page.html).toContain('data-reason="account_in_use"');
    });
  });

  describe('modes, pasted keys and disconnect', () => {
    it('active mode needs read_write; a read_write connection switches both ways', async () => {
      const ro = await connectedAccount(s);
      expectError(await ro.api.post('/v2/stripe/connection', { mode: 'active' }), 400, { param: 'mode' });
      const rw = await connectedAccount(s, { mode: 'active' });
      expect((await rw.api.get('/v2/stripe/connection')).body).toMatchObject({ mode: 'active', scope: 'read_write' });
      expect((await rw.api.get('/v2/stripe/connection')).body.notice).toMatch(/Smart Retries off/);
      expect((await rw.api.post('/v2/stripe/connection', { mode: 'observe' })).body.mode).toBe('observe');
      expect((await rw.api.post('/v2/stripe/connection', { mode: 'active' })).body.mode).toBe('active');
    });

    it('a pasted restricted key is checked with Stripe and stored encrypted; a live key in test mode is refused', async () => {
      const api = s.t.client((await s.t.signup()).testKey);
      expectError(await api.post('/v2/stripe/connection', { api_key: 'rk_live_abcdefgh12345678' }), 400, { param: 'api_key' });
      expectError(await api.post('/v2/stripe/connection', { api_key: 'nope' }), 400, { param: 'api_key' });
      s.fake.failNext(/^\/v1\/invoices(\?|$)/, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      expectError(await api.post('/v2/stripe/connection', { api_key: 'rk_test_revokedkey1234' }), 400, { param: 'api_key' });
      const ok = await api.post('/v2/stripe/connection', { api_key: 'rk_test_merchantkey1234', webhook_secret: 'whsec_billingsecret1234' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ status: 'connected', kind: 'api_key', mode: 'observe', billing_webhook: { secret_set: true } });
      expect(ok.body.billing_webhook.url).toMatch(/\/api\/stripe\/billing-webhook\?account=acct_/);
      expect(s.fake.requestsTo('GET', /^\/v1\/invoices$/).at(-1)!.headers.authorization).toBe('Bearer rk_test_merchantkey1234');
      const row = (await sql<any>`select api_key_enc, webhook_secret_enc from stripe_connections where api_key_enc is not null`.execute(s.t.rescue.db)).rows;
      expect(JSON.stringify(row)).not.toContain('rk_test_merchantkey1234');
      expect(JSON.stringify(row)).not.toContain('whsec_billingsecret1234');
    });

    it('disconnect revokes through the SDK and forgets the tokens', async () => {
      const { api, stripeAccount } = await connectedAccount(s);
      const res = await api.del('/v2/stripe/connection');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'disconnected', stripe_account: stripeAccount });
      expect(s.fake.deauthorized).toContain(stripeAccount);
      const deauth = s.fake.requestsTo('POST', /^\/oauth\/deauthorize$/).at(-1)!;
      expect(deauth.body.get('client_id')).toBe('ca_testplatform');
      const row = (await sql<any>`select * from stripe_connections where stripe_account_id = ${stripeAccount}`.execute(s.t.rescue.db)).rows[0];
      expect(row).toMatchObject({ status: 'disconnected', access_token_enc: null, refresh_token_enc: null });
      expect((await api.get('/v2/stripe/connection')).body.backfill.every((b: any) => b.status !== 'running' && b.status !== 'pending')).toBe(true);
      expectError(await api.del('/v2/stripe/connection'), 409, { code: 'stripe_not_connected' });
    });
  });

  describe('without Stripe settings', () => {
    it('the connect page says so and the API answers stripe_not_configured', async () => {
      const t = await startTestRescue({ engine, worker: false });
      try {
        const res = await fetch(`${t.url}/api/stripe/connect?token=x.y`, { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(await res.text()).toContain('data-reason="not_configured"');
        const api = t.client((await t.signup()).testKey);
        expectError(await api.post('/v2/stripe/connect_links', {}), 400, { code: 'stripe_not_configured' });
      } finally {
        await t.close();
      }
    });
  });

  describe('key rotation', () => {
    it('old ciphertexts decrypt with the old key listed, and are re-encrypted with the new one when read', async () => {
      const { api, stripeAccount } = await connectedAccount(s);
      const accountId = (await sql<any>`select account_id from stripe_connections where stripe_account_id = ${stripeAccount}`.execute(s.t.rescue.db)).rows[0].account_id;
      const scope = { accountId, livemode: false };
      const read = async () => (await sql<any>`select access_token_enc from stripe_connections where account_id = ${accountId}`.execute(s.t.rescue.db)).rows[0].access_token_enc as string;
      expect(await read()).toMatch(/^v1\.k1\./);
      // Without the old key, the old ciphertext cannot be read.
      const k2 = encryptionKey('k2');
      await expect(getStripeConnection(s.t.rescue.db, keyringFrom(k2, undefined)!, scope)).rejects.toThrow(/key 'k1'/);
      // With k2 current and k1 listed as old: readable, and rewritten under k2.
      const rotated = keyringFrom(k2, K1)!;
      expect((await getStripeConnection(s.t.rescue.db, rotated, scope))!.secretKey).toBe(`sk_test_access${stripeAccount}`);
      expect(await read()).toMatch(/^v1\.k2\./);
      expect((await getStripeConnection(s.t.rescue.db, keyringFrom(k2, undefined)!, scope))!.secretKey).toBe(`sk_test_access${stripeAccount}`);
      void api;
    });
  });
});
