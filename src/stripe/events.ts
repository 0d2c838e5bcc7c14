import StripeSdk from 'stripe';
import type Stripe from 'stripe';
import { RescueError } from '../errors.ts';
import type { Clock } from '../clock.ts';
import type { Scope } from '../store/payments.ts';
import { claimStripeEvent, markNeedsAttention, stripeEventSeen, type StripeConnection } from '../store/stripe.ts';
import { heldInvoice } from '../store/stripe-handbacks.ts';
import type { Db } from '../store/db.ts';
import type { StripeSettings } from './client.ts';
import { StripeReconnectNeeded, withConnection } from './connected-stripe.ts';
import { applicationDeauthorized } from './connection-events.ts';
import type { Keyring } from './crypto.ts';
import { cardFacts, failureFacts, invoiceFacts, type FailureFacts } from './objects.ts';
import { fetchFailure, fetchStripeClock, invoiceFailed, invoicePaid, type StripeClock } from './invoice-events.ts';
import { cardUpdated, customerUpdated, subscriptionDeleted } from './customer-events.ts';
import { examineFailedPaymentIntent, paymentIntentFailed, paymentIntentSucceeded, type FailedPaymentIntent } from './payment-intent-events.ts';

// What each Stripe event does to Rescue's rows. An event is claimed (stripe_events, unique per
// account and Stripe event id) in the same transaction as its changes and the events they emit, so
// a redelivered event changes nothing and a failure half-way stores nothing (Stripe redelivers).

export { STRIPE_GATEWAY } from './objects.ts';

export const HANDLED_EVENT_TYPES = [
  'invoice.payment_failed',
  'invoice.paid',
  'invoice.payment_succeeded',
  'customer.subscription.deleted',
  'payment_method.automatically_updated',
  'customer.source.updated',
  'customer.updated',
  'payment_intent.payment_failed',
  'payment_intent.succeeded',
  'account.application.deauthorized',
] as const;

export interface StripeEventDeps {
  db: Db;
  clock: Clock;
  stripe: StripeSettings;
  /** Encrypts a refreshed OAuth token (connected-stripe.ts). */
  ring: Keyring | null;
  /** Claims the attempts this process writes (like the API's own charges). */
  workerId: string;
  leaseMs: number;
}

export type EventOutcome = 'processed' | 'duplicate' | 'ignored';

export async function handleStripeEvent(d: StripeEventDeps, conn: StripeConnection, event: Stripe.Event, source: 'connect' | 'billing'): Promise<EventOutcome> {
  const scope: Scope = { accountId: conn.accountId, livemode: conn.livemode };
  const outcome = await processEvent(d, conn, scope, event, source);
  // Active mode: Stripe's own retries must stop for an invoice Rescue took over (held: recorded in
  // the event's transaction). Asked after the transaction (no network inside it); if it fails, the
  // 500 makes Stripe redeliver and the duplicate asks again.
  const invoice = event.type === 'invoice.payment_failed' ? event.data.object : null;
  const held = invoice && invoice.auto_advance !== false ? await heldInvoice(d.db, scope, invoice.id!) : null;
  if (held && conn.secretKey) {
    await withConnection(d, conn, d.clock.now(), (_c, stripe) => stripe.invoices.update(held.invoice_id, { auto_advance: false }, { idempotencyKey: `rescue_auto_advance_${held.invoice_id}_${held.generation}` })).catch((err: unknown) => {
      // Nothing to ask Stripe with any more: the connection shows it needs reconnecting.
      if (!(err instanceof StripeReconnectNeeded)) throw err;
    });
  }
  return outcome;
}

/** The Stripe test clock of a failed invoice, if it is on one (a refreshed key, like every lookup). */
async function invoiceClock(d: StripeEventDeps, conn: StripeConnection, invoice: Stripe.Invoice, now: Date): Promise<StripeClock | null> {
  if (!invoice.test_clock || !conn.secretKey) return null;
  try {
    return await withConnection(d, conn, now, (c) => fetchStripeClock(d, c, invoice));
  } catch (err) {
    if (err instanceof StripeReconnectNeeded) return null;
    throw err;
  }
}

/** The decline behind a failed invoice; without a working key, Stripe's catch-all decline. */
async function invoiceFailure(d: StripeEventDeps, conn: StripeConnection, invoice: Stripe.Invoice, now: Date): Promise<FailureFacts> {
  if (!conn.secretKey) return fetchFailure(d, conn, invoice);
  try {
    return await withConnection(d, conn, now, (c) => fetchFailure(d, c, invoice));
  } catch (err) {
    if (err instanceof StripeReconnectNeeded) return failureFacts(null, null);
    throw err;
  }
}

/**
 * A webhook's lookup in Stripe. Stripe refusing it with a 4xx (a permission the key lacks, an object
 * it may not see) is not the event's fault and will not pass by itself: the connection is marked
 * needs_attention with Stripe's words, and the event is answered 502 so Stripe redelivers it once the
 * merchant fixed the key. A refused key (401) was handled already (refreshed, or needs_reconnect).
 */
async function lookup<T>(d: StripeEventDeps, conn: StripeConnection, event: Stripe.Event, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const status = err instanceof StripeSdk.errors.StripeError ? err.statusCode : undefined;
    if (status === undefined || status < 400 || status >= 500 || status === 401 || status === 429) throw err;
    const object = (event.data.object as { id?: string }).id ?? event.id;
    const reason = `Stripe refused a lookup Rescue needs for ${event.type} (${object}): ${(err as Error).message}`;
    await markNeedsAttention(d.db, { accountId: conn.accountId, livemode: conn.livemode }, d.clock.now(), reason);
    throw new RescueError('stripe_error', `${reason} The event is refused so that Stripe delivers it again once the key can do this.`);
  }
}

async function processEvent(d: StripeEventDeps, conn: StripeConnection, scope: Scope, event: Stripe.Event, source: 'connect' | 'billing'): Promise<EventOutcome> {
  if (await stripeEventSeen(d.db, scope, event.id)) return 'duplicate';
  const now = d.clock.now();
  // Calls to Stripe happen before the transaction: a transaction never waits on the network.
  const failure = event.type === 'invoice.payment_failed' ? await lookup(d, conn, event, () => invoiceFailure(d, conn, event.data.object, now)) : null;
  const stripeClock = event.type === 'invoice.payment_failed' ? await lookup(d, conn, event, () => invoiceClock(d, conn, event.data.object, now)) : null;
  const oneOff: FailedPaymentIntent | null = event.type === 'payment_intent.payment_failed' ? await lookup(d, conn, event, () => examineFailedPaymentIntent(d, conn, event.data.object, now)) : null;
  return d.db.transaction().execute(async (tx) => {
    if (!(await claimStripeEvent(tx, scope, { id: event.id, type: event.type, source, at: now }))) return 'duplicate';
    switch (event.type) {
      case 'invoice.payment_failed':
        await invoiceFailed(d, tx, conn, invoiceFacts(event.data.object), failure!, now, stripeClock);
        return 'processed';
      case 'payment_intent.payment_failed':
        if (oneOff!.kind === 'skip') return 'ignored';
        await paymentIntentFailed(d, tx, conn, event.data.object, oneOff!, now);
        return 'processed';
      case 'payment_intent.succeeded':
        return paymentIntentSucceeded(d, tx, scope, event.data.object, now);
      case 'account.application.deauthorized':
        // Only Stripe Connect revokes an application; a billing webhook has nothing to revoke.
        return source === 'connect' && conn.kind === 'oauth' ? applicationDeauthorized(tx, conn, event.created, now) : 'ignored';
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
