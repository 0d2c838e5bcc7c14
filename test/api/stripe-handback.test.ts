import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { fixture, invoiceObject, stripeEvent } from '../support/fake-stripe.ts';
import { eventually, type Client } from '../support/harness.ts';
import { callback, connectedAccount, knownFailedInvoice, sendEvent, startOAuth, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';

// Issue 15, against a fake Stripe that answers as Stripe's API reference says (restricted keys
// refused with 403 per resource, invoices with auto_advance): Rescue connects only a key that can do
// what its mode needs, hands every invoice it took over back to Stripe when it lets go of it, keeps
// each rescue's state true across a mode change, shows the retry that will run, and refuses events
// of the other livemode.

const ALL = ['invoices', 'invoice_payments', 'payment_intents', 'charges', 'subscriptions'];
const READ = ALL.map((r) => `${r}:read`);
const WRITE = ['invoices:write', 'payment_intents:write'];
const NAMES: Record<string, string> = {
  'invoices:read': 'Invoices: read',
  'invoice_payments:read': 'Invoice payments: read',
  'payment_intents:read': 'PaymentIntents: read',
  'charges:read': 'Charges: read',
  'subscriptions:read': 'Subscriptions: read',
  'invoices:write': 'Invoices: write',
  'payment_intents:write': 'PaymentIntents: write',
};

describe.each(ENGINES)('Stripe: connect what can work, hand invoices back (%s)', (engine) => {
  let s: StripeRescue;
  beforeAll(async () => {
    s = await startStripeRescue({ engine, worker: true, env: { RESCUE_WORKER_POLL_MS: '50' } });
  });
  afterAll(() => s.close());

  let n = 0;
  const uid = (p: string) => `${p}${Date.now().toString(36)}${(++n).toString(36)}`;
  const db = () => s.t.rescue.db;
  /** A restricted key the fake Stripe knows, granted `permissions`. */
  const restrictedKey = (permissions: string[]) => {
    const key = `rk_test_${uid('key')}`;
    s.fake.restrictedKeys.set(key, new Set(permissions));
    return key;
  };
  const paymentOf = async (api: Client, invoiceId: string) => (await api.get('/v2/payments?limit=100')).body.data.find((p: any) => p.metadata.stripe_invoice === invoiceId);
  const fakeInvoice = (id: string) => s.fake.invoices.find((i) => i.id === id);
  async function failedInvoiceIn(account: string) {
    const inv = knownFailedInvoice(s.fake);
    expect((await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account }))).body.outcome).toBe('processed');
    // Active mode took it over in Stripe.
    return inv;
  }
  const handbackOf = async (invoiceId: string) => (await sql<any>`select * from stripe_handbacks where invoice_id = ${invoiceId}`.execute(db())).rows[0];

  describe('a key that cannot work is refused, naming what it lacks', () => {
    it.each(READ)('connecting without %s (observe needs it)', async (lacking) => {
      const api = s.t.client((await s.t.signup()).testKey);
      const res = await api.post('/v2/stripe/connection', { api_key: restrictedKey(READ.filter((p) => p !== lacking)) });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid', param: 'api_key' });
      expect(res.body.error.message).toContain(`observe mode needs: ${NAMES[lacking]}.`);
      expect((await api.get('/v2/stripe/connection')).body.status).toBe('not_connected');
    });

    it.each(WRITE)('switching to active without %s; connecting in active mode without it', async (lacking) => {
      const api = s.t.client((await s.t.signup()).testKey);
      const key = restrictedKey([...READ, ...WRITE.filter((p) => p !== lacking)]);
      expect((await api.post('/v2/stripe/connection', { api_key: key })).body).toMatchObject({ status: 'connected', mode: 'observe' });
      const res = await api.post('/v2/stripe/connection', { mode: 'active' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'parameter_invalid', param: 'mode' });
      expect(res.body.error.message).toContain(`active mode needs: ${NAMES[lacking]}.`);
      expect((await api.get('/v2/stripe/connection')).body.mode).toBe('observe');
      const direct = await api.post('/v2/stripe/connection', { api_key: key, mode: 'active' });
      expect(direct.status).toBe(400);
      expect(direct.body.error.message).toContain(NAMES[lacking]);
      // Granted: the same switch passes.
      s.fake.restrictedKeys.get(key)!.add(lacking);
      expect((await api.post('/v2/stripe/connection', { mode: 'active' })).body).toMatchObject({ status: 'connected', mode: 'active' });
    });

    it('an OAuth connection whose token lacks a permission is not kept, and revoked', async () => {
      const api = s.t.client((await s.t.signup()).testKey);
      const account = `acct_${uid('oauth')}`;
      s.fake.codes.set(`ac_${account}`, { stripe_user_id: account, scope: 'read_only' });
      s.fake.restrictedKeys.set(`sk_test_access${account}`, new Set(READ.filter((p) => p !== 'charges:read')));
      const flow = await startOAuth(s.t, api, 'observe');
      const page = await callback(s.t, { code: `ac_${account}`, state: flow.state, scope: 'read_only' }, flow.cookie);
      expect(page.status).toBe(400);
      expect(page.html).toContain('data-reason="missing_permissions"');
      expect(page.html).toContain('Charges: read');
      expect((await api.get('/v2/stripe/connection')).body.status).toBe('not_connected');
      expect(s.fake.deauthorized).toContain(account);
    });

    it('the checks change nothing in Stripe: writes are probed on objects that do not exist', async () => {
      const api = s.t.client((await s.t.signup()).testKey);
      const key = restrictedKey([...READ, ...WRITE]);
      const before = s.fake.requests.length;
      expect((await api.post('/v2/stripe/connection', { api_key: key, mode: 'active' })).status).toBe(200);
      const probes = s.fake.requests.slice(before).filter((r) => r.method === 'POST');
      expect(probes.map((r) => r.path).sort()).toEqual(['/v1/invoices/in_rescue_permission_check', '/v1/payment_intents/pi_rescue_permission_check']);
    });
  });

  it('a 403 during a webhook lookup answers 5xx (Stripe redelivers), stores nothing, and marks the connection until the key is fixed', async () => {
    const { accountId, testKey } = await s.t.signup();
    const api = s.t.client(testKey);
    const key = restrictedKey(READ);
    const secret = `whsec_${uid('own')}`;
    expect((await api.post('/v2/stripe/connection', { api_key: key, webhook_secret: secret })).status).toBe(200);
    // The merchant later takes a permission away in Stripe.
    s.fake.restrictedKeys.get(key)!.delete('payment_intents:read');
    const inv = knownFailedInvoice(s.fake);
    const event = stripeEvent('invoice.payment_failed', inv);
    const path = `/api/stripe/billing-webhook?account=${accountId}`;
    const refused = await sendEvent(s, event, { path, secret });
    expect(refused.status).toBe(502);
    expect(refused.body.error.message).toContain('does not have the required permissions');
    expect(await paymentOf(api, inv.id)).toBeUndefined();
    const conn = (await api.get('/v2/stripe/connection')).body;
    expect(conn.status).toBe('needs_attention');
    expect(conn.status_reason).toContain(`invoice.payment_failed (${inv.id})`);
    expect(conn.status_reason).toContain("'rak_payment_intent_read'");
    expect(conn.notice).toContain('Grant the key what it lacks');

    // A payment intent Stripe does not know (404) is a refused lookup too.
    s.fake.restrictedKeys.get(key)!.add('payment_intents:read');
    const lost = knownFailedInvoice(s.fake);
    s.fake.paymentIntents.delete(s.fake.invoicePayments.get(lost.id)![0]!);
    expect((await sendEvent(s, stripeEvent('invoice.payment_failed', lost), { path, secret })).status).toBe(502);

    // Fixed and checked again: connected, and Stripe's redelivery is processed.
    expect((await api.post('/v2/stripe/connection', { mode: 'observe' })).body).toMatchObject({ status: 'connected', status_reason: null });
    expect((await sendEvent(s, event, { path, secret })).body.outcome).toBe('processed');
    expect((await paymentOf(api, inv.id)).status).toBe('requires_rescue');
  });

  describe('auto_advance is handed back on each way of letting go', () => {
    it('switching to observe: restored by the worker, recorded, each open rescue waits for Stripe', async () => {
      const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
      const inv = await failedInvoiceIn(stripeAccount);
      expect(fakeInvoice(inv.id).auto_advance).toBe(false);
      // Another one was paid meanwhile: nothing to hand back for it.
      const paid = await failedInvoiceIn(stripeAccount);
      await sendEvent(s, stripeEvent('invoice.paid', invoiceObject({ id: paid.id, paid: true, status: 'paid' }), { account: stripeAccount }));
      expect((await api.get('/v2/stripe/connection')).body.handback).toMatchObject({ held: 1, restoring: 0 });
      expect((await api.post('/v2/stripe/connection', { mode: 'observe' })).body.mode).toBe('observe');
      await eventually(async () => ((await handbackOf(inv.id)).status === 'restored' ? true : undefined));
      expect(fakeInvoice(inv.id).auto_advance).toBe(true);
      const restore = s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}$`)).at(-1)!;
      expect(restore.body.get('auto_advance')).toBe('true');
      expect(restore.headers['idempotency-key']).toBe(`rescue_handback_${inv.id}_1`);
      expect((await handbackOf(inv.id)).reason).toMatch(/observe mode/);
      expect((await api.get('/v2/stripe/connection')).body.handback).toMatchObject({ held: 0, restoring: 0, restored: 1, not_handed_back: [] });
      expect(s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${paid.id}$`))).toHaveLength(1);
      // Stripe's next retry of it is recorded as Stripe's.
      const payment = await paymentOf(api, inv.id);
      await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }));
      expect((await api.get(`/v2/payments/${payment.id}`)).body.auto_rescue.attempts_made).toBe(2);
    });

    it('disconnecting: handed back first (Stripe down: the disconnect is refused and nothing changes)', async () => {
      const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
      const inv = await failedInvoiceIn(stripeAccount);
      s.fake.failNext(new RegExp(`^/v1/invoices/${inv.id}$`), 503, { error: { type: 'api_error', message: 'Stripe is down' } });
      const down = await api.del('/v2/stripe/connection');
      expect(down.status).toBe(502);
      expect((await api.get('/v2/stripe/connection')).body.status).toBe('connected');
      expect(s.fake.deauthorized).not.toContain(stripeAccount);
      expect(fakeInvoice(inv.id).auto_advance).toBe(false);

      expect((await api.del('/v2/stripe/connection')).body.status).toBe('disconnected');
      expect(fakeInvoice(inv.id).auto_advance).toBe(true);
      expect((await handbackOf(inv.id)).status).toBe('restored');
      expect(s.fake.deauthorized).toContain(stripeAccount);
    });

    it('deauthorised in Stripe: impossible, so the invoices are listed for the merchant', async () => {
      const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
      const inv = await failedInvoiceIn(stripeAccount);
      const payment = await paymentOf(api, inv.id);
      await sendEvent(s, stripeEvent('account.application.deauthorized', { id: 'ca_testplatform', object: 'application' }, { account: stripeAccount }));
      const conn = (await api.get('/v2/stripe/connection')).body;
      expect(conn.status).toBe('disconnected');
      expect(conn.handback.not_handed_back).toEqual([{ invoice: inv.id, payment: payment.id, auto_advance: true, reason: expect.stringMatching(/revoked in the Stripe dashboard.*turn it on for this invoice in Stripe/) }]);
      expect(fakeInvoice(inv.id).auto_advance).toBe(false);
    });

    it('the merchant cancels the rescue, or it ends without the money: restored by the worker; Stripe down meanwhile: retried', async () => {
      const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
      const cancelled = await failedInvoiceIn(stripeAccount);
      s.fake.failNext(new RegExp(`^/v1/invoices/${cancelled.id}$`), 503, { error: { type: 'api_error', message: 'Stripe is down' } });
      expect((await api.post(`/v2/payments/${(await paymentOf(api, cancelled.id)).id}/cancel_rescue`)).body.status).toBe('rescue_cancelled');
      const waiting = await eventually(async () => {
        const h = await handbackOf(cancelled.id);
        return h.status === 'pending' ? h : undefined;
      });
      expect(waiting).toMatchObject({ failures: 1, last_error: expect.stringContaining('Stripe is down'), reason: 'the rescue ended without the money' });
      expect(fakeInvoice(cancelled.id).auto_advance).toBe(false);
      // The backoff runs out.
      await sql`update stripe_handbacks set next_run_at = now() where invoice_id = ${cancelled.id}`.execute(db());
      await eventually(async () => ((await handbackOf(cancelled.id)).status === 'restored' ? true : undefined));
      expect(fakeInvoice(cancelled.id).auto_advance).toBe(true);

      // A hard decline on Rescue's retry ends the rescue without the money.
      const lost = await failedInvoiceIn(stripeAccount);
      s.fake.payOutcome.set(lost.id, { decline: 'stolen_card' });
      const ended = await api.post(`/v2/payments/${(await paymentOf(api, lost.id)).id}/retry_now`);
      expect(ended.body.auto_rescue.status).not.toBe('active');
      await eventually(async () => ((await handbackOf(lost.id)).status === 'restored' ? true : undefined));
      expect(fakeInvoice(lost.id).auto_advance).toBe(true);
    });
  });

  /**
   * The worker's retry gets no answer (Stripe down): asked again later under the same key, the payment
   * rescue_in_progress meanwhile — the state the mode change used to leave behind for good.
   */
  async function retryWithoutAnswer(api: Client, invoiceId: string, paymentId: string) {
    s.fake.failNext(new RegExp(`^/v1/invoices/${invoiceId}/pay$`), 503, { error: { type: 'api_error', message: 'Stripe is down' } });
    // Its planned time comes.
    await sql`update attempts set planned_at = now() where payment_id = ${paymentId} and status = 'planned'`.execute(db());
    await eventually(async () => (s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${invoiceId}/pay$`)).length > 0 ? true : undefined));
    await eventually(async () => {
      const p = (await api.get(`/v2/payments/${paymentId}`)).body;
      const [a] = (await sql<any>`select gateway_errors from attempts where payment_id = ${paymentId} and status = 'planned'`.execute(db())).rows;
      return p.status === 'rescue_in_progress' && a?.gateway_errors === 1 ? true : undefined;
    });
  }

  it('a rescue stuck across a mode change: observe frees it, retry_now says what is true, a disconnect ends it', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const inv = await failedInvoiceIn(stripeAccount);
    const payment = await paymentOf(api, inv.id);
    await retryWithoutAnswer(api, inv.id, payment.id);

    expect((await api.post('/v2/stripe/connection', { mode: 'observe' })).status).toBe(200);
    const after = (await api.get(`/v2/payments/${payment.id}`)).body;
    expect(after).toMatchObject({ status: 'requires_rescue', auto_rescue: { status: 'active' } });
    const open = (await sql<any>`select status from attempts where payment_id = ${payment.id} and status in ('planned', 'processing')`.execute(db())).rows;
    expect(open).toEqual([]);

    const pays = s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}/pay$`)).length;
    const retries = (await api.get('/v2/events?type=payment.rescue_retry&limit=100')).body.data.filter((e: any) => e.data.payment === payment.id).length;
    const res = await api.post(`/v2/payments/${payment.id}/retry_now`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('payment_not_in_rescue');
    expect(res.body.error.message).toMatch(/Stripe retries this payment itself/);
    expect(res.body.error.message).not.toMatch(/running right now/);
    expect(s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}/pay$`))).toHaveLength(pays);
    expect((await api.get('/v2/events?type=payment.rescue_retry&limit=100')).body.data.filter((e: any) => e.data.payment === payment.id)).toHaveLength(retries);
    expect((await api.get(`/v2/payments/${payment.id}`)).body.status).toBe('requires_rescue');

    await eventually(async () => ((await handbackOf(inv.id)).status === 'restored' ? true : undefined));
    expect((await api.del('/v2/stripe/connection')).status).toBe(200);
    expect((await api.get(`/v2/payments/${payment.id}`)).body).toMatchObject({ status: 'rescue_cancelled', auto_rescue: { status: 'cancelled' } });
  });

  it('a rescue_in_progress left by a retry that never got an answer is cancelled by a disconnect too', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const inv = await failedInvoiceIn(stripeAccount);
    const payment = await paymentOf(api, inv.id);
    await retryWithoutAnswer(api, inv.id, payment.id);
    expect((await api.del('/v2/stripe/connection')).status).toBe(200);
    expect((await api.get(`/v2/payments/${payment.id}`)).body).toMatchObject({ status: 'rescue_cancelled', auto_rescue: { status: 'cancelled' } });
    expect((await sql<any>`select count(*)::int as n from attempts where payment_id = ${payment.id} and status = 'processing'`.execute(db())).rows[0].n).toBe(0);
  });

  it('after a card update, next_retry_at and scheduled_retries show the moved retry, in list and retrieve', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const inv = await failedInvoiceIn(stripeAccount);
    const payment = await paymentOf(api, inv.id);
    const before = payment.rescue_schedule.next_retry_at;
    const pm = { ...fixture('events/payment_method.automatically_updated.json').data.object, id: payment.payment_method };
    expect((await sendEvent(s, stripeEvent('payment_method.automatically_updated', pm, { account: stripeAccount }))).body.outcome).toBe('processed');
    const planned = (await sql<any>`select planned_at from attempts where payment_id = ${payment.id} and status = 'planned'`.execute(db())).rows[0];
    expect(new Date(planned.planned_at).getTime()).toBeLessThan(new Date(before).getTime());
    const retrieved = (await api.get(`/v2/payments/${payment.id}`)).body;
    const listed = await paymentOf(api, inv.id);
    // The API shows whole seconds.
    const second = (d: string | Date) => Math.floor(new Date(d).getTime() / 1000);
    for (const p of [retrieved, listed]) {
      expect(second(p.rescue_schedule.next_retry_at)).toBe(second(planned.planned_at));
      expect(second(p.rescue_schedule.scheduled_retries[0].scheduled_at)).toBe(second(planned.planned_at));
    }
  });

  it("observe mode: the recovery after Stripe's card updater names the new card", async () => {
    const { api, stripeAccount } = await connectedAccount(s);
    const inv = knownFailedInvoice(s.fake);
    await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }));
    const payment = await paymentOf(api, inv.id);
    const pm = { ...fixture('events/payment_method.automatically_updated.json').data.object, id: payment.payment_method };
    expect((await sendEvent(s, stripeEvent('payment_method.automatically_updated', pm, { account: stripeAccount }))).body.outcome).toBe('processed');
    await sendEvent(s, stripeEvent('invoice.paid', invoiceObject({ id: inv.id, paid: true, status: 'paid' }), { account: stripeAccount }));
    const success = (await api.get('/v2/events?type=recovery.success&limit=100')).body.data.find((e: any) => e.data.paymentId === payment.id);
    expect(success.data.paymentMethod).toMatchObject({ last4: pm.card.last4, fingerprint: pm.card.fingerprint });
  });

  it('an invoice on a Stripe test clock: its payment lives on a tied Rescue test clock, its first attempt at the Stripe clock\'s time', async () => {
    const { api, stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const frozen = Math.floor(Date.UTC(2026, 0, 15, 12) / 1000);
    const stripeClock = uid('clock_');
    s.fake.testClocks.set(stripeClock, frozen);
    const inv = knownFailedInvoice(s.fake);
    inv.test_clock = stripeClock;
    expect((await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }))).body.outcome).toBe('processed');
    const payment = await paymentOf(api, inv.id);
    expect(payment.test_clock).toMatch(/^clock_/);
    expect(payment.created_at).toBe(new Date(frozen * 1000).toISOString().replace('.000Z', 'Z'));
    const clock = (await api.get(`/v2/test_clocks/${payment.test_clock}`)).body;
    expect(clock).toMatchObject({ frozen_time: frozen, name: `Stripe ${stripeClock}` });
    const [first] = (await sql<any>`select attempted_at, test_clock from attempts where payment_id = ${payment.id} order by number`.execute(db())).rows;
    expect(new Date(first.attempted_at).getTime()).toBe(frozen * 1000);
    expect(first.test_clock).toBe(payment.test_clock);
    // Its retries wait for the Rescue clock, not the wall clock.
    expect(new Date(payment.rescue_schedule.next_retry_at).getTime()).toBeLessThan(Date.now());
    // A second invoice on the same Stripe clock joins the same Rescue clock.
    const other = knownFailedInvoice(s.fake);
    other.test_clock = stripeClock;
    await sendEvent(s, stripeEvent('invoice.payment_failed', other, { account: stripeAccount }));
    expect((await paymentOf(api, other.id)).test_clock).toBe(payment.test_clock);
    expect(s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}/pay$`))).toHaveLength(0);
  });

  it('an event whose livemode is not the connection\'s is refused (400) and nothing is stored', async () => {
    const { accountId, testKey } = await s.t.signup();
    const api = s.t.client(testKey);
    const secret = `whsec_${uid('test')}`;
    expect((await api.post('/v2/stripe/connection', { api_key: restrictedKey(READ), webhook_secret: secret })).status).toBe(200);
    const inv = knownFailedInvoice(s.fake);
    const count = async () => Number((await sql<any>`select count(*)::int as n from stripe_events where account_id = ${accountId}`.execute(db())).rows[0].n);
    const live = await sendEvent(s, stripeEvent('invoice.payment_failed', { ...inv, livemode: true }, { livemode: true }), { path: `/api/stripe/billing-webhook?account=${accountId}`, secret });
    expect(live.status).toBe(400);
    expect(live.body.error).toMatchObject({ type: 'invalid_request_error', param: 'livemode' });
    expect(await count()).toBe(0);
    expect(await paymentOf(api, inv.id)).toBeUndefined();

    // The Connect webhook: a live event for an account connected in test mode only.
    const { stripeAccount } = await connectedAccount(s, { mode: 'active' });
    const writes = s.fake.requests.filter((r) => r.method === 'POST').length;
    const viaConnect = await sendEvent(s, stripeEvent('invoice.payment_failed', knownFailedInvoice(s.fake), { account: stripeAccount, livemode: true }));
    expect(viaConnect.status).toBe(400);
    expect(s.fake.requests.filter((r) => r.method === 'POST').length).toBe(writes);
  });
});
