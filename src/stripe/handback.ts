import Stripe from 'stripe';
import type { Db } from '../store/db.ts';
import type { Scope } from '../store/payments.ts';
import type { StripeHandbackRow } from '../store/schema.ts';
import { finishHandback } from '../store/stripe-handbacks.ts';
import { getStripeConnection } from '../store/stripe.ts';
import type { StripeSettings } from './client.ts';
import { StripeReconnectNeeded, withConnection } from './connected-stripe.ts';
import type { Keyring } from './crypto.ts';

// Handing an invoice back to Stripe: Rescue took it over in active mode (auto_advance: false, so
// Stripe's retries and dunning stopped for it) and now lets go of it — the connection went to observe,
// is being disconnected, or the rescue ended without the money. auto_advance is set back to what it
// was, under an idempotency key naming the invoice and the take-over's generation, so a repeat changes
// nothing. Stripe unreachable: asked again later (backoff). Not possible any more (deauthorized, or
// Stripe refuses the update): `impossible`, listed for the merchant in the dashboard and the API.

export interface HandbackDeps {
  db: Db;
  ring: Keyring;
  stripe: StripeSettings;
}

export const ENDED_WITHOUT_MONEY = 'the rescue ended without the money';
const MAX_DELAY_MS = 3_600_000;

/** Backoff while Stripe cannot be reached: 30 s doubling to an hour. */
export function handbackDelayMs(failures: number): number {
  return Math.min(MAX_DELAY_MS, 30_000 * 2 ** Math.max(0, failures));
}

export type HandbackResult = 'restored' | 'impossible' | 'retry';

/** Restores one invoice's auto_advance; `holder` is the worker holding the row (null: the caller runs it in its request). */
export async function handBack(d: HandbackDeps, row: StripeHandbackRow, holder: string | null, at: Date, why?: string): Promise<HandbackResult> {
  const scope: Scope = { accountId: row.account_id, livemode: row.livemode };
  // A held row the worker claimed: its rescue ended without the money.
  const reason = why ?? (row.status === 'held' ? ENDED_WITHOUT_MONEY : undefined);
  const conn = await getStripeConnection(d.db, d.ring, scope);
  if (!conn || conn.status === 'disconnected') {
    await finishHandback(d.db, row, holder, { status: 'impossible', at, reason: `Stripe is disconnected: ${conn?.statusReason ?? 'no connection'}` });
    return 'impossible';
  }
  const retryLater = async (error: string): Promise<HandbackResult> => {
    await finishHandback(d.db, row, holder, { status: 'pending', at, reason, error, nextRunAt: new Date(at.getTime() + handbackDelayMs(row.failures)) });
    return 'retry';
  };
  try {
    await withConnection(d, conn, at, (_c, stripe) =>
      stripe.invoices.update(row.invoice_id, { auto_advance: row.auto_advance_before }, { idempotencyKey: `rescue_handback_${row.invoice_id}_${row.generation}` }),
    );
  } catch (err) {
    // No working key until the merchant reconnects: kept, and asked again then.
    if (err instanceof StripeReconnectNeeded) return retryLater(err.message);
    const status = err instanceof Stripe.errors.StripeError ? (err.statusCode ?? 500) : 500;
    if (status >= 400 && status < 500 && status !== 429) {
      await finishHandback(d.db, row, holder, { status: 'impossible', at, reason: `Stripe refused to restore auto_advance: ${(err as Error).message}`, error: (err as Error).message });
      return 'impossible';
    }
    return retryLater(`Stripe: ${(err as Error).message}`);
  }
  await finishHandback(d.db, row, holder, { status: 'restored', at, reason });
  return 'restored';
}
