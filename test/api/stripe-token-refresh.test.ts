import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { stripeEvent } from '../support/fake-stripe.ts';
import type { Client } from '../support/harness.ts';
import { callback, connectedAccount, knownFailedInvoice, sendEvent, startOAuth, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';

// A connected account's OAuth access token that Stripe refuses (401) is refreshed once through the
// SDK (grant_type=refresh_token, with the platform key), stored encrypted, and the call repeated once
// — a charge under the same idempotency key. A refused refresh makes the connection needs_reconnect:
// nothing is charged, GET /v2/stripe/connection says so, and a reconnect restores it.

describe.each(ENGINES)('OAuth token refresh (%s)', (engine) => {
  let s: StripeRescue;
  beforeAll(async () => {
    s = await startStripeRescue({ engine, worker: false });
  });
  afterAll(() => s.close());

  let n = 0;
  const uid = (p: string) => `${p}_${Date.now().toString(36)}${(++n).toString(36)}`;
  const db = () => s.t.rescue.db;

  const failedInvoiceIn = async (_account: string) => knownFailedInvoice(s.fake, { decline: 'expired_card' });
  const paymentOf = async (api: Client, invoiceId: string) => (await api.get('/v2/payments?limit=100')).body.data.find((p: any) => p.metadata.stripe_invoice === invoiceId);
  const attemptsOf = async (paymentId: string) => (await sql<any>`select * from attempts where payment_id = ${paymentId} order by number`.execute(db())).rows;
  const connectionRow = async (stripeAccount: string) => (await sql<any>`select * from stripe_connections where stripe_account_id = ${stripeAccount}`.execute(db())).rows[0];
  const refreshCalls = () => s.fake.requestsTo('POST', /^\/oauth\/token$/).filter((r) => r.body.get('grant_type') === 'refresh_token');

  it('an expired token is refreshed once, stored encrypted, and the charge repeated under the same idempotency key', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const inv = await failedInvoiceIn(stripeAccount);
    await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }));
    const payment = await paymentOf(api, inv.id);
    const planned = (await attemptsOf(payment.id)).find((a: any) => a.status === 'planned');

    const old = `sk_test_access${stripeAccount}`;
    s.fake.expiredTokens.add(old);
    const refreshesBefore = refreshCalls().length;
    const res = await api.post(`/v2/payments/${payment.id}/retry_now`);
    expect(res.body).toMatchObject({ status: 'succeeded', auto_rescue: { status: 'recovered' } });

    const pays = s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}/pay$`));
    expect(pays.map((p) => p.headers.authorization)).toEqual([`Bearer ${old}`, expect.stringMatching(new RegExp(`^Bearer sk_test_access${stripeAccount}_r\\d+$`))]);
    expect(pays.map((p) => p.headers['idempotency-key'])).toEqual([planned.idempotency_key, planned.idempotency_key]);
    const refresh = refreshCalls();
    expect(refresh).toHaveLength(refreshesBefore + 1);
    expect(refresh.at(-1)!.headers.authorization).toBe('Bearer sk_test_platform');
    expect(refresh.at(-1)!.body.get('refresh_token')).toBe(`rt_refresh${stripeAccount}`);

    const fresh = pays[1]!.headers.authorization!.slice('Bearer '.length);
    const row = await connectionRow(stripeAccount);
    expect(row.access_token_enc).toMatch(/^v1\.k1\./);
    expect(JSON.stringify(row)).not.toContain(fresh);
    const conn = (await api.get('/v2/stripe/connection')).body;
    expect(conn).toMatchObject({ status: 'connected', status_reason: null });
    expect(conn.token_refreshed_at).not.toBeNull();

    // The next call uses the stored new token straight away: no second refresh.
    const next = await failedInvoiceIn(stripeAccount);
    expect((await sendEvent(s, stripeEvent('invoice.payment_failed', next, { account: stripeAccount }))).body.outcome).toBe('processed');
    expect(s.fake.requestsTo('GET', /^\/v1\/invoice_payments$/).at(-1)!.headers.authorization).toBe(`Bearer ${fresh}`);
    expect(refreshCalls()).toHaveLength(refreshesBefore + 1);
  });

  it('a webhook whose lookup meets an expired token refreshes it and still reads the real decline', async () => {
    const { api, stripeAccount } = await connectedAccount(s);
    s.fake.expiredTokens.add(`sk_test_access${stripeAccount}`);
    const inv = await failedInvoiceIn(stripeAccount);
    expect((await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }))).body.outcome).toBe('processed');
    expect((await paymentOf(api, inv.id)).failure_code).toBe('expired_card');
    expect((await api.get('/v2/stripe/connection')).body.status).toBe('connected');
  });

  it('a refused refresh makes the connection needs_reconnect: no money moves, the status says so, a reconnect restores it', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const inv = await failedInvoiceIn(stripeAccount);
    await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }));
    const payment = await paymentOf(api, inv.id);

    s.fake.expiredTokens.add(`sk_test_access${stripeAccount}`);
    s.fake.refreshTokens.delete(`rt_refresh${stripeAccount}`);
    const res = await api.post(`/v2/payments/${payment.id}/retry_now`);
    expect(res.body.status).not.toBe('succeeded');
    // One refused pay (401: Stripe did nothing), one refused refresh, and no second charge.
    expect(s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}/pay$`))).toHaveLength(1);
    expect(s.fake.invoices.find((i) => i.id === inv.id).status).not.toBe('paid');
    const attempt = (await attemptsOf(payment.id)).find((a: any) => a.status === 'planned');
    expect(attempt.failure_message).toMatch(/Stripe needs reconnecting/);

    const conn = (await api.get('/v2/stripe/connection')).body;
    expect(conn).toMatchObject({ status: 'needs_reconnect', stripe_account: stripeAccount });
    expect(conn.status_reason).toMatch(/refused to refresh the access token/);
    expect(conn.notice).toMatch(/reconnect/);
    expect(await connectionRow(stripeAccount)).toMatchObject({ access_token_enc: null, refresh_token_enc: null });

    // Asked again: nothing reaches Stripe while it needs reconnecting.
    const before = s.fake.requests.length;
    await api.post(`/v2/payments/${payment.id}/retry_now`);
    expect(s.fake.requests.slice(before).filter((r) => r.path.startsWith('/v1/'))).toEqual([]);
    // Events still arrive and are recorded (Stripe's catch-all decline: there is no key to ask with).
    const other = await failedInvoiceIn(stripeAccount);
    expect((await sendEvent(s, stripeEvent('invoice.payment_failed', other, { account: stripeAccount }))).body.outcome).toBe('processed');
    expect((await paymentOf(api, other.id)).failure_code).toBe('generic_decline');

    const code = `ac_${uid('re')}`;
    s.fake.codes.set(code, { stripe_user_id: stripeAccount, scope: 'read_write' });
    const flow = await startOAuth(s.t, api, 'active');
    expect((await callback(s.t, { code, state: flow.state }, flow.cookie)).status).toBe(200);
    expect((await api.get('/v2/stripe/connection')).body).toMatchObject({ status: 'connected', status_reason: null });
  });

  it('a pasted key Stripe refuses cannot be refreshed: needs_reconnect at once', async () => {
    const { accountId, testKey } = await s.t.signup();
    const api = s.t.client(testKey);
    const key = `rk_test_${uid('merchant').replace(/_/g, '')}`;
    const secret = 'whsec_ownaccountsecret02';
    expect((await api.post('/v2/stripe/connection', { api_key: key, webhook_secret: secret })).status).toBe(200);
    s.fake.expiredTokens.add(key);
    const inv = await failedInvoiceIn('acct_unused');
    const refreshesBefore = refreshCalls().length;
    const res = await sendEvent(s, stripeEvent('invoice.payment_failed', inv), { path: `/api/stripe/billing-webhook?account=${accountId}`, secret });
    expect(res.body.outcome).toBe('processed');
    expect(refreshCalls()).toHaveLength(refreshesBefore);
    const conn = (await api.get('/v2/stripe/connection')).body;
    expect(conn).toMatchObject({ status: 'needs_reconnect', kind: 'api_key' });
    expect(conn.status_reason).toMatch(/refused the pasted key/);
  });
});
