import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import { cardUpdatedInStripe } from '../engine/lifecycle.ts';
import { applyLifecycleIn } from '../store/lifecycle-writes.ts';
import type { Scope } from '../store/payments.ts';
import type { Database, PlannedRetry } from '../store/schema.ts';
import { cardFacts, toDate } from './objects.ts';
import { cancelStripeRescues } from './stripe-rescue.ts';

// Customer-level events from Stripe: a cancelled subscription (churn; its rescues end), a card the
// network updated (retry sooner), a changed email or name.

type Tx = Transaction<Database>;

/**
 * The subscription ended: the customer churned (the label churn prediction learns from), and every
 * rescue still open for the subscription's invoices ends as cancelled, with payment.rescue_cancelled.
 */
export async function subscriptionDeleted(tx: Tx, scope: Scope, sub: Stripe.Subscription, now: Date): Promise<void> {
  const churnedAt = toDate(sub.ended_at) ?? toDate(sub.canceled_at) ?? now;
  const values = {
    stripe_customer_id: typeof sub.customer === 'string' ? sub.customer : sub.customer.id,
    status: sub.status,
    canceled_at: toDate(sub.canceled_at),
    ended_at: toDate(sub.ended_at),
    cancellation_reason: sub.cancellation_details?.reason ?? null,
    churned_at: churnedAt,
    updated_at: now,
  };
  await tx
    .insertInto('stripe_subscriptions')
    .values({ account_id: scope.accountId, livemode: scope.livemode, subscription_id: sub.id, created_at: toDate(sub.created)!, ...values })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'subscription_id']).doUpdateSet(values))
    .execute();
  const open = await tx
    .selectFrom('stripe_invoices as i')
    .innerJoin('payments as p', (j) => j.onRef('p.account_id', '=', 'i.account_id').onRef('p.id', '=', 'i.payment_id'))
    .innerJoin('rescues as r', (j) => j.onRef('r.account_id', '=', 'p.account_id').onRef('r.payment_id', '=', 'p.id'))
    .select(['p.id', 'p.customer_id', 'p.amount', 'p.currency'])
    .where('i.account_id', '=', scope.accountId)
    .where('i.livemode', '=', scope.livemode)
    .where('i.subscription_id', '=', sub.id)
    .where('r.status', '=', 'active')
    .where('p.status', '=', 'requires_rescue')
    .execute();
  await cancelStripeRescues(tx, scope, open, { reason: 'subscription_deleted', message: 'subscription cancelled in Stripe' }, now);
}

/**
 * The card behind a payment method was replaced (Stripe's card updater, or the customer). Recorded
 * as a signal, and every open rescue on that payment method retries sooner: its next planned retry
 * moves to the earliest allowed moment (outside quiet hours, after the minimum gap), on the new card
 * (its fingerprint for the network limits), and its payment.rescue_retry says card_was_updated.
 */
export async function cardUpdated(tx: Tx, scope: Scope, eventId: string, u: { token: string; customer: string | null; card: ReturnType<typeof cardFacts> }, now: Date): Promise<void> {
  await tx
    .insertInto('stripe_card_updates')
    .values({
      account_id: scope.accountId,
      livemode: scope.livemode,
      stripe_event_id: eventId,
      payment_method: u.token,
      stripe_customer_id: u.customer,
      card_brand: u.card?.brand ?? null,
      card_last4: u.card?.last4 ?? null,
      exp_month: u.card?.expMonth ?? null,
      exp_year: u.card?.expYear ?? null,
      card_fingerprint: u.card?.fingerprint ?? null,
      updated_at: now,
    })
    .execute();
  const planned = await tx
    .selectFrom('attempts as a')
    .innerJoin('payments as p', (j) => j.onRef('p.account_id', '=', 'a.account_id').onRef('p.id', '=', 'a.payment_id'))
    .innerJoin('rescues as r', (j) => j.onRef('r.account_id', '=', 'p.account_id').onRef('r.payment_id', '=', 'p.id'))
    .leftJoin('customers as c', (j) => j.onRef('c.account_id', '=', 'p.account_id').onRef('c.id', '=', 'p.customer_id'))
    .select(['a.id', 'a.payment_id', 'a.planned_at', 'c.timezone', 'r.schedule'])
    .where('a.account_id', '=', scope.accountId)
    .where('a.livemode', '=', scope.livemode)
    .where('a.status', '=', 'planned')
    .where('p.payment_method', '=', u.token)
    .where('r.status', '=', 'active')
    .execute();
  await applyLifecycleIn(tx, cardUpdatedInStripe(planned.map((a) => ({ ...a, account_id: scope.accountId, schedule: a.schedule as PlannedRetry[] })), u.card, now));
}

/** Email and name follow Stripe's customer, for customers Rescue already knows. */
export async function customerUpdated(tx: Tx, scope: Scope, stripeCustomerId: string, o: { email: string | null; name: string | null }): Promise<void> {
  const m = await tx
    .selectFrom('stripe_customers')
    .select('customer_id')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('stripe_customer_id', '=', stripeCustomerId)
    .executeTakeFirst();
  if (!m) return;
  await tx.updateTable('customers').set({ email: o.email, name: o.name }).where('account_id', '=', scope.accountId).where('id', '=', m.customer_id).execute();
}
