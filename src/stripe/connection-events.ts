import type { Transaction } from 'kysely';
import type { Scope } from '../store/payments.ts';
import type { Database } from '../store/schema.ts';
import { markDisconnected, stopBackfill, type StripeConnection } from '../store/stripe.ts';
import { markHandbacksImpossible } from '../store/stripe-handbacks.ts';
import { cancelStripeRescues, openStripeRescues, processingAttempts } from './stripe-rescue.ts';

// The connection ends: the merchant revoked Rescue in Stripe's dashboard
// (account.application.deauthorized on the Connect webhook), or disconnected it in Rescue. Either way
// Rescue can no longer charge (active) nor hear how a rescue ends (no more events arrive), so its
// open Stripe rescues end as cancelled, in the same transaction as the connection.

type Tx = Transaction<Database>;

export interface ConnectionEnd {
  /** Kept on the connection (`status_reason`). */
  statusReason: string;
  /** payment.rescue_cancelled's `reason`. */
  rescueReason: string;
  /** Readable, on the rescues' cancelled retries, the event and the import. */
  message: string;
  /** Why an invoice Rescue still held could not be handed back (listed for the merchant). */
  handbackReason: string;
}

export const DEAUTHORIZED: ConnectionEnd = {
  statusReason: 'deauthorized in Stripe',
  rescueReason: 'stripe_deauthorized',
  message: "Rescue's access was revoked in the Stripe dashboard: it can no longer retry this payment or see how it ends.",
  handbackReason: "Rescue's access was revoked in the Stripe dashboard before it could turn automatic collection (auto_advance) back on: turn it on for this invoice in Stripe.",
};

export const DISCONNECTED: ConnectionEnd = {
  statusReason: 'disconnected in Rescue',
  rescueReason: 'stripe_disconnected',
  message: 'Stripe was disconnected from Rescue: it can no longer retry this payment or see how it ends.',
  handbackReason: 'Stripe was disconnected before Rescue could turn automatic collection (auto_advance) back on: turn it on for this invoice in Stripe.',
};

/**
 * Ends the connection in one transaction. Invoices Rescue still holds (a disconnect hands them back
 * before it gets here; a deauthorization cannot) stay listed for the merchant: Rescue can no longer
 * set their auto_advance back. An attempt left processing is cancelled with its rescue: its answer
 * can never come now.
 */
export async function endConnection(tx: Tx, scope: Scope, why: ConnectionEnd, now: Date): Promise<void> {
  await markDisconnected(tx, scope, now, why.statusReason);
  await stopBackfill(tx, scope, now, why.message);
  await markHandbacksImpossible(tx, scope, why.handbackReason, now);
  const open = await openStripeRescues(tx, scope);
  const stranded = await processingAttempts(tx, scope, open.map((p) => p.id));
  await cancelStripeRescues(tx, scope, open, { reason: why.rescueReason, message: why.message }, now, { stranded });
}

/**
 * account.application.deauthorized. One created before this connection was made belongs to an
 * earlier connection of the same Stripe account (delivered late) and is ignored: a reconnect stays.
 */
export async function applicationDeauthorized(tx: Tx, conn: StripeConnection, eventCreated: number, now: Date): Promise<'processed' | 'ignored'> {
  if (eventCreated < Math.floor(conn.connectedAt.getTime() / 1000)) return 'ignored';
  await endConnection(tx, { accountId: conn.accountId, livemode: conn.livemode }, DEAUTHORIZED, now);
  return 'processed';
}
