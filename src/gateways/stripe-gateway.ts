import Stripe from 'stripe';
import type { StripeSettings } from '../stripe/client.ts';
import { StripeReconnectNeeded, withConnection } from '../stripe/connected-stripe.ts';
import type { Db } from '../store/db.ts';
import { getStripeConnection } from '../store/stripe.ts';
import type { Keyring } from '../stripe/crypto.ts';
import { cleanChargeResult } from './answer-text.ts';
import type { CardDetails, ChargeRequest, ChargeResult, Gateway } from './gateway.ts';
import { tokenFingerprint } from './http-gateway.ts';
import { chargeInLanes } from './charge-lanes.ts';

// Charges through the merchant's Stripe account with the official SDK, in active mode only:
// - an invoice Rescue took over (payment metadata `stripe_invoice`): `invoices.pay`, off-session;
// - a one-off payment intent (`stripe_payment_intent`): confirm it off-session;
// - any other `pm_…` token: a new payment intent, confirmed off-session.
// Every call carries the attempt's idempotency key as Stripe's Idempotency-Key, so a re-asked
// attempt can never charge twice. Observe mode (or no connection, or one that needs reconnecting)
// charges nothing: the attempt is "unknown" and re-asked later under the same key, until the rescue
// window ends. A refused OAuth token is refreshed once and the call repeated (connected-stripe.ts).

export interface StripeGatewayOptions {
  db: Db;
  ring: Keyring | null;
  stripe: StripeSettings;
}

export function stripeGateway(o: StripeGatewayOptions): Gateway {
  return {
    type: 'stripe',
    // One call at a time; Stripe's ids, decline codes and messages are stored: made storable first
    // (answer-text.ts). A stopping worker sends nothing new (engine/worker.ts).
    charge: (requests, co) => chargeInLanes(requests, 1, async (r) => cleanChargeResult(await chargeOne(o, r)), co),
    describeCard(paymentMethod): CardDetails {
      // Describing a token needs a call to Stripe; payments that come from Stripe webhooks carry the
      // card Stripe reported (brand, fingerprint). A bare token is its own card for the network limits.
      return { brand: 'unknown', funding: 'unknown', country: null, last4: null, expMonth: null, expYear: null, fingerprint: tokenFingerprint(paymentMethod) };
    },
    // Stripe's card updater works on its own and tells Rescue by webhook (payment_method.automatically_updated).
    accountUpdater: () => null,
  };
}

async function chargeOne(o: StripeGatewayOptions, r: ChargeRequest): Promise<ChargeResult> {
  const conn = o.ring ? await getStripeConnection(o.db, o.ring, { accountId: r.accountId, livemode: r.livemode }) : null;
  if (!conn || conn.status !== 'connected' || !conn.secretKey) return { status: 'unknown', reason: conn?.status === 'needs_reconnect' ? 'Stripe needs reconnecting' : 'Stripe is not connected' };
  if (conn.mode !== 'active') return { status: 'unknown', reason: 'Stripe is connected in observe mode: Rescue does not charge' };
  try {
    return await withConnection(o, conn, r.attemptedAt, (_c, stripe) => chargeWith(stripe, r));
  } catch (err) {
    // A refused refresh, a key refused even after it, or Stripe unreachable while refreshing: no charge was made.
    return { status: 'unknown', reason: err instanceof StripeReconnectNeeded ? `Stripe needs reconnecting: ${err.message}` : `Stripe: ${(err as Error).message}` };
  }
}

async function chargeWith(stripe: Stripe, r: ChargeRequest): Promise<ChargeResult> {
  const options = { idempotencyKey: r.idempotencyKey };
  const invoice = r.payment.metadata.stripe_invoice;
  try {
    if (invoice) {
      const paid = await stripe.invoices.pay(invoice, { off_session: true }, options);
      return paid.status === 'paid' ? { status: 'succeeded', transactionId: paid.id! } : { status: 'failed', declineCode: 'generic_decline', message: `invoice is ${paid.status}`, adviceCode: null };
    }
    const pi = r.payment.metadata.stripe_payment_intent
      ? await stripe.paymentIntents.confirm(r.payment.metadata.stripe_payment_intent, { off_session: true, payment_method: r.paymentMethod.startsWith('pm_') ? r.paymentMethod : undefined }, options)
      : await stripe.paymentIntents.create(
          {
            amount: r.payment.amount,
            currency: r.payment.currency.toLowerCase(),
            payment_method: r.paymentMethod,
            customer: r.payment.metadata.stripe_customer,
            off_session: true,
            confirm: true,
            metadata: { rescue_payment: r.payment.id, rescue_attempt: r.attemptId },
          },
          options,
        );
    if (pi.status === 'succeeded') return { status: 'succeeded', transactionId: pi.id };
    if (pi.status === 'processing') return { status: 'unknown', reason: 'payment intent is processing' };
    const e = pi.last_payment_error;
    return { status: 'failed', declineCode: e?.decline_code || e?.code || 'generic_decline', message: e?.message ?? `payment intent is ${pi.status}`, adviceCode: (e as { network_advice_code?: string } | null)?.network_advice_code ?? null };
  } catch (err) {
    return await fromError(stripe, { invoice, paymentIntent: r.payment.metadata.stripe_payment_intent }, err);
  }
}

async function fromError(stripe: Stripe, target: { invoice?: string; paymentIntent?: string }, err: unknown): Promise<ChargeResult> {
  const { invoice, paymentIntent } = target;
  // The key was refused: withConnection refreshes it and repeats the call.
  if (err instanceof Stripe.errors.StripeAuthenticationError) throw err;
  if (err instanceof Stripe.errors.StripeCardError) {
    return { status: 'failed', declineCode: err.decline_code || err.code || 'generic_decline', message: err.message, adviceCode: err.network_advice_code ?? null };
  }
  // The invoice was paid meanwhile (the customer, or Stripe): that is the money.
  if (invoice && err instanceof Stripe.errors.StripeInvalidRequestError) {
    const current = await stripe.invoices.retrieve(invoice).catch(() => null);
    if (current?.status === 'paid') return { status: 'succeeded', transactionId: current.id! };
    if (current && (current.status === 'void' || current.status === 'uncollectible')) return { status: 'failed', declineCode: 'do_not_honor', message: `invoice is ${current.status}`, adviceCode: null };
    return { status: 'failed', declineCode: err.code ?? 'processing_error', message: err.message, adviceCode: null };
  }
  // A one-off payment intent the customer paid meanwhile can no longer be confirmed: that is the money.
  if (paymentIntent && err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'payment_intent_unexpected_state') {
    const current = await stripe.paymentIntents.retrieve(paymentIntent).catch(() => null);
    if (current?.status === 'succeeded') return { status: 'succeeded', transactionId: current.id };
    if (current?.status === 'canceled') return { status: 'failed', declineCode: 'do_not_honor', message: 'payment intent is canceled', adviceCode: null };
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
    return { status: 'failed', declineCode: err.code === 'authentication_required' ? 'authentication_required' : 'processing_error', message: err.message, adviceCode: null };
  }
  // Connection errors, 5xx, rate limits, permission problems: no answer about the money. Ask again later
  // under the same idempotency key.
  return { status: 'unknown', reason: `Stripe: ${(err as Error).message}` };
}

