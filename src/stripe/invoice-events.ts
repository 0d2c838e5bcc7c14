import { sql, type Insertable, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import { newId } from '../ids.ts';
import { retryObservedInStripe } from '../engine/lifecycle.ts';
import { applyLifecycleIn } from '../store/lifecycle-writes.ts';
import { heldInvoice, holdInvoice } from '../store/stripe-handbacks.ts';
import type { Scope } from '../store/payments.ts';
import { insertPulse } from '../store/recoveries.ts';
import type { CustomerRow, Database } from '../store/schema.ts';
import { rescueClockFor, type StripeConnection } from '../store/stripe.ts';
import type { Db } from '../store/db.ts';
import { stripeClient } from './client.ts';
import { failureFacts, invoiceFacts, type FailureFacts, type InvoiceFacts } from './objects.ts';
import type { StripeEventDeps } from './events.ts';
import { openStripeRescue, recordFailedCharge, recoverStripeRescue } from './stripe-rescue.ts';

// Invoice events from Stripe: a failed invoice becomes a payment in rescue (or a Stripe retry of
// one); a paid invoice recovers it, or counts as organic revenue for Lift.

type Tx = Transaction<Database>;

/** A Stripe test clock and its time. */
export interface StripeClock {
  id: string;
  frozenTime: Date;
}

/** The invoice's Stripe test clock (`test_clock`), read for its time; null when it has none. */
export async function fetchStripeClock(d: StripeEventDeps, conn: StripeConnection, invoice: Stripe.Invoice): Promise<StripeClock | null> {
  const id = typeof invoice.test_clock === 'string' ? invoice.test_clock : (invoice.test_clock?.id ?? null);
  if (!id || !conn.secretKey || invoice.livemode) return null;
  const clock = await stripeClient(d.stripe, conn.secretKey).testHelpers.testClocks.retrieve(id);
  return { id, frozenTime: new Date(clock.frozen_time * 1000) };
}

/**
 * The decline behind a failed invoice: its payment intent (legacy `invoice.payment_intent`, else the
 * invoice's payments), with `last_payment_error` and the latest charge's card. Without a key to ask
 * Stripe with (a billing webhook before a key is pasted), Stripe's catch-all decline.
 */
export async function fetchFailure(d: StripeEventDeps, conn: StripeConnection, invoice: Stripe.Invoice): Promise<FailureFacts> {
  if (!conn.secretKey) return failureFacts(null, null);
  const stripe = stripeClient(d.stripe, conn.secretKey);
  let piId = invoiceFacts(invoice).paymentIntent;
  if (!piId) {
    const payments = await stripe.invoicePayments.list({ invoice: invoice.id!, limit: 10 });
    const latest = payments.data.filter((p) => p.payment?.type === 'payment_intent').sort((a, b) => b.created - a.created)[0];
    const pi = latest?.payment?.payment_intent;
    piId = typeof pi === 'string' ? pi : (pi?.id ?? null);
  }
  if (!piId) return failureFacts(null, null);
  const pi = await stripe.paymentIntents.retrieve(piId, { expand: ['latest_charge'] });
  return failureFacts(pi, null);
}

export async function ensureCustomer(tx: Tx, scope: Scope, stripeCustomerId: string | null, o: { email: string | null; name: string | null; at: Date }): Promise<CustomerRow | null> {
  if (!stripeCustomerId) return null;
  const mapped = await tx
    .selectFrom('stripe_customers as m')
    .innerJoin('customers as c', (j) => j.onRef('c.account_id', '=', 'm.account_id').onRef('c.id', '=', 'm.customer_id'))
    .selectAll('c')
    .where('m.account_id', '=', scope.accountId)
    .where('m.livemode', '=', scope.livemode)
    .where('m.stripe_customer_id', '=', stripeCustomerId)
    .executeTakeFirst();
  if (mapped) return mapped;
  const customer = await tx
    .insertInto('customers')
    .values({ id: newId('cus'), account_id: scope.accountId, livemode: scope.livemode, email: o.email, name: o.name, timezone: 'UTC', locale: null, metadata: JSON.stringify({ stripe_customer: stripeCustomerId }), test_clock: null, created_at: o.at })
    .returningAll()
    .executeTakeFirstOrThrow();
  await tx.insertInto('stripe_customers').values({ account_id: scope.accountId, livemode: scope.livemode, stripe_customer_id: stripeCustomerId, customer_id: customer.id }).execute();
  return customer;
}

async function upsertInvoice(tx: Tx, scope: Scope, inv: InvoiceFacts, at: Date, paymentId?: string): Promise<{ payment_id: string | null }> {
  const values = {
    stripe_customer_id: inv.customer,
    subscription_id: inv.subscription,
    status: inv.status,
    amount_due: inv.amountDue,
    amount_paid: inv.amountPaid,
    currency: inv.currency,
    attempt_count: inv.attemptCount,
    billing_reason: inv.billingReason,
    paid_at: inv.paidAt,
    updated_at: at,
  };
  const row = await tx
    .insertInto('stripe_invoices')
    .values({ account_id: scope.accountId, livemode: scope.livemode, invoice_id: inv.id, created_at: inv.created, payment_id: paymentId ?? null, ...values })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'invoice_id']).doUpdateSet(paymentId ? { ...values, payment_id: paymentId } : values))
    .returning('payment_id')
    .executeTakeFirstOrThrow();
  // Where dunning emails send the customer to pay (migration 0009; store/emails-queue.ts).
  if (inv.hostedInvoiceUrl) {
    await sql`update stripe_invoices set hosted_invoice_url = ${inv.hostedInvoiceUrl}
      where account_id = ${scope.accountId} and livemode = ${scope.livemode} and invoice_id = ${inv.id}`.execute(tx);
  }
  return row;
}

async function invoicePayment(tx: Tx, scope: Scope, invoiceId: string): Promise<string | null> {
  const row = await tx
    .selectFrom('stripe_invoices')
    .select('payment_id')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('invoice_id', '=', invoiceId)
    .executeTakeFirst();
  return row?.payment_id ?? null;
}

/**
 * An invoice's payment failed. The first failure becomes a Rescue payment whose first attempt (made
 * by Stripe) failed with the decline Stripe saw; the engine plans its rescue and writes
 * payment.rescue_started, exactly as for a hand-off. In observe mode nothing is planned to charge:
 * the rescue records what Rescue would do while Stripe's retries run, and each later failure Stripe
 * reports is recorded as an attempt (it counts for the card's network limits). In active mode later
 * failures are Rescue's own retries, already recorded by the gateway.
 */
export async function invoiceFailed(d: StripeEventDeps, tx: Tx, conn: StripeConnection, inv: InvoiceFacts, f: FailureFacts, now: Date, stripeClock: StripeClock | null = null): Promise<void> {
  const scope: Scope = { accountId: conn.accountId, livemode: conn.livemode };
  // Locked, so two failure events of one invoice processed at once make one payment.
  const prior = await tx
    .selectFrom('stripe_invoices')
    .select(['payment_id', 'status'])
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('invoice_id', '=', inv.id)
    .forUpdate()
    .executeTakeFirst();
  await recordFailedCharge(tx, scope, { customer: inv.customer, invoice: inv.id, amount: inv.amountDue, currency: inv.currency }, f, now);
  // Stripe does not promise order: a failure reported after the invoice was paid changes nothing.
  if (prior?.status === 'paid') return;
  await upsertInvoice(tx, scope, inv, now);
  const existing = prior?.payment_id ?? null;
  if (existing) {
    // Stripe's own retry unless Rescue holds the invoice (then the failure is Rescue's retry, recorded already).
    if (conn.mode === 'observe' || !(await heldInvoice(tx, scope, inv.id))) await recordStripeRetry(tx, scope, existing, f, now);
    return;
  }
  const customer = await ensureCustomer(tx, scope, inv.customer, { email: inv.customerEmail, name: inv.customerName, at: now });
  const metadata: Record<string, string> = { stripe_invoice: inv.id };
  if (inv.subscription) metadata.subscription_id = inv.subscription;
  if (inv.customer) metadata.stripe_customer = inv.customer;
  if (f.paymentIntent) metadata.stripe_payment_intent = f.paymentIntent;
  const amount = inv.amountRemaining > 0 ? inv.amountRemaining : inv.amountDue;
  const token = f.paymentMethod ?? inv.defaultPaymentMethod ?? `stripe_invoice:${inv.id}`;
  // On a Stripe test clock: the payment lives on the Rescue test clock tied to it, at the Stripe clock's time.
  const testClock = stripeClock && !scope.livemode ? await rescueClockFor(tx, scope, stripeClock, now) : null;
  const at = testClock ? stripeClock!.frozenTime : now;
  const paymentId = await openStripeRescue(d, tx, conn, { customer, amount, currency: inv.currency, metadata, token, failure: f, testClock }, at);
  await upsertInvoice(tx, scope, inv, now, paymentId);
  // Active mode: Rescue takes the invoice over (auto_advance false, asked after this transaction),
  // recorded first, so that letting go of it later knows what to give back.
  if (conn.mode === 'active' && (await rescueIsActive(tx, scope, paymentId))) {
    await holdInvoice(tx, scope, { invoiceId: inv.id, paymentId, autoAdvanceBefore: inv.autoAdvance, at: now });
  }
}

async function rescueIsActive(tx: Tx, scope: Scope, paymentId: string): Promise<boolean> {
  const r = await tx.selectFrom('rescues').select('status').where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).executeTakeFirst();
  return r?.status === 'active';
}

/** A failure Stripe's own retry reported (observe mode), recorded as an attempt of the rescue. */
export async function recordStripeRetry(tx: Tx, scope: Scope, paymentId: string, f: FailureFacts, now: Date): Promise<void> {
  const last = await tx.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).orderBy('number', 'desc').executeTakeFirstOrThrow();
  const rescue = await tx.selectFrom('rescues').select(['status', 'retries_made']).where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).forUpdate().executeTakeFirst();
  const failure = { declineCode: f.declineCode, adviceCode: f.networkAdviceCode, message: f.message, transactionId: f.charge, card: f.card };
  await applyLifecycleIn(tx, retryObservedInStripe({ last, rescue: rescue ?? null }, failure, now));
}

/**
 * An invoice was paid. In rescue: recovered, whoever retried it (Stripe's retry, the customer on the
 * hosted page, or Rescue) — a planned retry becomes the success, or a new attempt records it, and
 * the engine writes payment.rescue_succeeded and its siblings. Never in rescue: an organic success,
 * a pulse for Lift (idempotent on the invoice id).
 */
export async function invoicePaid(d: StripeEventDeps, tx: Tx, scope: Scope, inv: InvoiceFacts, now: Date): Promise<void> {
  const paymentId = await invoicePayment(tx, scope, inv.id);
  await upsertInvoice(tx, scope, inv, now);
  if (!paymentId) {
    if (inv.amountPaid > 0) await insertPulse(tx as unknown as Db, scope, { transactionId: inv.id, amount: inv.amountPaid, currency: inv.currency, at: now });
    return;
  }
  await recoverStripeRescue(d, tx, scope, paymentId, inv.id, now);
}
