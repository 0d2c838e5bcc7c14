import { sql, type Insertable, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import { resolveRescuePolicy } from '../domain/auto-rescue-policy.ts';
import { consequencesOfCharge } from '../engine/outcome.ts';
import { firstAttemptRow } from '../engine/first-attempt.ts';
import { newId } from '../ids.ts';
import { applyBatchIn } from '../store/batch-writes.ts';
import type { Scope } from '../store/payments.ts';
import { insertPulse } from '../store/recoveries.ts';
import type { AttemptRow, CustomerRow, Database } from '../store/schema.ts';
import { getSettings } from '../store/settings.ts';
import type { StripeConnection } from '../store/stripe.ts';
import type { Db } from '../store/db.ts';
import { stripeClient } from './client.ts';
import { cardFingerprint, failureFacts, invoiceFacts, STRIPE_GATEWAY, type FailureFacts, type InvoiceFacts } from './objects.ts';
import type { StripeEventDeps } from './events.ts';

// Invoice events from Stripe: a failed invoice becomes a payment in rescue (or a Stripe retry of
// one); a paid invoice recovers it, or counts as organic revenue for Lift.

type Tx = Transaction<Database>;

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
export async function invoiceFailed(d: StripeEventDeps, tx: Tx, conn: StripeConnection, inv: InvoiceFacts, f: FailureFacts, now: Date): Promise<void> {
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
  await recordCharge(tx, scope, inv, f, now);
  // Stripe does not promise order: a failure reported after the invoice was paid changes nothing.
  if (prior?.status === 'paid') return;
  await upsertInvoice(tx, scope, inv, now);
  const existing = prior?.payment_id ?? null;
  if (existing) {
    if (conn.mode === 'observe') await recordStripeRetry(tx, scope, existing, f, now);
    return;
  }
  const customer = await ensureCustomer(tx, scope, inv.customer, { email: inv.customerEmail, name: inv.customerName, at: now });
  const settings = await getSettings(tx as unknown as Db, scope.accountId, scope.livemode);
  const metadata: Record<string, string> = { stripe_invoice: inv.id };
  if (inv.subscription) metadata.subscription_id = inv.subscription;
  if (inv.customer) metadata.stripe_customer = inv.customer;
  if (f.paymentIntent) metadata.stripe_payment_intent = f.paymentIntent;
  const amount = inv.amountRemaining > 0 ? inv.amountRemaining : inv.amountDue;
  // Invoices Stripe could not collect are handed over: Auto Rescue applies with the account's defaults.
  const policy = resolveRescuePolicy({ enabled: true }, { amount, offSession: true, metadata }, settings.autoRescue)!;
  const token = f.paymentMethod ?? inv.defaultPaymentMethod ?? `stripe_invoice:${inv.id}`;
  const paymentId = newId('pay');
  await tx
    .insertInto('payments')
    .values({
      id: paymentId,
      account_id: scope.accountId,
      livemode: scope.livemode,
      customer_id: customer?.id ?? null,
      payment_method: token,
      amount,
      currency: inv.currency,
      off_session: true,
      status: 'processing',
      failure_code: null,
      failure_message: null,
      metadata: JSON.stringify(metadata),
      test_clock: null,
      idempotency_key: null,
      rescue_policy: JSON.stringify(policy),
      created_at: now,
      updated_at: now,
    })
    .execute();
  const attempt = (await tx
    .insertInto('attempts')
    .values(
      firstAttemptRow({
        id: newId('att'),
        scope,
        paymentId,
        at: now,
        claimedBy: d.workerId,
        leaseUntil: new Date(d.clock.now().getTime() + d.leaseMs),
        card: { fingerprint: cardFingerprint(f.card, token), brand: f.card?.brand ?? 'unknown', last4: f.card?.last4 ?? null },
        gateway: STRIPE_GATEWAY,
        testClock: null,
        paymentMethodType: f.card?.paymentMethodType ?? 'card',
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow()) as AttemptRow;
  await upsertInvoice(tx, scope, inv, now, paymentId);
  const payment = await tx.selectFrom('payments').selectAll().where('account_id', '=', scope.accountId).where('id', '=', paymentId).executeTakeFirstOrThrow();
  const consequences = consequencesOfCharge({
    attempt,
    ctx: { payment, rescue: null, customer, recovery: null, methods: [] },
    at: now,
    result: { status: 'failed', declineCode: f.declineCode, message: f.message, adviceCode: f.networkAdviceCode },
    paymentMethod: token,
    accountUpdaterChecked: false,
    cardWasUpdated: false,
  });
  // Observe mode: Rescue never charges, so nothing is planned for a worker to pick up.
  if (conn.mode === 'observe') consequences.nextAttempt = null;
  await applyBatchIn(tx, [consequences]);
}

/** A failure Stripe's own retry reported (observe mode), recorded as an attempt of the rescue. */
async function recordStripeRetry(tx: Tx, scope: Scope, paymentId: string, f: FailureFacts, now: Date): Promise<void> {
  const last = await tx.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).orderBy('number', 'desc').executeTakeFirstOrThrow();
  const rescue = await tx.selectFrom('rescues').select(['status']).where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).executeTakeFirst();
  const id = newId('att');
  await tx
    .insertInto('attempts')
    .values({
      ...last,
      id,
      number: last.number + 1,
      status: 'failed',
      planned_at: now,
      claimed_by: null,
      lease_expires_at: null,
      attempted_at: now,
      idempotency_key: `stripe_${id}`,
      decline_code: f.declineCode,
      decline_category: null,
      advice_code: f.networkAdviceCode,
      failure_message: f.message || null,
      transaction_id: f.charge,
      card_fingerprint: f.card?.fingerprint ?? last.card_fingerprint,
      card_brand: f.card?.brand ?? last.card_brand,
      card_last4: f.card?.last4 ?? last.card_last4,
      account_updater_checked: false,
      card_was_updated: false,
      gateway_errors: 0,
      announced_at: null,
      predicted_p: null,
    })
    .execute();
  if (rescue?.status === 'active') {
    await tx.updateTable('rescues').set((eb) => ({ retries_made: eb('retries_made', '+', 1) })).where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).execute();
  }
  await tx.updateTable('payments').set({ failure_code: f.declineCode, updated_at: now }).where('account_id', '=', scope.accountId).where('id', '=', paymentId).execute();
}

async function recordCharge(tx: Tx, scope: Scope, inv: InvoiceFacts, f: FailureFacts, at: Date): Promise<void> {
  if (!f.charge) return;
  const values = {
    stripe_customer_id: inv.customer,
    invoice_id: inv.id,
    payment_intent_id: f.paymentIntent,
    amount: inv.amountDue,
    currency: inv.currency,
    status: 'failed',
    failure_code: f.declineCode,
    decline_code: f.declineCode,
    advice_code: f.networkAdviceCode ?? f.adviceCode,
    card_brand: f.card?.brand ?? null,
    card_country: f.card?.country ?? null,
    card_funding: f.card?.funding ?? null,
    card_wallet: f.card?.wallet ?? null,
    card_fingerprint: f.card?.fingerprint ?? null,
  };
  await tx
    .insertInto('stripe_charges')
    .values({ account_id: scope.accountId, livemode: scope.livemode, charge_id: f.charge, created_at: at, ...values })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'charge_id']).doUpdateSet(values))
    .execute();
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
  const payment = await tx.selectFrom('payments').selectAll().where('account_id', '=', scope.accountId).where('id', '=', paymentId).forUpdate().executeTakeFirstOrThrow();
  // Already succeeded (Rescue's own retry), or a retry is with the gateway right now (its answer decides).
  if (payment.status !== 'requires_rescue') return;
  const rescue = await tx.selectFrom('rescues').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).executeTakeFirst();
  if (!rescue || rescue.status !== 'active') return;
  const lease = new Date(d.clock.now().getTime() + d.leaseMs);
  let attempt = (await tx
    .updateTable('attempts')
    .set({ status: 'processing', claimed_by: d.workerId, lease_expires_at: lease })
    .where('account_id', '=', scope.accountId)
    .where('payment_id', '=', paymentId)
    .where('status', '=', 'planned')
    .returningAll()
    .executeTakeFirst()) as AttemptRow | undefined;
  if (!attempt) {
    const last = await tx.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).orderBy('number', 'desc').executeTakeFirstOrThrow();
    const id = newId('att');
    attempt = (await tx
      .insertInto('attempts')
      .values({
        ...last,
        id,
        number: last.number + 1,
        status: 'processing',
        planned_at: now,
        claimed_by: d.workerId,
        lease_expires_at: lease,
        attempted_at: null,
        idempotency_key: `stripe_${id}`,
        decline_code: null,
        decline_category: null,
        advice_code: null,
        failure_message: null,
        transaction_id: null,
        account_updater_checked: false,
        card_was_updated: false,
        gateway_errors: 0,
        announced_at: null,
        predicted_p: null,
      } as Insertable<Database['attempts']>)
      .returningAll()
      .executeTakeFirstOrThrow()) as AttemptRow;
  }
  const customer = payment.customer_id ? ((await tx.selectFrom('customers').selectAll().where('account_id', '=', scope.accountId).where('id', '=', payment.customer_id).executeTakeFirst()) ?? null) : null;
  const consequences = consequencesOfCharge({
    attempt,
    ctx: { payment, rescue, customer, recovery: null, methods: [] },
    at: now,
    result: { status: 'succeeded', transactionId: inv.id },
    paymentMethod: payment.payment_method,
    accountUpdaterChecked: false,
    cardWasUpdated: attempt.card_was_updated,
  });
  await applyBatchIn(tx, [consequences]);
}
