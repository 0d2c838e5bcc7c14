import { sql } from 'kysely';
import { customerReasonKey, type ReasonKey } from '../domain/dunning.ts';
import { RescueError } from '../errors.ts';
import { openPaymentsOf } from '../store/open-payments.ts';
import type { PaymentRecord, Scope } from '../store/payments.ts';
import type { LinkSigner } from './dunning-links.ts';
import { hostedPageUrl } from './dunning-links.ts';
import { nowFor, retryNow, type PaymentDeps } from './payments.ts';

// What the customer-portal widget shows and does for one customer (api/widget.ts): their payments
// open in a rescue, each with its amount, what happened in plain words, when Rescue tries next, and
// the two ways to settle it — retry now with the card on file (engine/payments.ts#retryNow, the
// merchant's retry_now: it counts against the budget, network limits apply, a double click finds no
// planned retry and charges nothing twice), or a new card on the update-payment page (a signed link).

export interface WidgetPayment {
  id: string;
  amount: number;
  currency: string;
  status: string;
  reason: ReasonKey;
  nextRetryAt: Date | null;
  /** A retry is planned and nothing is running: one click charges the card on file now. */
  canRetryNow: boolean;
  cardLast4: string | null;
  /** The seed's update-payment page for this payment (signed, expiring). */
  updateUrl: string;
}

export interface WidgetLinks {
  signer: LinkSigner;
  publicUrl: string;
  linkDays: number;
}

function asWidgetPayment(r: PaymentRecord, url: string): WidgetPayment {
  const planned = r.attempts.find((a) => a.status === 'planned') ?? null;
  const last = [...r.attempts].reverse().find((a) => a.card_last4) ?? null;
  return {
    id: r.payment.id,
    amount: r.payment.amount,
    currency: r.payment.currency,
    status: r.payment.status,
    reason: customerReasonKey(r.payment.failure_code),
    nextRetryAt: planned?.planned_at ?? null,
    canRetryNow: r.payment.status === 'requires_rescue' && r.rescue?.status === 'active' && planned !== null,
    cardLast4: last?.card_last4 ?? null,
    updateUrl: url,
  };
}

export async function widgetPayments(d: Pick<PaymentDeps, 'db' | 'clock'>, scope: Scope, customerId: string, links: WidgetLinks): Promise<WidgetPayment[]> {
  const open = await openPaymentsOf(d.db, scope, customerId);
  const out: WidgetPayment[] = [];
  for (const r of open) {
    // A Stripe invoice is paid on Stripe's own page, as its emails link (store/emails-queue.ts#linkFor).
    const invoice = (r.payment.metadata as Record<string, string>).stripe_invoice;
    const stripePage = invoice
      ? (await sql<{ url: string | null }>`select hosted_invoice_url as url from stripe_invoices where account_id = ${scope.accountId} and livemode = ${scope.livemode} and invoice_id = ${invoice}`.execute(d.db)).rows[0]?.url
      : null;
    // The link expires on the payment's clock, as an emailed one does.
    const now = await nowFor(d, scope, r.payment.test_clock).catch(() => d.clock.now());
    const token = links.signer.sign({ accountId: scope.accountId, livemode: scope.livemode, paymentId: r.payment.id, expiresAt: new Date(now.getTime() + links.linkDays * 86_400_000) });
    out.push(asWidgetPayment(r, stripePage ?? hostedPageUrl(links.publicUrl, r.payment.id, token)));
  }
  return out;
}

export type WidgetRetryOutcome = { paymentId: string; outcome: 'paid' | 'declined'; reason: ReasonKey | null };

/** One click: the next retry of one of this customer's open payments, now, on the card on file. */
export async function widgetRetryNow(d: PaymentDeps, scope: Scope, customerId: string, paymentId: string): Promise<WidgetRetryOutcome> {
  const head = await d.db.selectFrom('payments').select(['customer_id']).where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('id', '=', paymentId).executeTakeFirst();
  // Another customer's payment reads as no such payment: the widget reveals nothing beyond its customer.
  if (!head || head.customer_id !== customerId) throw new RescueError('resource_missing', `No such payment: '${paymentId}'`, 'payment');
  const after = await retryNow(d, scope, paymentId);
  return after.payment.status === 'succeeded'
    ? { paymentId, outcome: 'paid', reason: null }
    : { paymentId, outcome: 'declined', reason: customerReasonKey(after.payment.failure_code) };
}
