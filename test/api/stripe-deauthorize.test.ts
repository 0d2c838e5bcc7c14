import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { invoiceObject, stripeEvent } from '../support/fake-stripe.ts';
import type { Client } from '../support/harness.ts';
import { callback, connectedAccount, knownFailedInvoice, sendEvent, startOAuth, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';

// account.application.deauthorized on the Connect webhook: the merchant revoked Rescue in Stripe's
// dashboard. The connection is disconnected with its reason, the import stops, open Stripe rescues end
// as cancelled (with their events, in the same transaction); processed once; a reconnect works.

describe.each(ENGINES)('deauthorized in Stripe (%s)', (engine) => {
  let s: StripeRescue;
  beforeAll(async () => {
    s = await startStripeRescue({ engine, worker: false });
  });
  afterAll(() => s.close());

  let n = 0;
  const uid = (p: string) => `${p}_${Date.now().toString(36)}${(++n).toString(36)}`;
  const deauthorized = (account: string, created?: number) => stripeEvent('account.application.deauthorized', { id: 'ca_testplatform', object: 'application', name: 'Rescue' }, { account, created });

  async function failedInvoiceIn(account: string) {
    const inv = knownFailedInvoice(s.fake);
    expect((await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account }))).body.outcome).toBe('processed');
    return inv;
  }
  const paymentOf = async (api: Client, invoiceId: string) => (await api.get('/v2/payments?limit=100')).body.data.find((p: any) => p.metadata.stripe_invoice === invoiceId);

  it('active mode: the connection ends with its reason, the import stops, open rescues end with an event each; processed once', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const open = [await failedInvoiceIn(stripeAccount), await failedInvoiceIn(stripeAccount)];
    const paymentIds = await Promise.all(open.map(async (inv) => (await paymentOf(api, inv.id)).id));
    // A rescue already over is left as it is.
    const paid = await failedInvoiceIn(stripeAccount);
    await sendEvent(s, stripeEvent('invoice.paid', invoiceObject({ id: paid.id, paid: true, status: 'paid' }), { account: stripeAccount }));

    const event = deauthorized(stripeAccount);
    expect((await sendEvent(s, event, { secret: 'whsec_wrongsecret000000' })).status).toBe(400);
    expect((await api.get('/v2/stripe/connection')).body.status).toBe('connected');

    expect(await sendEvent(s, event)).toEqual({ status: 200, body: { received: true, outcome: 'processed' } });
    const conn = (await api.get('/v2/stripe/connection')).body;
    expect(conn).toMatchObject({ status: 'disconnected', status_reason: 'deauthorized in Stripe', stripe_account: stripeAccount, notice: null });
    expect(conn.backfill.every((b: any) => b.status !== 'pending' && b.status !== 'running')).toBe(true);
    const row = (await sql<any>`select * from stripe_connections where stripe_account_id = ${stripeAccount}`.execute(s.t.rescue.db)).rows[0];
    expect(row).toMatchObject({ access_token_enc: null, refresh_token_enc: null });

    for (const id of paymentIds) {
      const p = (await api.get(`/v2/payments/${id}`)).body;
      expect(p).toMatchObject({ status: 'rescue_cancelled', auto_rescue: { status: 'cancelled' } });
      const planned = (await sql<any>`select count(*)::int as n from attempts where payment_id = ${id} and status = 'planned'`.execute(s.t.rescue.db)).rows[0].n;
      expect(planned).toBe(0);
    }
    const cancelled = (await api.get('/v2/events?type=payment.rescue_cancelled&limit=100')).body.data;
    expect(cancelled.map((e: any) => e.data.payment).sort()).toEqual([...paymentIds].sort());
    expect(cancelled[0].data.reason).toBe('stripe_deauthorized');
    expect(cancelled[0].data.message).toMatch(/revoked in the Stripe dashboard/);
    expect((await api.get(`/v2/payments/${(await paymentOf(api, paid.id)).id}`)).body.status).toBe('succeeded');

    // Redelivered: processed once, nothing more happens.
    expect((await sendEvent(s, event)).body).toEqual({ received: true, outcome: 'duplicate' });
    expect((await api.get('/v2/events?type=payment.rescue_cancelled&limit=100')).body.data).toHaveLength(2);
    // No charge can reach Stripe any more.
    const before = s.fake.requestsTo('POST', /\/pay$/).length;
    expect((await api.post(`/v2/payments/${paymentIds[0]}/retry_now`)).status).toBe(409);
    expect(s.fake.requestsTo('POST', /\/pay$/)).toHaveLength(before);
  });

  it('observe mode ends its rescues too: no Stripe event will tell how they end', async () => {
    const { api, stripeAccount } = await connectedAccount(s);
    const inv = await failedInvoiceIn(stripeAccount);
    await sendEvent(s, deauthorized(stripeAccount));
    expect((await api.get(`/v2/payments/${(await paymentOf(api, inv.id)).id}`)).body.status).toBe('rescue_cancelled');
  });

  it('a later reconnect works, and a deauthorization from before it does not undo it', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const old = deauthorized(stripeAccount, Math.floor(Date.now() / 1000) - 120);
    // Sent before this connection existed (a late delivery for an earlier connection): ignored.
    expect((await sendEvent(s, old)).body.outcome).toBe('ignored');
    expect((await api.get('/v2/stripe/connection')).body.status).toBe('connected');

    const event = deauthorized(stripeAccount);
    expect((await sendEvent(s, event)).body.outcome).toBe('processed');
    expect((await api.get('/v2/stripe/connection')).body.status).toBe('disconnected');

    const code = `ac_${uid('re')}`;
    s.fake.codes.set(code, { stripe_user_id: stripeAccount, scope: 'read_write' });
    const flow = await startOAuth(s.t, api, 'active');
    expect((await callback(s.t, { code, state: flow.state }, flow.cookie)).status).toBe(200);
    const conn = (await api.get('/v2/stripe/connection')).body;
    expect(conn).toMatchObject({ status: 'connected', status_reason: null, mode: 'active', stripe_account: stripeAccount });
    expect(conn.backfill.every((b: any) => b.status === 'pending')).toBe(true);

    // The old deauthorization redelivered after the reconnect changes nothing; new failures are rescued.
    expect((await sendEvent(s, event)).body.outcome).toBe('duplicate');
    const inv = await failedInvoiceIn(stripeAccount);
    expect((await paymentOf(api, inv.id)).status).toBe('requires_rescue');
    expect((await api.get('/v2/stripe/connection')).body.status).toBe('connected');
  });

  it('disconnecting in Rescue ends the open rescues the same way', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const inv = await failedInvoiceIn(stripeAccount);
    expect((await api.del('/v2/stripe/connection')).body).toMatchObject({ status: 'disconnected', status_reason: 'disconnected in Rescue' });
    const payment = (await api.get(`/v2/payments/${(await paymentOf(api, inv.id)).id}`)).body;
    expect(payment.status).toBe('rescue_cancelled');
    const event = (await api.get('/v2/events?type=payment.rescue_cancelled&limit=100')).body.data.find((e: any) => e.data.payment === payment.id);
    expect(event.data.reason).toBe('stripe_disconnected');
  });
});
