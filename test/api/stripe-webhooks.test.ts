import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { declinedPaymentIntent, fixture, invoiceObject, signedHeaders, stripeEvent } from '../support/fake-stripe.ts';
import type { Client } from '../support/harness.ts';
import { CONNECT_WEBHOOK_SECRET, connectedAccount, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';

// The two webhook endpoints, verified with the SDK on the raw body, and what each Stripe event does:
// invoice.payment_failed → a payment in rescue (decline, advice code, card from the payment intent and
// charge); invoice.paid → recovered or organic; subscription deleted → churn and the rescue ends;
// card updates → retry sooner; customer.updated → email and name. Observe vs active mode.

let s: StripeRescue;
describe.each(ENGINES)('Stripe webhooks (%s)', (engine) => {
  beforeAll(async () => {
    s = await startStripeRescue({ engine, worker: false });
  });
  afterAll(() => s.close());

  const db = () => s.t.rescue.db;
  let n = 0;
  const uid = (p: string) => `${p}_${Date.now().toString(36)}${(++n).toString(36)}`;

  async function post(path: string, event: unknown, secret: string, o: { timestamp?: number; tamper?: boolean } = {}) {
    const payload = JSON.stringify(event, null, 2);
    const headers = signedHeaders(payload, secret, o.timestamp);
    const res = await fetch(`${s.t.url}${path}`, { method: 'POST', headers, body: o.tamper ? payload.replace('"amount_due": 1000', '"amount_due": 1') : payload });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  const connect = (event: unknown, o?: { timestamp?: number; tamper?: boolean }) => post('/api/stripe/webhook', event, CONNECT_WEBHOOK_SECRET, o);

  /** A failed invoice the fake Stripe knows: its invoice payment, payment intent and declined charge. */
  function failedInvoice(o: { decline?: string; networkAdviceCode?: string | null; brand?: string; country?: string; funding?: string; wallet?: string | null; subscription?: string; customer?: string; amount?: number } = {}) {
    const inv = invoiceObject({ id: uid('in'), subscription: o.subscription ?? uid('sub'), customer: o.customer ?? uid('cus'), amount: o.amount });
    const { pi, charge } = declinedPaymentIntent({ id: uid('pi'), charge: uid('ch'), decline: o.decline ?? 'insufficient_funds', networkAdviceCode: o.networkAdviceCode, brand: o.brand, country: o.country, funding: o.funding, wallet: o.wallet, fingerprint: uid('fp') });
    s.fake.invoices.push(inv);
    s.fake.paymentIntents.set(pi.id, pi);
    s.fake.charges.push(charge);
    s.fake.invoicePayments.set(inv.id, [pi.id]);
    return { inv, pi, charge };
  }

  async function paymentOf(api: Client, invoiceId: string) {
    const list = await api.get('/v2/payments?limit=100');
    return list.body.data.find((p: any) => p.metadata.stripe_invoice === invoiceId);
  }
  const attemptsOf = async (paymentId: string) => (await sql<any>`select * from attempts where payment_id = ${paymentId} order by number`.execute(db())).rows;
  const eventTypes = async (api: Client, paymentId: string) => (await api.get(`/v2/events?limit=100`)).body.data.filter((e: any) => JSON.stringify(e.data).includes(paymentId)).map((e: any) => e.type).sort();

  describe('signatures', () => {
    let account: string;
    beforeAll(async () => {
      account = (await connectedAccount(s)).stripeAccount;
    });
    const count = async () => Number((await sql<any>`select count(*)::int as n from stripe_events`.execute(db())).rows[0].n);

    it('a wrong secret, an altered body or an old signature is a 400 and stores nothing', async () => {
      const { inv } = failedInvoice();
      const event = stripeEvent('invoice.payment_failed', inv, { account });
      const before = await count();
      expect((await post('/api/stripe/webhook', event, 'whsec_notthesecret00000')).status).toBe(400);
      expect((await connect(event, { tamper: true })).status).toBe(400);
      expect((await connect(event, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(400);
      const unsigned = await fetch(`${s.t.url}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
      expect(unsigned.status).toBe(400);
      expect(await count()).toBe(before);
      expect((await sql<any>`select count(*)::int as n from stripe_invoices where invoice_id = ${inv.id}`.execute(db())).rows[0].n).toBe(0);
    });

    it('an event of an account Rescue does not know is accepted and ignored', async () => {
      const res = await connect(stripeEvent('invoice.payment_failed', failedInvoice().inv, { account: 'acct_unknown' }));
      expect(res).toEqual({ status: 200, body: { received: true, outcome: 'ignored' } });
    });
  });

  describe('observe mode (the default)', () => {
    let api: Client;
    let account: string;
    beforeAll(async () => {
      ({ api, stripeAccount: account } = await connectedAccount(s));
    });

    it('invoice.payment_failed → a payment in rescue with the decline and card from Stripe, charged by nobody; once per event id', async () => {
      const { inv, pi, charge } = failedInvoice({ brand: 'mastercard', country: 'GB', funding: 'debit', wallet: 'apple_pay' });
      const event = stripeEvent('invoice.payment_failed', inv, { account });
      expect(await connect(event)).toEqual({ status: 200, body: { received: true, outcome: 'processed' } });
      // The decline came through the SDK: the invoice's payments, then the payment intent with its charge.
      expect(s.fake.requestsTo('GET', /^\/v1\/invoice_payments$/).at(-1)!.query.get('invoice')).toBe(inv.id);
      const piCall = s.fake.requestsTo('GET', new RegExp(`^/v1/payment_intents/${pi.id}$`)).at(-1)!;
      expect(piCall.headers.authorization).toBe(`Bearer sk_test_access${account}`);

      const payment = await paymentOf(api, inv.id);
      expect(payment).toMatchObject({ amount: 1000, currency: 'USD', status: 'requires_rescue', failure_code: 'insufficient_funds', payment_method: 'pm_1PgcDE01B7WZ01zgkWdecline1' });
      expect(payment.metadata).toMatchObject({ stripe_invoice: inv.id, subscription_id: inv.parent.subscription_details.subscription, stripe_payment_intent: pi.id });
      expect(payment.auto_rescue.status).toBe('active');
      const [first, ...rest] = await attemptsOf(payment.id);
      expect(first).toMatchObject({ number: 1, status: 'failed', decline_code: 'insufficient_funds', card_brand: 'mastercard', card_funding: 'debit', card_country: 'GB', payment_method_type: 'apple_pay', gateway: 'stripe' });
      // Observe: nothing planned for a worker to charge.
      expect(rest).toEqual([]);
      const ch = (await sql<any>`select * from stripe_charges where charge_id = ${charge.id}`.execute(db())).rows[0];
      expect(ch).toMatchObject({ card_brand: 'mastercard', card_country: 'GB', card_funding: 'debit', card_wallet: 'apple_pay', decline_code: 'insufficient_funds' });
      const customer = (await api.get(`/v2/customers/${payment.customer}`)).body;
      expect(customer.email).toBe('jenny.rosen@example.com');
      expect(await eventTypes(api, payment.id)).toEqual(['payment.rescue_started']);
      // No invoice is touched in observe mode.
      expect(s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}`))).toEqual([]);

      // Redelivered: processed once.
      expect((await connect(event)).body.outcome).toBe('duplicate');
      expect((await api.get('/v2/payments?limit=100')).body.data.filter((p: any) => p.metadata.stripe_invoice === inv.id)).toHaveLength(1);
      expect((await sql<any>`select count(*)::int as n from stripe_events where stripe_event_id = ${event.id}`.execute(db())).rows[0].n).toBe(1);
    });

    it('a Mastercard advice code 03 in last_payment_error blocks the rescue at once', async () => {
      const { inv } = failedInvoice({ brand: 'mastercard', decline: 'do_not_honor', networkAdviceCode: '03' });
      await connect(stripeEvent('invoice.payment_failed', inv, { account }));
      const payment = await paymentOf(api, inv.id);
      expect(payment.status).toBe('failed');
      expect((await attemptsOf(payment.id))[0]).toMatchObject({ decline_code: 'do_not_honor', advice_code: '03' });
      expect(await eventTypes(api, payment.id)).toEqual(['recovery.blocked']);
    });

    it("Stripe's own failed retry is recorded; invoice.paid then recovers the rescue, whoever retried", async () => {
      const { inv } = failedInvoice();
      await connect(stripeEvent('invoice.payment_failed', inv, { account }));
      await connect(stripeEvent('invoice.payment_failed', { ...inv, attempt_count: 2 }, { account }));
      const payment = await paymentOf(api, inv.id);
      expect((await attemptsOf(payment.id)).map((a: any) => [a.number, a.status])).toEqual([[1, 'failed'], [2, 'failed']]);
      const paid = invoiceObject({ id: inv.id, customer: inv.customer, paid: true, status: 'paid' });
      expect((await connect(stripeEvent('invoice.paid', paid, { account }))).body.outcome).toBe('processed');
      expect((await connect(stripeEvent('invoice.payment_succeeded', paid, { account }))).body.outcome).toBe('processed');
      const after = (await api.get(`/v2/payments/${payment.id}`)).body;
      expect(after.status).toBe('succeeded');
      expect(after.auto_rescue.status).toBe('recovered');
      expect((await attemptsOf(payment.id)).map((a: any) => [a.number, a.status])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'succeeded']]);
      expect(await eventTypes(api, payment.id)).toEqual(['payment.rescue_started', 'payment.rescue_succeeded', 'recovery.success', 'recovery_event']);
    });

    it('invoice.paid for an invoice never in rescue is an organic success for Lift, counted once', async () => {
      const fresh = await connectedAccount(s);
      const paid = invoiceObject({ id: uid('in'), paid: true, status: 'paid', amount: 2500 });
      await post('/api/stripe/webhook', stripeEvent('invoice.paid', paid, { account: fresh.stripeAccount }), CONNECT_WEBHOOK_SECRET);
      await post('/api/stripe/webhook', stripeEvent('invoice.payment_succeeded', paid, { account: fresh.stripeAccount }), CONNECT_WEBHOOK_SECRET);
      const lift = (await fresh.api.get('/api/recovery/lift')).body;
      expect(lift.totals).toEqual([expect.objectContaining({ currency: 'USD', organicRevenue: 2500, organicCount: 1, recoveredRevenue: 0 })]);
    });

    it('a failure delivered after the invoice was paid (Stripe does not promise order) starts no rescue', async () => {
      const { inv } = failedInvoice();
      await connect(stripeEvent('invoice.paid', invoiceObject({ id: inv.id, paid: true, status: 'paid' }), { account }));
      expect((await connect(stripeEvent('invoice.payment_failed', inv, { account }))).body.outcome).toBe('processed');
      expect(await paymentOf(api, inv.id)).toBeUndefined();
    });

    it('customer.subscription.deleted → the churn label, and the open rescue for it ends with an event', async () => {
      const sub = uid('sub');
      const { inv } = failedInvoice({ subscription: sub });
      await connect(stripeEvent('invoice.payment_failed', inv, { account }));
      const object = { ...fixture('events/customer.subscription.deleted.json').data.object, id: sub, customer: inv.customer };
      expect((await connect(stripeEvent('customer.subscription.deleted', object, { account }))).body.outcome).toBe('processed');
      const payment = (await api.get(`/v2/payments/${(await paymentOf(api, inv.id)).id}`)).body;
      expect(payment.status).toBe('rescue_cancelled');
      expect(payment.auto_rescue.status).toBe('cancelled');
      const events = (await api.get('/v2/events?type=payment.rescue_cancelled')).body.data.filter((e: any) => e.data.payment === payment.id);
      expect(events).toHaveLength(1);
      expect(events[0].data.reason).toBe('subscription_deleted');
      const row = (await sql<any>`select * from stripe_subscriptions where subscription_id = ${sub}`.execute(db())).rows[0];
      expect(row).toMatchObject({ status: 'canceled', cancellation_reason: 'payment_failed' });
      expect(row.churned_at).toEqual(new Date(1786213200 * 1000));
    });

    it('customer.updated → email and name of the customer Rescue knows', async () => {
      const { inv } = failedInvoice();
      await connect(stripeEvent('invoice.payment_failed', inv, { account }));
      const customerId = (await paymentOf(api, inv.id)).customer;
      const c = { ...fixture('objects/customer.json'), id: inv.customer, email: 'ada@example.com', name: 'Ada Lovelace' };
      expect((await connect(stripeEvent('customer.updated', c, { account }))).body.outcome).toBe('processed');
      expect((await api.get(`/v2/customers/${customerId}`)).body).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace' });
    });

    it('a signed event with a NUL and a lone surrogate in a name is stored safely, not refused (Stripe would resend it)', async () => {
      const { inv } = failedInvoice();
      await connect(stripeEvent('invoice.payment_failed', inv, { account }));
      const customerId = (await paymentOf(api, inv.id)).customer;
      const c = { ...fixture('objects/customer.json'), id: inv.customer, email: 'ada@example.com', name: 'Ada\u0000 Lovelace\ud800' };
      expect(await connect(stripeEvent('customer.updated', c, { account }))).toEqual({ status: 200, body: { received: true, outcome: 'processed' } });
      expect((await api.get(`/v2/customers/${customerId}`)).body.name).toBe('Ada Lovelace\ufffd');
    });

    it('customer.source.updated on a card is a card-updater signal', async () => {
      const card = { id: uid('card'), object: 'card', brand: 'Visa', last4: '4444', exp_month: 1, exp_year: 2032, fingerprint: 'NEWFP', country: 'US', funding: 'credit', customer: 'cus_QXg1o8vcGmoR32' };
      const event = stripeEvent('customer.source.updated', card, { account });
      expect((await connect(event)).body.outcome).toBe('processed');
      const row = (await sql<any>`select * from stripe_card_updates where stripe_event_id = ${event.id}`.execute(db())).rows[0];
      expect(row).toMatchObject({ payment_method: card.id, card_brand: 'visa', card_last4: '4444', card_fingerprint: 'NEWFP' });
    });
  });

  describe('a Stripe rescue plans its first schedule like a /v2/payments payment', () => {
    it('invoice.payment_failed on an account with auto_rescue.learned (the default): each planned retry carries predicted_p and reason', async () => {
      const { api, stripeAccount } = await connectedAccount(s);
      const { inv } = failedInvoice();
      expect((await connect(stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }))).body.outcome).toBe('processed');
      const payment = await paymentOf(api, inv.id);
      const retries = payment.rescue_schedule.scheduled_retries;
      expect(retries.length).toBeGreaterThan(0);
      for (const r of retries) {
        expect(Object.keys(r).sort()).toEqual(['predicted_p', 'reason', 'retry_number', 'scheduled_at']);
        expect(r.predicted_p).toBeGreaterThanOrEqual(0);
        expect(r.predicted_p).toBeLessThanOrEqual(1);
        // A later retry of 5% of plans explores another time (drawn by the payment's id), and says so.
        expect(r.reason).toMatch(/^insufficient funds|^exploring another time/);
      }
      expect(retries[0].reason).toMatch(/^insufficient funds/);
    });

    it('with auto_rescue.learned off: the rule-based schedule, no prediction fields', async () => {
      const { api, stripeAccount } = await connectedAccount(s);
      expect((await api.post('/v2/settings/auto_rescue', { learned: false })).status).toBe(200);
      const { inv } = failedInvoice();
      expect((await connect(stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }))).body.outcome).toBe('processed');
      const retries = (await paymentOf(api, inv.id)).rescue_schedule.scheduled_retries;
      expect(retries.length).toBeGreaterThan(0);
      for (const r of retries) expect(Object.keys(r).sort()).toEqual(['retry_number', 'scheduled_at']);
    });
  });

  describe('active mode', () => {
    let api: Client;
    let account: string;
    beforeAll(async () => {
      ({ api, stripeAccount: account } = await connectedAccount(s, { mode: 'active' }));
    });

    it('takes the invoice over (auto_advance: false) and retries through invoices.pay with the attempt idempotency key', async () => {
      const { inv } = failedInvoice();
      await connect(stripeEvent('invoice.payment_failed', inv, { account }));
      const update = s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}$`));
      expect(update).toHaveLength(1);
      expect(update[0]!.body.get('auto_advance')).toBe('false');
      const payment = await paymentOf(api, inv.id);
      const planned = (await attemptsOf(payment.id)).find((a: any) => a.status === 'planned');
      expect(planned).toBeDefined();

      s.fake.payOutcome.set(inv.id, { decline: 'insufficient_funds' });
      const declined = await api.post(`/v2/payments/${payment.id}/retry_now`);
      expect(declined.body.status).toBe('requires_rescue');
      const pay1 = s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}/pay$`));
      expect(pay1).toHaveLength(1);
      expect(pay1[0]!.headers['idempotency-key']).toBe(planned.idempotency_key);
      expect(pay1[0]!.body.get('off_session')).toBe('true');
      expect(pay1[0]!.headers.authorization).toBe(`Bearer sk_test_access${account}`);

      s.fake.payOutcome.set(inv.id, 'pay');
      const next = (await attemptsOf(payment.id)).find((a: any) => a.status === 'planned');
      const ok = await api.post(`/v2/payments/${payment.id}/retry_now`);
      expect(ok.body.status).toBe('succeeded');
      expect(ok.body.auto_rescue.status).toBe('recovered');
      const pay2 = s.fake.requestsTo('POST', new RegExp(`^/v1/invoices/${inv.id}/pay$`));
      expect(pay2).toHaveLength(2);
      expect(pay2[1]!.headers['idempotency-key']).toBe(next.idempotency_key);
      expect(next.idempotency_key).not.toBe(planned.idempotency_key);

      // Stripe then reports the payment Rescue made: nothing more happens.
      const paid = invoiceObject({ id: inv.id, paid: true, status: 'paid' });
      expect((await connect(stripeEvent('invoice.paid', paid, { account }))).body.outcome).toBe('processed');
      expect((await attemptsOf(payment.id)).filter((a: any) => a.status === 'succeeded')).toHaveLength(1);
    });

    it('payment_method.automatically_updated moves the next retry sooner, on the new card, and says card_was_updated', async () => {
      const { inv } = failedInvoice();
      await connect(stripeEvent('invoice.payment_failed', inv, { account }));
      const payment = await paymentOf(api, inv.id);
      const before = (await attemptsOf(payment.id)).find((a: any) => a.status === 'planned');
      const pm = { ...fixture('events/payment_method.automatically_updated.json').data.object, id: payment.payment_method };
      expect((await connect(stripeEvent('payment_method.automatically_updated', pm, { account }))).body.outcome).toBe('processed');
      const after = (await attemptsOf(payment.id)).find((a: any) => a.status === 'planned');
      expect(after.id).toBe(before.id);
      expect(after.card_was_updated).toBe(true);
      expect(after.card_fingerprint).toBe('Xt5EWLLDS7FJjR1c');
      expect(after.card_last4).toBe('1881');
      expect(new Date(after.planned_at).getTime()).toBeLessThan(new Date(before.planned_at).getTime());
      await api.post(`/v2/payments/${payment.id}/retry_now`);
      const retry = (await api.get('/v2/events?type=payment.rescue_retry')).body.data.find((e: any) => e.data.payment === payment.id);
      expect(retry.data.card_was_updated).toBe(true);
    });
  });

  describe('payments charged through the stripe gateway (/v2/payments with a pm_ token)', () => {
    it('active: a one-off payment intent is confirmed off-session, a new one created for a bare token, each with its attempt key', async () => {
      const { api } = await connectedAccount(s, { mode: 'active' });
      const pi = { ...fixture('objects/payment_intent.json'), id: uid('pi'), status: 'requires_payment_method', last_payment_error: null };
      s.fake.paymentIntents.set(pi.id, pi);
      const pm = uid('pm');
      const one = await api.post('/v2/payments', { amount: 1099, currency: 'USD', payment_method: pm, off_session: true, metadata: { stripe_payment_intent: pi.id } });
      expect(one.body.status).toBe('succeeded');
      const confirm = s.fake.requestsTo('POST', new RegExp(`^/v1/payment_intents/${pi.id}/confirm$`));
      expect(confirm).toHaveLength(1);
      expect(confirm[0]!.body.get('off_session')).toBe('true');
      expect(confirm[0]!.body.get('payment_method')).toBe(pm);
      const [attempt] = await attemptsOf(one.body.id);
      expect(confirm[0]!.headers['idempotency-key']).toBe(attempt.idempotency_key);
      expect(attempt).toMatchObject({ gateway: 'stripe', transaction_id: pi.id });

      const declined = uid('pm');
      s.fake.declinePaymentMethods.set(declined, 'insufficient_funds');
      const two = await api.post('/v2/payments', { amount: 2000, currency: 'EUR', payment_method: declined, off_session: true, auto_rescue: { enabled: true } });
      expect(two.body).toMatchObject({ status: 'requires_rescue', failure_code: 'insufficient_funds' });
      const create = s.fake.requestsTo('POST', /^\/v1\/payment_intents$/).at(-1)!;
      expect(Object.fromEntries(create.body)).toMatchObject({ amount: '2000', currency: 'eur', payment_method: declined, off_session: 'true', confirm: 'true' });
      expect(create.headers['idempotency-key']).toBe((await attemptsOf(two.body.id))[0].idempotency_key);
    });

    it('observe: Rescue never charges — the payment waits, and no charge reaches Stripe', async () => {
      const { api } = await connectedAccount(s);
      const before = s.fake.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/')).length;
      const res = await api.post('/v2/payments', { amount: 1500, currency: 'USD', payment_method: uid('pm'), off_session: true });
      expect(res.body.status).toBe('processing');
      expect(s.fake.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/')).length).toBe(before);
    });
  });

  describe('the billing webhook (the merchant\'s own account)', () => {
    it('verifies with the secret the merchant saved, for the account in the URL', async () => {
      const { accountId, testKey } = await s.t.signup();
      const api = s.t.client(testKey);
      const secret = 'whsec_ownaccountsecret01';
      expect((await api.post('/v2/stripe/connection', { api_key: 'rk_test_ownaccount12345', webhook_secret: secret })).status).toBe(200);
      const { inv } = failedInvoice();
      const event = stripeEvent('invoice.payment_failed', inv);
      expect((await post(`/api/stripe/billing-webhook?account=${accountId}`, event, CONNECT_WEBHOOK_SECRET)).status).toBe(400);
      expect((await post(`/api/stripe/billing-webhook?account=acct_nobody`, event, secret)).status).toBe(400);
      expect((await post(`/api/stripe/billing-webhook`, event, secret)).status).toBe(400);
      expect(await post(`/api/stripe/billing-webhook?account=${accountId}`, event, secret)).toEqual({ status: 200, body: { received: true, outcome: 'processed' } });
      expect(s.fake.requestsTo('GET', /^\/v1\/payment_intents\//).at(-1)!.headers.authorization).toBe('Bearer rk_test_ownaccount12345');
      expect((await paymentOf(api, inv.id)).status).toBe('requires_rescue');
      expect((await post(`/api/stripe/billing-webhook?account=${accountId}`, event, secret)).body.outcome).toBe('duplicate');
    });
  });
});
