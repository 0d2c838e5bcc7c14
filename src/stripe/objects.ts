import type Stripe from 'stripe';
import type { CardBrand } from '../domain/decline-types.ts';
import { tokenFingerprint } from '../gateways/http-gateway.ts';
import { ANSWER_LIMITS, cleanAnswerText, cleanOptionalText } from '../gateways/answer-text.ts';

// Pure readers of Stripe objects: what Rescue needs from an invoice, a payment intent, a charge or a
// card, tolerant of the API versions a merchant's webhook endpoint may be pinned to (the legacy
// top-level `invoice.subscription` / `invoice.payment_intent`, and the current `parent` / `payments`).

const id = (v: unknown): string | null => (typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v && typeof v.id === 'string' ? v.id : null);

export const toDate = (unixSeconds: number | null | undefined): Date | null => (typeof unixSeconds === 'number' ? new Date(unixSeconds * 1000) : null);

export interface InvoiceFacts {
  id: string;
  customer: string | null;
  customerEmail: string | null;
  customerName: string | null;
  subscription: string | null;
  /** The legacy link to the invoice's payment intent (API versions before 2025-03-31). */
  paymentIntent: string | null;
  status: string | null;
  amountDue: number;
  amountPaid: number;
  amountRemaining: number;
  currency: string;
  attemptCount: number;
  billingReason: string | null;
  defaultPaymentMethod: string | null;
  created: Date;
  paidAt: Date | null;
  /** Stripe's page where the customer pays the invoice (with a new card): the dunning link in observe mode. */
  hostedInvoiceUrl: string | null;
  /** Whether Stripe collects it automatically (retries, dunning): what a hand-back restores. */
  autoAdvance: boolean;
}

export function invoiceFacts(inv: Stripe.Invoice): InvoiceFacts {
  const legacy = inv as unknown as { subscription?: unknown; payment_intent?: unknown };
  return {
    id: inv.id!,
    customer: id(inv.customer),
    customerEmail: inv.customer_email ?? null,
    customerName: inv.customer_name ?? null,
    subscription: id(inv.parent?.subscription_details?.subscription) ?? id(legacy.subscription),
    paymentIntent: id(legacy.payment_intent),
    status: inv.status ?? null,
    amountDue: inv.amount_due,
    amountPaid: inv.amount_paid,
    amountRemaining: inv.amount_remaining,
    currency: inv.currency.toUpperCase(),
    attemptCount: inv.attempt_count ?? 0,
    billingReason: inv.billing_reason ?? null,
    defaultPaymentMethod: id(inv.default_payment_method),
    created: toDate(inv.created)!,
    paidAt: toDate(inv.status_transitions?.paid_at),
    hostedInvoiceUrl: inv.hosted_invoice_url ?? null,
    autoAdvance: inv.auto_advance ?? true,
  };
}

export interface CardFacts {
  brand: CardBrand;
  country: string | null;
  funding: string | null;
  /** card, apple_pay or google_pay (Rescue's payment method types); other wallets are cards. */
  paymentMethodType: string;
  wallet: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  fingerprint: string | null;
}

const BRANDS: Record<string, CardBrand> = {
  visa: 'visa', mastercard: 'mastercard', amex: 'amex', 'american express': 'amex', discover: 'discover',
  jcb: 'jcb', diners: 'diners', 'diners club': 'diners', unionpay: 'unionpay',
};

/** From a charge's payment_method_details.card, a PaymentMethod's card, or a Card source. */
export function cardFacts(card: { brand?: string | null; country?: string | null; funding?: string | null; wallet?: { type?: string | null } | null; last4?: string | null; exp_month?: number | null; exp_year?: number | null; fingerprint?: string | null } | null | undefined): CardFacts | null {
  if (!card) return null;
  const wallet = card.wallet?.type ?? null;
  return {
    brand: BRANDS[(card.brand ?? '').toLowerCase()] ?? 'unknown',
    country: card.country ?? null,
    funding: card.funding ?? null,
    paymentMethodType: wallet === 'apple_pay' || wallet === 'google_pay' ? wallet : 'card',
    wallet,
    last4: card.last4 ?? null,
    expMonth: card.exp_month ?? null,
    expYear: card.exp_year ?? null,
    fingerprint: card.fingerprint ?? null,
  };
}

export interface FailureFacts {
  declineCode: string;
  /** The card network's advice code (Mastercard 03, 21, 24…), which the network rules read. */
  networkAdviceCode: string | null;
  /** Stripe's own advice (try_again_later, do_not_try_again, confirm_card_data). */
  adviceCode: string | null;
  message: string;
  paymentMethod: string | null;
  charge: string | null;
  paymentIntent: string | null;
  card: CardFacts | null;
}

/**
 * The decline of a failed payment intent: `last_payment_error` first (decline_code, else code), then
 * its latest charge (failure_code, outcome), with the card from the charge. Stripe's catch-all
 * `generic_decline` when nothing says more.
 */
export function failureFacts(pi: Stripe.PaymentIntent | null, charge: Stripe.Charge | null): FailureFacts {
  const e = pi?.last_payment_error ?? null;
  const ch = charge ?? (pi && typeof pi.latest_charge === 'object' ? pi.latest_charge : null);
  const errExtra = e as unknown as { network_advice_code?: string | null; advice_code?: string | null } | null;
  const card = cardFacts(ch?.payment_method_details?.card ?? (e?.payment_method as Stripe.PaymentMethod | undefined)?.card ?? null);
  // Stored as the attempt's decline and the payment's failure: made storable like any gateway answer (answer-text.ts).
  return {
    declineCode: cleanAnswerText(e?.decline_code || e?.code || ch?.outcome?.reason || ch?.failure_code || '', ANSWER_LIMITS.code) || 'generic_decline',
    networkAdviceCode: cleanOptionalText(errExtra?.network_advice_code ?? ch?.outcome?.network_advice_code ?? null, ANSWER_LIMITS.adviceCode),
    adviceCode: cleanOptionalText(errExtra?.advice_code ?? ch?.outcome?.advice_code ?? null, ANSWER_LIMITS.code),
    message: cleanAnswerText(e?.message ?? ch?.failure_message ?? '', ANSWER_LIMITS.message),
    paymentMethod: cleanOptionalText(id(e?.payment_method) ?? id(pi?.payment_method) ?? id(ch?.payment_method), ANSWER_LIMITS.token),
    charge: cleanOptionalText(ch?.id ?? id(pi?.latest_charge) ?? e?.charge ?? null, ANSWER_LIMITS.id),
    paymentIntent: cleanOptionalText(pi?.id ?? null, ANSWER_LIMITS.id),
    card,
  };
}

/** A card's identity for the network limits: Stripe's fingerprint, else a hash of the token. */
export function cardFingerprint(card: CardFacts | null, token: string): string {
  return card?.fingerprint ?? tokenFingerprint(token);
}

/** The named gateway Stripe payments are charged through (added to the account's gateways on connect). */
export const STRIPE_GATEWAY = 'stripe';
