import Stripe from 'stripe';
import type { StripeMode } from '../store/schema.ts';

// What a key must be allowed to do for a mode, checked with harmless calls before Rescue connects it
// or switches its mode — so a restricted key missing a permission is refused with the permission's
// name, instead of connecting fine and failing every webhook later.
// - reading: a list of one object of each kind Rescue reads (webhook lookups, the import);
// - writing: an update of an object that does not exist. Stripe checks a restricted key's permission
//   before it looks the object up, so a 403 means the permission is missing and a 404 means it is
//   granted — and nothing was changed either way.

export interface PermissionCheck {
  /** The permission, as the merchant finds it on Stripe's restricted-key page. */
  permission: string;
  call(stripe: Stripe): Promise<unknown>;
}

/** An id no object has: the write checks' target. */
const NO_SUCH = 'rescue_permission_check';

export const READ_CHECKS: readonly PermissionCheck[] = [
  { permission: 'Invoices: read', call: (s) => s.invoices.list({ limit: 1 }) },
  { permission: 'Invoice payments: read', call: (s) => s.invoicePayments.list({ limit: 1 }) },
  { permission: 'PaymentIntents: read', call: (s) => s.paymentIntents.list({ limit: 1 }) },
  { permission: 'Charges: read', call: (s) => s.charges.list({ limit: 1 }) },
  { permission: 'Subscriptions: read', call: (s) => s.subscriptions.list({ limit: 1 }) },
];

export const WRITE_CHECKS: readonly PermissionCheck[] = [
  { permission: 'Invoices: write', call: (s) => s.invoices.update(`in_${NO_SUCH}`, {}) },
  { permission: 'PaymentIntents: write', call: (s) => s.paymentIntents.update(`pi_${NO_SUCH}`, {}) },
];

export const checksFor = (mode: StripeMode): readonly PermissionCheck[] => (mode === 'active' ? [...READ_CHECKS, ...WRITE_CHECKS] : READ_CHECKS);

const isMissingObject = (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && (err.statusCode === 404 || err.code === 'resource_missing');

/**
 * The permissions of `mode` the key lacks (empty: it has them all). A refused key (401) or Stripe
 * unreachable throws the SDK's error: neither says anything about permissions.
 */
export async function missingPermissions(stripe: Stripe, mode: StripeMode): Promise<string[]> {
  const missing: string[] = [];
  for (const check of checksFor(mode)) {
    try {
      await check.call(stripe);
    } catch (err) {
      if (err instanceof Stripe.errors.StripePermissionError) missing.push(check.permission);
      else if (!isMissingObject(err)) throw err;
    }
  }
  return missing;
}

export function missingPermissionsMessage(mode: StripeMode, missing: readonly string[]): string {
  return `The Stripe key lacks permissions ${mode} mode needs: ${missing.join(', ')}. Grant them (Stripe dashboard → Developers → API keys → edit the restricted key; an OAuth connection: reconnect), then try again.`;
}
