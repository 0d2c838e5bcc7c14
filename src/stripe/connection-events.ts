import type { Transaction } from 'kysely';
import type { Scope } from '../store/payments.ts';
import type { Database } from '../store/schema.ts';
import { markDisconnected, stopBackfill, type StripeConnection } from '../store/stripe.ts';
import { cancelStripeRescues, openStripeRescues } from './stripe-rescue.ts';

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
}

export const DEAUTHORIZED: ConnectionEnd = {
  statusReason: 'deauthorized in Stripe',
  rescueReason: 'stripe_deauthorized',
  message: "Rescue's access was revoked in the Stripe dashboard: it can no longer retry this payment or see how it ends.",
};

export const DISCONNECTED: ConnectionEnd = {
  statusReason: 'disconnected in Rescue',
  rescueReason: 'stripe_disconnected',
  message: 'Stripe was disconnected from Rescue: it can no longer retry this payment or see how it ends.',
};

export async function endConnection(tx: Tx, scope: Scope, why: ConnectionEnd, now: Date): Promise<void> {
  await markDisconnected(tx, scope, now, why.statusReason);
  await stopBackfill(tx, scope, now, why.message);
  await cancelStripeRescues(tx, scope, await openStripeRescues(tx, scope), { reason: why.rescueReason, message: why.message }, now);
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
