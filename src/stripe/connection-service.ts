import Stripe from 'stripe';
import { RescueError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import type { Scope } from '../store/payments.ts';
import type { StripeMode } from '../store/schema.ts';
import { invoicesToHandBack, releaseHeldInvoices } from '../store/stripe-handbacks.ts';
import { updateStripeConnection, type StripeConnection } from '../store/stripe.ts';
import { stripeClient, type StripeSettings } from './client.ts';
import { StripeReconnectNeeded, withConnection } from './connected-stripe.ts';
import { endConnection, type ConnectionEnd } from './connection-events.ts';
import type { Keyring } from './crypto.ts';
import { handBack } from './handback.ts';
import { missingPermissions, missingPermissionsMessage } from './permissions.ts';
import { observeStripeRescues } from './stripe-rescue.ts';

// What the merchant does to the connection beyond connecting: check a key can do what its mode
// needs, switch modes, disconnect. Each is a lifecycle transition for the rescues it touches and a
// hand-back for the invoices Rescue lets go of (stripe/handback.ts).

export interface ConnectionDeps {
  db: Db;
  ring: Keyring;
  stripe: StripeSettings;
}

export const OBSERVE_HANDBACK_REASON = 'switched to observe mode: Stripe retries again';

/**
 * Refuses (400, naming each missing permission) a key that cannot do what `mode` needs; a refused
 * key is a 400 too, Stripe unreachable a 502. `key`: a pasted key not saved yet; else the connection's.
 */
export async function ensurePermissions(d: ConnectionDeps, target: { key: string } | { conn: StripeConnection }, mode: StripeMode, param: string, at: Date): Promise<void> {
  let missing: string[];
  try {
    missing = 'key' in target ? await missingPermissions(stripeClient(d.stripe, target.key), mode) : await withConnection(d, target.conn, at, (_c, stripe) => missingPermissions(stripe, mode));
  } catch (err) {
    if (err instanceof StripeReconnectNeeded || err instanceof Stripe.errors.StripeAuthenticationError) throw new RescueError('parameter_invalid', `Stripe refused the key: ${err.message}`, param);
    throw new RescueError('stripe_error', `Stripe could not be asked what the key may do: ${(err as Error).message}`, param);
  }
  if (missing.length > 0) throw new RescueError('parameter_invalid', missingPermissionsMessage(mode, missing), param);
}

/**
 * Switches mode (the permissions were checked). Active → observe: every invoice Rescue holds is
 * handed back (the worker restores auto_advance) and every open Stripe rescue stops waiting for
 * Rescue's retries (engine/lifecycle.ts#observedAgain), in one transaction with the mode.
 * Rescues opened in observe mode stay Stripe's after a switch to active; new failures are taken over.
 */
export async function changeMode(d: ConnectionDeps, scope: Scope, conn: StripeConnection, mode: StripeMode, at: Date): Promise<void> {
  await d.db.transaction().execute(async (tx) => {
    await updateStripeConnection(tx, d.ring, scope, { mode, at });
    if (conn.mode === 'active' && mode === 'observe') {
      await releaseHeldInvoices(tx, scope, OBSERVE_HANDBACK_REASON, at);
      await observeStripeRescues(tx, scope, at);
    }
  });
}

/**
 * Disconnects: every invoice Rescue holds is handed back first, while Rescue still has a key; if
 * Stripe cannot be reached for one, nothing is disconnected (502: try again) — so no invoice is left
 * with Stripe's collection off. Then `revoke` (the OAuth deauthorization), then the connection ends.
 */
export async function disconnect(d: ConnectionDeps, scope: Scope, why: ConnectionEnd, revoke: () => Promise<void>, at: () => Date): Promise<void> {
  const waiting = await invoicesToHandBack(d.db, scope);
  let unreachable = 0;
  for (const row of waiting) if ((await handBack(d, row, null, at(), 'Stripe was disconnected from Rescue')) === 'retry') unreachable++;
  if (unreachable > 0) {
    throw new RescueError('stripe_error', `Stripe could not be reached to turn automatic collection back on for ${unreachable} invoice(s) Rescue took over; nothing was disconnected. Try again.`);
  }
  await revoke();
  await d.db.transaction().execute((tx) => endConnection(tx, scope, why, at()));
}
