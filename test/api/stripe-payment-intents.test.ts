import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { declinedPaymentIntent, invoiceObject, stripeEvent } from '../support/fake-stripe.ts';
import type { Client } from '../support/harness.ts';
import { connectedAccount, sendEvent, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';

// payment_intent.payment_failed for one-off charges: a payment in rescue like a failed invoice, the
// decline and card read through the SDK; payment intents of invoices never make a second payment,
// whichever event arrives first; payment_intent.succeeded recovers; active mode retries with
// PaymentIntent confirm off-session under the attempt's idempotency key.

describe.each(ENGINES)('one-off payment intents (%s)', (engine) => {
  let s: StripeRescue;
  beforeAll(async () => {
    s = await startStripeRescue({ engine, worker: false });
  });
  afterAll(() => s.close());

  let n = 0;
  const uid = (p: string) => `${p}_${Date.now().toString(36)}${(++n).toString(36)}`;
  const db = () => s.t.rescue.db;

  /** A declined one-off payment intent the fake Stripe knows, with its own payment method and charge. */
  function failedPaymentIntent(o: { decline?: string; networkAdviceCode?: string | null; brand?: string; country?: string; funding?: string; wallet?: string | null; amount?: number } = {}) {
    const { pi, charge } = declinedPaymentIntent({ id: uid('pi'), charge: uid('ch'), decline: o.decline ?? 'insufficient_funds', networkAdviceCode: o.networkAdviceCode, brand: o.brand, country: o.country, funding: o.funding, wallet: o.wallet, fingerprint: uid('fp') });
    pi.last_payment_error.payment_method.id = uid('pm');
    pi.customer = uid('cus');
    pi.amount = o.amount ?? 4200;
    charge.billing_details = { ...charge.billing_details, email: 'ada@example.com', name: 'Ada Lovelace' };
    s.fake.paymentIntents.set(pi.id, pi);
    s.fake.charges.push(charge);
    return { pi, charge };
  }
  /** The event's copy: as Stripe sends it, latest_charge an id. */
  const failedEvent = (pi: any, account: string) => stripeEvent('payment_intent.payment_failed', structuredClone(pi), { account });
  const paymentsOf = async (api: Client, piId: string) => (await api.get('/v2/payments?limit=100')).body.data.filter((p: any) => p.metadata.stripe_payment_intent === piId);
  const attemptsOf = async (paymentId: string) => (await sql<any>`select * from attempts where payment_id = ${paymentId} order by number`.execute(db())).rows;

  describe('observe mode', () => {
    let api: Client;
    let account: string;
    beforeAll(async () => {
      ({ api, stripeAccount: account } = await connectedAccount(s));
    });

    it('a failed one-off becomes a payment in rescue with the decline and card from Stripe; processed once; a bad signature stores nothing', async () => {
      const { pi, charge } = failedPaymentIntent({ brand: 'mastercard', country: 'GB', funding: 'debit', wallet: 'google_pay', amount: 4200 });
      const event = failedEvent(pi, account);
      expect((await sendEvent(s, event, { secret: 'whsec_wrongsecret000000' })).status).toBe(400);
      expect((await sendEvent(s, event, { tamper: (p) => p.replace('"amount": 4200', '"amount": 1') })).status).toBe(400);
      expect(await paymentsOf(api, pi.id)).toEqual([]);

      expect(await sendEvent(s, event)).toEqual({ status: 200, body: { received: true, outcome: 'processed' } });
      // Asked through the SDK: is it an invoice's? then the payment intent with its charge.
      const check = s.fake.requestsTo('GET', /^\/v1\/invoice_payments$/).at(-1)!;
      expect(Object.fromEntries(check.query)).toMatchObject({ 'payment[type]': 'payment_intent', 'payment[payment_intent]': pi.id });
      expect(s.fake.requestsTo('GET', new RegExp(`^/v1/payment_intents/${pi.id}$`)).at(-1)!.headers.authorization).toBe(`Bearer sk_test_access${account}`);

      const [payment] = await paymentsOf(api, pi.id);
      expect(payment).toMatchObject({ amount: 4200, currency: 'USD', status: 'requires_rescue', failure_code: 'insufficient_funds', payment_method: pi.last_payment_error.payment_method.id });
      expect(payment.metadata).toEqual({ stripe_payment_intent: pi.id, stripe_customer: pi.customer });
      expect(payment.auto_rescue.status).toBe('active');
      const attempts = await attemptsOf(payment.id);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({ status: 'failed', decline_code: 'insufficient_funds', card_brand: 'mastercard', payment_method_type: 'google_pay', gateway: 'stripe' });
      const ch = (await sql<any>`select * from stripe_charges where charge_id = ${charge.id}`.execute(db())).rows[0];
      expect(ch).toMatchObject({ invoice_id: null, payment_intent_id: pi.id, card_brand: 'mastercard', card_country: 'GB', card_funding: 'debit', card_wallet: 'google_pay' });
      expect((await api.get(`/v2/customers/${payment.customer}`)).body).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace' });

      expect((await sendEvent(s, event)).body.outcome).toBe('duplicate');
      expect(await paymentsOf(api, pi.id)).toHaveLength(1);
    });

    it('the advice code in last_payment_error blocks at once (Mastercard 03)', async () => {
      const { pi } = failedPaymentIntent({ brand: 'mastercard', decline: 'do_not_honor', networkAdviceCode: '03' });
      await sendEvent(s, failedEvent(pi, account));
      const [payment] = await paymentsOf(api, pi.id);
      expect(payment.status).toBe('failed');
      expect((await attemptsOf(payment.id))[0]).toMatchObject({ decline_code: 'do_not_honor', advice_code: '03' });
    });

    it("Stripe's later failure is recorded; payment_intent.succeeded recovers the rescue once", async () => {
      const { pi } = failedPaymentIntent();
      await sendEvent(s, failedEvent(pi, account));
      await sendEvent(s, failedEvent(pi, account));
      const [payment] = await paymentsOf(api, pi.id);
      expect((await attemptsOf(payment.id)).map((a: any) => a.status)).toEqual(['failed', 'failed']);
      const succeeded = stripeEvent('payment_intent.succeeded', { ...structuredClone(pi), status: 'succeeded', last_payment_error: null, amount_received: pi.amount }, { account });
      expect((await sendEvent(s, succeeded)).body.outcome).toBe('processed');
      expect((await sendEvent(s, succeeded)).body.outcome).toBe('duplicate');
      const after = (await api.get(`/v2/payments/${payment.id}`)).body;
      expect(after).toMatchObject({ status: 'succeeded', auto_rescue: { status: 'recovered' } });
      expect((await attemptsOf(payment.id)).map((a: any) => a.status)).toEqual(['failed', 'failed', 'succeeded']);
      // A failure delivered after the success changes nothing.
      await sendEvent(s, failedEvent(pi, account));
      expect((await attemptsOf(payment.id)).map((a: any) => a.status)).toEqual(['failed', 'failed', 'succeeded']);
    });

    it('payment_intent.succeeded for a payment intent never in rescue is not Rescue\'s', async () => {
      const pi = { ...failedPaymentIntent().pi, status: 'succeeded', last_payment_error: null };
      expect((await sendEvent(s, stripeEvent('payment_intent.succeeded', pi, { account }))).body.outcome).toBe('ignored');
    });

    it('a payment intent without a customer cannot be retried off-session: ignored', async () => {
      const { pi } = failedPaymentIntent();
      pi.customer = null;
      expect((await sendEvent(s, failedEvent(pi, account))).body.outcome).toBe('ignored');
      expect(await paymentsOf(api, pi.id)).toEqual([]);
    });
  });

  describe("an invoice's payment intent: one failure, one payment, whichever event comes first", () => {
    let api: Client;
    let account: string;
    beforeAll(async () => {
      ({ api, stripeAccount: account } = await connectedAccount(s));
    });

    function invoiceWithPaymentIntent() {
      const { pi, charge } = failedPaymentIntent({ amount: 1000 });
      const inv = invoiceObject({ id: uid('in'), subscription: uid('sub'), customer: pi.customer });
      s.fake.invoices.push(inv);
      s.fake.invoicePayments.set(inv.id, [pi.id]);
      return { inv, pi, charge };
    }
    const invoicePayments = async (invId: string) => (await api.get('/v2/payments?limit=100')).body.data.filter((p: any) => p.metadata.stripe_invoice === invId);

    it('invoice.payment_failed first, then payment_intent.payment_failed', async () => {
      const { inv, pi } = invoiceWithPaymentIntent();
      expect((await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account }))).body.outcome).toBe('processed');
      expect((await sendEvent(s, failedEvent(pi, account))).body.outcome).toBe('ignored');
      const payments = await paymentsOf(api, pi.id);
      expect(payments).toHaveLength(1);
      expect(payments[0].metadata.stripe_invoice).toBe(inv.id);
    });

    it('payment_intent.payment_failed first, then invoice.payment_failed', async () => {
      const { inv, pi } = invoiceWithPaymentIntent();
      expect((await sendEvent(s, failedEvent(pi, account))).body.outcome).toBe('ignored');
      expect(await paymentsOf(api, pi.id)).toEqual([]);
      expect((await sendEvent(s, stripeEvent('invoice.payment_failed', inv, { account }))).body.outcome).toBe('processed');
      const payments = await paymentsOf(api, pi.id);
      expect(payments).toHaveLength(1);
      expect(payments[0].metadata.stripe_invoice).toBe(inv.id);
      expect(await invoicePayments(inv.id)).toHaveLength(1);
      // Its success is the invoice's to report: payment_intent.succeeded leaves the rescue to invoice.paid.
      expect((await sendEvent(s, stripeEvent('payment_intent.succeeded', { ...structuredClone(pi), status: 'succeeded' }, { account }))).body.outcome).toBe('ignored');
      expect((await api.get(`/v2/payments/${payments[0].id}`)).body.status).toBe('requires_rescue');
    });

    it('a payment intent on an API version with the legacy `invoice` field is skipped without asking Stripe', async () => {
      const { pi } = failedPaymentIntent();
      const before = s.fake.requestsTo('GET', /^\/v1\/invoice_payments$/).length;
      expect((await sendEvent(s, stripeEvent('payment_intent.payment_failed', { ...structuredClone(pi), invoice: uid('in') }, { account }))).body.outcome).toBe('ignored');
      expect(s.fake.requestsTo('GET', /^\/v1\/invoice_payments$/)).toHaveLength(before);
      expect(await paymentsOf(api, pi.id)).toEqual([]);
    });
  });

  describe('active mode', () => {
    it('retries with PaymentIntent confirm off-session under the attempt idempotency key; a decline stays in rescue, a success recovers', async () => {
      const { api, stripeAccount: account } = await connectedAccount(s, { mode: 'active' });
      const { pi } = failedPaymentIntent();
      const pm = pi.last_payment_error.payment_method.id;
      await sendEvent(s, failedEvent(pi, account));
      const [payment] = await paymentsOf(api, pi.id);
      const planned = (await attemptsOf(payment.id)).find((a: any) => a.status === 'planned');
      expect(planned).toBeDefined();

      s.fake.declinePaymentMethods.set(pm, 'insufficient_funds');
      expect((await api.post(`/v2/payments/${payment.id}/retry_now`)).body.status).toBe('requires_rescue');
      const first = s.fake.requestsTo('POST', new RegExp(`^/v1/payment_intents/${pi.id}/confirm$`));
      expect(first).toHaveLength(1);
      expect(first[0]!.headers['idempotency-key']).toBe(planned.idempotency_key);
      expect(Object.fromEntries(first[0]!.body)).toMatchObject({ off_session: 'true', payment_method: pm });
      expect(first[0]!.headers.authorization).toBe(`Bearer sk_test_access${account}`);
      // Rescue's own failed retry comes back as an event: already recorded, not counted twice.
      await sendEvent(s, failedEvent(pi, account));
      expect((await attemptsOf(payment.id)).filter((a: any) => a.status === 'failed')).toHaveLength(2);

      s.fake.declinePaymentMethods.delete(pm);
      const next = (await attemptsOf(payment.id)).find((a: any) => a.status === 'planned');
      const ok = await api.post(`/v2/payments/${payment.id}/retry_now`);
      expect(ok.body).toMatchObject({ status: 'succeeded', auto_rescue: { status: 'recovered' } });
      const second = s.fake.requestsTo('POST', new RegExp(`^/v1/payment_intents/${pi.id}/confirm$`));
      expect(second).toHaveLength(2);
      expect(second[1]!.headers['idempotency-key']).toBe(next.idempotency_key);
      // Stripe then reports the success Rescue made: nothing more happens.
      expect((await sendEvent(s, stripeEvent('payment_intent.succeeded', { ...structuredClone(pi), status: 'succeeded' }, { account }))).body.outcome).toBe('processed');
      expect((await attemptsOf(payment.id)).filter((a: any) => a.status === 'succeeded')).toHaveLength(1);
    });

    it('a payment intent the customer paid meanwhile is a success, not a failure', async () => {
      const { api, stripeAccount: account } = await connectedAccount(s, { mode: 'active' });
      const { pi } = failedPaymentIntent();
      await sendEvent(s, failedEvent(pi, account));
      const [payment] = await paymentsOf(api, pi.id);
      s.fake.paymentIntents.get(pi.id).status = 'succeeded';
      const res = await api.post(`/v2/payments/${payment.id}/retry_now`);
      expect(res.body).toMatchObject({ status: 'succeeded', auto_rescue: { status: 'recovered' } });
    });
  });
});
