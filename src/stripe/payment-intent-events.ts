import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Scope } from '../store/payments.ts';
import type { Database } from '../store/schema.ts';
import type { StripeConnection } from '../store/stripe.ts';
import { StripeReconnectNeeded, withConnection } from './connected-stripe.ts';
import type { StripeEventDeps } from './events.ts';
import { ensureCustomer, recordStripeRetry } from './invoice-events.ts';
import { failureFacts, toDate, type FailureFacts } from './objects.ts';
import { openStripeRescue, recordFailedCharge, recoverStripeRescue } from './stripe-rescue.ts';

// One-off payment intents (a charge that is not an invoice's): a failed one becomes a payment in
// rescue exactly like a failed invoice; a succeeded one recovers it. A payment intent that belongs to
// an invoice is skipped — invoice.payment_failed covers it, and one failure is never two payments,
// whichever of the two events arrives first.

type Tx = Transaction<Database>;

/** What a failed payment intent is, decided before the event's transaction (it asks Stripe). */
export type FailedPaymentIntent = { kind: 'one_off'; failure: FailureFacts; email: string | null; name: string | null } | { kind: 'skip'; why: string };

const idOf = (v: unknown): string | null => (typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v && typeof v.id === 'string' ? v.id : null);

/**
 * Whether the payment intent is a one-off (and its decline, card and charge, read through the SDK) or
 * an invoice's. The link to an invoice is the legacy `invoice` field on API versions before
 * 2025-03-31, else an InvoicePayment naming the payment intent (`invoicePayments.list` by payment).
 * Without a working key Rescue cannot tell, so it skips: a missed one-off is better than a double.
 */
export async function examineFailedPaymentIntent(d: StripeEventDeps, conn: StripeConnection, pi: Stripe.PaymentIntent, at: Date): Promise<FailedPaymentIntent> {
  if (idOf((pi as unknown as { invoice?: unknown }).invoice)) return { kind: 'skip', why: 'belongs to an invoice' };
  // Retrying off-session needs a customer the payment method is saved to.
  if (!idOf(pi.customer)) return { kind: 'skip', why: 'no customer to charge off-session' };
  if (pi.status === 'succeeded' || pi.status === 'canceled') return { kind: 'skip', why: `payment intent is ${pi.status}` };
  try {
    return await withConnection(d, conn, at, async (_c, stripe) => {
      const invoices = await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: pi.id }, limit: 1 });
      if (invoices.data.length > 0) return { kind: 'skip', why: 'belongs to an invoice' } as const;
      const full = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
      const charge = typeof full.latest_charge === 'object' ? full.latest_charge : null;
      return { kind: 'one_off', failure: failureFacts(full, null), email: charge?.billing_details?.email ?? full.receipt_email ?? null, name: charge?.billing_details?.name ?? null } as const;
    });
  } catch (err) {
    if (err instanceof StripeReconnectNeeded) return { kind: 'skip', why: 'Stripe needs reconnecting: cannot tell whether it belongs to an invoice' };
    throw err;
  }
}

/**
 * A one-off payment intent failed. The first failure opens its rescue; a later one is Stripe's (or the
 * customer's) retry in observe mode, recorded as an attempt, and Rescue's own retry in active mode,
 * already recorded. Locked on the payment intent's row, so two deliveries at once make one payment.
 */
export async function paymentIntentFailed(d: StripeEventDeps, tx: Tx, conn: StripeConnection, pi: Stripe.PaymentIntent, found: Extract<FailedPaymentIntent, { kind: 'one_off' }>, now: Date): Promise<void> {
  const scope: Scope = { accountId: conn.accountId, livemode: conn.livemode };
  const customer = idOf(pi.customer);
  const currency = pi.currency.toUpperCase();
  const row = await lockPaymentIntent(tx, scope, pi, now);
  await recordFailedCharge(tx, scope, { customer, invoice: null, amount: pi.amount, currency }, found.failure, now);
  // Stripe does not promise order: a failure reported after the payment succeeded changes nothing.
  if (row.status === 'succeeded') return;
  await setPaymentIntent(tx, scope, pi.id, { status: pi.status, updated_at: now });
  if (row.payment_id) {
    if (conn.mode === 'observe') await recordStripeRetry(tx, scope, row.payment_id, found.failure, now);
    return;
  }
  const metadata: Record<string, string> = { stripe_payment_intent: pi.id };
  if (customer) metadata.stripe_customer = customer;
  const rescued = await ensureCustomer(tx, scope, customer, { email: found.email, name: found.name, at: now });
  const token = found.failure.paymentMethod ?? `stripe_payment_intent:${pi.id}`;
  const paymentId = await openStripeRescue(d, tx, conn, { customer: rescued, amount: pi.amount, currency, metadata, token, failure: found.failure }, now);
  await setPaymentIntent(tx, scope, pi.id, { payment_id: paymentId });
}

/** A one-off payment intent succeeded: its rescue, if it has one, is recovered. Others are not Rescue's. */
export async function paymentIntentSucceeded(d: StripeEventDeps, tx: Tx, scope: Scope, pi: Stripe.PaymentIntent, now: Date): Promise<'processed' | 'ignored'> {
  const row = await tx
    .selectFrom('stripe_payment_intents')
    .select(['payment_id'])
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('payment_intent_id', '=', pi.id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) return 'ignored';
  await setPaymentIntent(tx, scope, pi.id, { status: 'succeeded', updated_at: now });
  if (row.payment_id) await recoverStripeRescue(d, tx, scope, row.payment_id, pi.id, now);
  return 'processed';
}

async function lockPaymentIntent(tx: Tx, scope: Scope, pi: Stripe.PaymentIntent, now: Date) {
  // Insert first: a concurrent delivery waits on this row instead of making a second payment.
  await tx
    .insertInto('stripe_payment_intents')
    .values({ account_id: scope.accountId, livemode: scope.livemode, payment_intent_id: pi.id, stripe_customer_id: idOf(pi.customer), payment_id: null, status: pi.status, amount: pi.amount, currency: pi.currency.toUpperCase(), created_at: toDate(pi.created) ?? now, updated_at: now })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'payment_intent_id']).doNothing())
    .execute();
  return tx
    .selectFrom('stripe_payment_intents')
    .select(['payment_id', 'status'])
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('payment_intent_id', '=', pi.id)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

async function setPaymentIntent(tx: Tx, scope: Scope, id: string, set: { status?: string; updated_at?: Date; payment_id?: string }): Promise<void> {
  await tx.updateTable('stripe_payment_intents').set(set).where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('payment_intent_id', '=', id).execute();
}
