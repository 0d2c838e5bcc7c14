import type { Insertable, Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Clock } from '../clock.ts';
import { resolveRescuePolicy } from '../domain/auto-rescue-policy.ts';
import { rescueCancelled } from '../domain/events.ts';
import { firstChargeAt } from '../domain/schedule-policy.ts';
import { consequencesOfCharge } from '../engine/outcome.ts';
import { firstAttemptRow } from '../engine/first-attempt.ts';
import { newId } from '../ids.ts';
import { applyBatchIn } from '../store/batch-writes.ts';
import { insertEvents } from '../store/events.ts';
import type { Scope } from '../store/payments.ts';
import { insertPulse } from '../store/recoveries.ts';
import type { AttemptRow, CustomerRow, Database } from '../store/schema.ts';
import { getSettings } from '../store/settings.ts';
import { claimStripeEvent, stripeEventSeen, type StripeConnection } from '../store/stripe.ts';
import type { Db } from '../store/db.ts';
import { stripeClient, type StripeSettings } from './client.ts';
import { cardFacts, cardFingerprint, failureFacts, invoiceFacts, toDate, type FailureFacts, type InvoiceFacts } from './objects.ts';

// What each Stripe event does to Rescue's rows. An event is claimed (stripe_events, unique per
// account and Stripe event id) in the same transaction as its changes and the events they emit, so
// a redelivered event changes nothing and a failure half-way stores nothing (Stripe redelivers).

/** The named gateway Stripe payments are charged through (added to the account's gateways on connect). */
export const STRIPE_GATEWAY = 'stripe';

export const HANDLED_EVENT_TYPES = [
  'invoice.payment_failed',
  'invoice.paid',
  'invoice.payment_succeeded',
  'customer.subscription.deleted',
  'payment_method.automatically_updated',
  'customer.source.updated',
  'customer.updated',
] as const;

export interface StripeEventDeps {
  db: Db;
  clock: Clock;
  stripe: StripeSettings;
  /** Claims the attempts this process writes (like the API's own charges). */
  workerId: string;
  leaseMs: number;
}

export type EventOutcome = 'processed' | 'duplicate' | 'ignored';

type Tx = Transaction<Database>;

export async function handleStripeEvent(d: StripeEventDeps, conn: StripeConnection, event: Stripe.Event, source: 'connect' | 'billing'): Promise<EventOutcome> {
  const scope: Scope = { accountId: conn.accountId, livemode: conn.livemode };
  const outcome = await processEvent(d, conn, scope, event, source);
  // Active mode: Stripe's own retries must stop for an invoice Rescue took over. Asked after the
  // transaction (no network inside it); if it fails, the 500 makes Stripe redeliver and the duplicate
  // asks again.
  if (event.type === 'invoice.payment_failed' && conn.mode === 'active' && conn.secretKey && event.data.object.auto_advance !== false && (await inActiveRescue(d.db, scope, event.data.object.id!))) {
    await stripeClient(d.stripe, conn.secretKey).invoices.update(event.data.object.id!, { auto_advance: false }, { idempotencyKey: `rescue_auto_advance_${event.data.object.id}` });
  }
  return outcome;
}

async function inActiveRescue(db: Db, scope: Scope, invoiceId: string): Promise<boolean> {
  const row = await db
    .selectFrom('stripe_invoices as i')
    .innerJoin('rescues as r', (j) => j.onRef('r.account_id', '=', 'i.account_id').onRef('r.payment_id', '=', 'i.payment_id'))
    .select('r.status')
    .where('i.account_id', '=', scope.accountId)
    .where('i.livemode', '=', scope.livemode)
    .where('i.invoice_id', '=', invoiceId)
    .executeTakeFirst();
  return row?.status === 'active';
}

async function processEvent(d: StripeEventDeps, conn: StripeConnection, scope: Scope, event: Stripe.Event, source: 'connect' | 'billing'): Promise<EventOutcome> {
  if (await stripeEventSeen(d.db, scope, event.id)) return 'duplicate';
  const now = d.clock.now();
  // Calls to Stripe happen before the transaction: a transaction never waits on the network.
  const failure = event.type === 'invoice.payment_failed' ? await fetchFailure(d, conn, event.data.object) : null;
  return d.db.transaction().execute(async (tx) => {
    if (!(await claimStripeEvent(tx, scope, { id: event.id, type: event.type, source, at: now }))) return 'duplicate';
    switch (event.type) {
      case 'invoice.payment_failed':
        await invoiceFailed(d, tx, conn, invoiceFacts(event.data.object), failure!, now);
        return 'processed';
      case 'invoice.paid':
      case 'invoice.payment_succeeded':
        await invoicePaid(d, tx, scope, invoiceFacts(event.data.object), now);
        return 'processed';
      case 'customer.subscription.deleted':
        await subscriptionDeleted(tx, scope, event.data.object, now);
        return 'processed';
      case 'payment_method.automatically_updated': {
        const pm = event.data.object;
        await cardUpdated(tx, scope, event.id, { token: pm.id, customer: typeof pm.customer === 'string' ? pm.customer : (pm.customer?.id ?? null), card: cardFacts(pm.card) }, now);
        return 'processed';
      }
      case 'customer.source.updated': {
        const src = event.data.object as { id: string; object: string; customer?: string | { id: string } | null } & Parameters<typeof cardFacts>[0];
        if (src.object !== 'card') return 'ignored';
        await cardUpdated(tx, scope, event.id, { token: src.id, customer: typeof src.customer === 'string' ? src.customer : (src.customer?.id ?? null), card: cardFacts(src) }, now);
        return 'processed';
      }
      case 'customer.updated': {
        const c = event.data.object;
        await customerUpdated(tx, scope, c.id, { email: c.email ?? null, name: c.name ?? null });
        return 'processed';
      }
      default:
        return 'ignored';
    }
  });
}

/**
 * The decline behind a failed invoice: its payment intent (legacy `invoice.payment_intent`, else the
 * invoice's payments), with `last_payment_error` and the latest charge's card. Without a key to ask
 * Stripe with (a billing webhook before a key is pasted), Stripe's catch-all decline.
 */
async function fetchFailure(d: StripeEventDeps, conn: StripeConnection, invoice: Stripe.Invoice): Promise<FailureFacts> {
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

async function ensureCustomer(tx: Tx, scope: Scope, stripeCustomerId: string | null, o: { email: string | null; name: string | null; at: Date }): Promise<CustomerRow | null> {
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
async function invoiceFailed(d: StripeEventDeps, tx: Tx, conn: StripeConnection, inv: InvoiceFacts, f: FailureFacts, now: Date): Promise<void> {
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
async function invoicePaid(d: StripeEventDeps, tx: Tx, scope: Scope, inv: InvoiceFacts, now: Date): Promise<void> {
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

/**
 * The subscription ended: the customer churned (the label churn prediction learns from), and every
 * rescue still open for the subscription's invoices ends as cancelled, with payment.rescue_cancelled.
 */
async function subscriptionDeleted(tx: Tx, scope: Scope, sub: Stripe.Subscription, now: Date): Promise<void> {
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
  for (const p of open) {
    await tx.updateTable('payments').set({ status: 'rescue_cancelled', updated_at: now }).where('account_id', '=', scope.accountId).where('id', '=', p.id).execute();
    await tx.updateTable('rescues').set({ status: 'cancelled', end_reason: 'subscription_deleted', ended_at: now, schedule: JSON.stringify([]) }).where('account_id', '=', scope.accountId).where('payment_id', '=', p.id).execute();
    await tx.updateTable('attempts').set({ status: 'cancelled', failure_message: 'subscription cancelled in Stripe' }).where('account_id', '=', scope.accountId).where('payment_id', '=', p.id).where('status', '=', 'planned').execute();
    const made = await tx.selectFrom('attempts').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', scope.accountId).where('payment_id', '=', p.id).where('status', 'in', ['succeeded', 'failed']).executeTakeFirstOrThrow();
    const event = rescueCancelled({ id: p.id, customer: p.customer_id, amount: Number(p.amount), currency: p.currency }, Number(made.n));
    await insertEvents(tx, [{ ...event, data: { ...event.data, reason: 'subscription_deleted' }, accountId: scope.accountId, livemode: scope.livemode, createdAt: now }]);
  }
}

/**
 * The card behind a payment method was replaced (Stripe's card updater, or the customer). Recorded
 * as a signal, and every open rescue on that payment method retries sooner: its next planned retry
 * moves to the earliest allowed moment (outside quiet hours, after the minimum gap), on the new card
 * (its fingerprint for the network limits), and its payment.rescue_retry says card_was_updated.
 */
async function cardUpdated(tx: Tx, scope: Scope, eventId: string, u: { token: string; customer: string | null; card: ReturnType<typeof cardFacts> }, now: Date): Promise<void> {
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
    .select(['a.id', 'a.planned_at', 'c.timezone'])
    .where('a.account_id', '=', scope.accountId)
    .where('a.livemode', '=', scope.livemode)
    .where('a.status', '=', 'planned')
    .where('p.payment_method', '=', u.token)
    .where('r.status', '=', 'active')
    .execute();
  for (const a of planned) {
    const sooner = firstChargeAt(now, a.timezone ?? 'UTC');
    await tx
      .updateTable('attempts')
      .set({
        card_was_updated: true,
        planned_at: sooner.getTime() < a.planned_at.getTime() ? sooner : a.planned_at,
        ...(u.card?.fingerprint ? { card_fingerprint: u.card.fingerprint } : {}),
        ...(u.card?.last4 ? { card_last4: u.card.last4 } : {}),
      })
      .where('account_id', '=', scope.accountId)
      .where('id', '=', a.id)
      .where('status', '=', 'planned')
      .execute();
  }
}

/** Email and name follow Stripe's customer, for customers Rescue already knows. */
async function customerUpdated(tx: Tx, scope: Scope, stripeCustomerId: string, o: { email: string | null; name: string | null }): Promise<void> {
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
