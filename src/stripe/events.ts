import type Stripe from 'stripe';
import type { Clock } from '../clock.ts';
import type { Scope } from '../store/payments.ts';
import { claimStripeEvent, stripeEventSeen, type StripeConnection } from '../store/stripe.ts';
import type { Db } from '../store/db.ts';
import { stripeClient, type StripeSettings } from './client.ts';
import { cardFacts, invoiceFacts } from './objects.ts';
import { fetchFailure, invoiceFailed, invoicePaid } from './invoice-events.ts';
import { cardUpdated, customerUpdated, subscriptionDeleted } from './customer-events.ts';

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
