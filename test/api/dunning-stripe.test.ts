import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declinedPaymentIntent, invoiceObject, signedHeaders, stripeEvent } from '../support/fake-stripe.ts';
import { widgetToken } from '../../src/domain/widget-token.ts';
import { eventually } from '../support/harness.ts';
import { CONNECT_WEBHOOK_SECRET, connectedAccount, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';

// A Stripe invoice in observe mode: Rescue cannot set up a card with a read-only connection, so the
// dunning email links to Stripe's own hosted invoice page, stored from the invoice webhook.

let s: StripeRescue;
beforeAll(async () => {
  s = await startStripeRescue();
});
afterAll(() => s.close());

describe('dunning for Stripe invoices', () => {
  it("links to the invoice's hosted_invoice_url instead of Rescue's page", async () => {
    const { api, stripeAccount } = await connectedAccount(s);
    const inv = invoiceObject({ id: 'in_dunning_1', customer: 'cus_dunning_1', subscription: 'sub_dunning_1', amount: 1999 });
    inv.customer_email = 'payer@example.com';
    inv.hosted_invoice_url = 'https://invoice.stripe.com/i/acct_test/test_dunning_1';
    const { pi, charge } = declinedPaymentIntent({ id: 'pi_dunning_1', charge: 'ch_dunning_1', decline: 'insufficient_funds', fingerprint: 'fp_dunning_1' });
    s.fake.invoices.push(inv);
    s.fake.paymentIntents.set(pi.id, pi);
    s.fake.charges.push(charge);
    s.fake.invoicePayments.set(inv.id, [pi.id]);
    const payload = JSON.stringify(stripeEvent('invoice.payment_failed', inv, { account: stripeAccount }));
    const res = await fetch(`${s.t.url}/api/stripe/webhook`, { method: 'POST', headers: signedHeaders(payload, CONNECT_WEBHOOK_SECRET), body: payload });
    expect(res.status).toBe(200);
    const email = await eventually(async () => {
      const e = (await api.get('/v2/emails')).body.data[0];
      return e?.status === 'sent' ? e : undefined;
    });
    expect(email).toMatchObject({ kind: 'payment_failed', to: 'payer@example.com' });
    expect(email.text).toContain('Pay with another card:\nhttps://invoice.stripe.com/i/acct_test/test_dunning_1');
    expect(email.text).not.toContain('/update-payment/');
    expect(email.text).not.toContain('This link works until');

    // The portal widget offers the same page for this customer's open invoice.
    const secret = (await api.post('/v2/settings/widget/rotate_secret')).body.secret;
    const token = widgetToken({ secret, customer: email.customer, expiresAt: new Date(Date.now() + 600_000) });
    const widget = await fetch(`${s.t.url}/api/widget/insights?token=${token}`, { headers: { accept: 'application/json' } });
    const body = (await widget.json()) as { data: unknown[] };
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ amount: 1999, update_payment_url: 'https://invoice.stripe.com/i/acct_test/test_dunning_1' });
  });
});
