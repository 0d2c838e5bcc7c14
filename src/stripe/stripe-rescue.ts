import type { Transaction } from 'kysely';
import { resolveRescuePolicy } from '../domain/auto-rescue-policy.ts';
import { cancelRescue, observedAgain, recoveryAttemptOfStripe } from '../engine/lifecycle.ts';
import { consequencesOfCharge } from '../engine/outcome.ts';
import { firstAttemptRow } from '../engine/first-attempt.ts';
import { newId } from '../ids.ts';
import { learnedContexts } from '../predict/planning.ts';
import type { Db } from '../store/db.ts';
import { applyLifecycleIn, attemptsMade, claimPlannedNow } from '../store/lifecycle-writes.ts';
import type { Scope } from '../store/payments.ts';
import type { CustomerRow, Database, PaymentRow } from '../store/schema.ts';
import { getSettings } from '../store/settings.ts';
import type { StripeConnection } from '../store/stripe.ts';
import type { StripeEventDeps } from './events.ts';
import { cardFingerprint, STRIPE_GATEWAY, type FailureFacts } from './objects.ts';

// The life of a rescue that Stripe started: a failure Stripe saw opens it (through the engine's own
// first-failure path, like a hand-off), a payment Stripe reports recovers it, and losing the
// connection ends it. Shared by invoices and one-off payment intents.

type Tx = Transaction<Database>;

export interface StripeFailure {
  customer: CustomerRow | null;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  /** The payment method to retry (pm_…), or a placeholder naming the Stripe object. */
  token: string;
  failure: FailureFacts;
  /** The Rescue test clock the payment lives on (its Stripe invoice is on a Stripe test clock); `now` is then that clock's time. */
  testClock?: string | null;
}

/**
 * A payment whose first attempt (made by Stripe) failed with the decline Stripe saw; the engine plans
 * its rescue and writes payment.rescue_started (or recovery.blocked), exactly as for a hand-off.
 * Observe mode plans nothing for a worker to charge. Returns the payment id.
 */
export async function openStripeRescue(d: StripeEventDeps, tx: Tx, conn: StripeConnection, o: StripeFailure, now: Date): Promise<string> {
  const scope: Scope = { accountId: conn.accountId, livemode: conn.livemode };
  const { failure: f, token, metadata, amount } = o;
  const settings = await getSettings(tx as unknown as Db, scope.accountId, scope.livemode);
  // Payments Stripe could not collect are handed over: Auto Rescue applies with the account's defaults.
  const policy = resolveRescuePolicy({ enabled: true }, { amount, offSession: true, metadata }, settings.autoRescue)!;
  const paymentId = newId('pay');
  const inserted = await applyLifecycleIn(tx, {
    payments: [
      {
        id: paymentId,
        account_id: scope.accountId,
        livemode: scope.livemode,
        customer_id: o.customer?.id ?? null,
        payment_method: token,
        amount,
        currency: o.currency,
        off_session: true,
        status: 'processing',
        failure_code: null,
        failure_message: null,
        metadata: JSON.stringify(metadata),
        test_clock: o.testClock ?? null,
        idempotency_key: null,
        rescue_policy: JSON.stringify(policy),
        created_at: now,
        updated_at: now,
      },
    ],
    attempts: [
      firstAttemptRow({
        id: newId('att'),
        scope,
        paymentId,
        at: now,
        claimedBy: d.workerId,
        leaseUntil: new Date(d.clock.now().getTime() + d.leaseMs),
        card: { fingerprint: cardFingerprint(f.card, token), brand: f.card?.brand ?? 'unknown', last4: f.card?.last4 ?? null, funding: f.card?.funding ?? null, country: f.card?.country ?? null },
        gateway: STRIPE_GATEWAY,
        testClock: o.testClock ?? null,
        paymentMethodType: f.card?.paymentMethodType ?? 'card',
      }),
    ],
  });
  const payment = inserted.payments[0]!;
  const attempt = inserted.attempts[0]!;
  const ctx = { payment, rescue: null, customer: o.customer, recovery: null, methods: [] };
  // The first schedule plans like a payment's (run-attempts.ts): the learned model when the account uses it.
  const learned = await learnedContexts(tx as unknown as Db, [{ attempt, ctx, paymentMethod: token }]);
  const consequences = consequencesOfCharge({
    attempt,
    ctx,
    at: now,
    result: { status: 'failed', declineCode: f.declineCode, message: f.message, adviceCode: f.networkAdviceCode },
    paymentMethod: token,
    accountUpdaterChecked: false,
    cardWasUpdated: false,
    learned: learned.get(attempt.id),
  });
  // Observe mode: Rescue never charges, so nothing is planned for a worker to pick up.
  if (conn.mode === 'observe') consequences.nextAttempt = null;
  await applyLifecycleIn(tx, { outcomes: [consequences] });
  return paymentId;
}

/**
 * Stripe reports the money arrived for a payment in rescue: recovered, whoever retried it (Stripe's
 * retry, the customer, or Rescue) — a planned retry becomes the success, or a new attempt records it,
 * and the engine writes payment.rescue_succeeded and its siblings.
 */
export async function recoverStripeRescue(d: StripeEventDeps, tx: Tx, scope: Scope, paymentId: string, transactionId: string, now: Date): Promise<void> {
  const payment = await tx.selectFrom('payments').selectAll().where('account_id', '=', scope.accountId).where('id', '=', paymentId).forUpdate().executeTakeFirstOrThrow();
  // Already succeeded (Rescue's own retry), or a retry is with the gateway right now (its answer decides).
  if (payment.status !== 'requires_rescue') return;
  const rescue = await tx.selectFrom('rescues').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).executeTakeFirst();
  if (!rescue || rescue.status !== 'active') return;
  const claim = { workerId: d.workerId, leaseUntil: new Date(d.clock.now().getTime() + d.leaseMs) };
  // A planned retry becomes the success (claimed as retry_now claims it); else Stripe's own retry is recorded as ours.
  let [attempt] = await claimPlannedNow(tx, scope, paymentId, claim);
  if (!attempt) {
    const last = await tx.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).orderBy('number', 'desc').executeTakeFirstOrThrow();
    attempt = (await applyLifecycleIn(tx, { attempts: [recoveryAttemptOfStripe(last, now, claim, await cardUpdatedSince(tx, scope, payment.payment_method, last.attempted_at ?? last.planned_at))] })).attempts[0]!;
  }
  const customer = payment.customer_id ? ((await tx.selectFrom('customers').selectAll().where('account_id', '=', scope.accountId).where('id', '=', payment.customer_id).executeTakeFirst()) ?? null) : null;
  const consequences = consequencesOfCharge({
    attempt,
    ctx: { payment, rescue, customer, recovery: null, methods: [] },
    at: now,
    result: { status: 'succeeded', transactionId },
    paymentMethod: payment.payment_method,
    accountUpdaterChecked: false,
    cardWasUpdated: attempt.card_was_updated,
  });
  await applyLifecycleIn(tx, { outcomes: [consequences] });
}

/** The latest card Stripe's updater put behind this payment method since `since`, if any. */
async function cardUpdatedSince(tx: Tx, scope: Scope, paymentMethod: string, since: Date) {
  const u = await tx
    .selectFrom('stripe_card_updates')
    .select(['card_fingerprint as fingerprint', 'card_brand as brand', 'card_last4 as last4'])
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('payment_method', '=', paymentMethod)
    .where('updated_at', '>=', since)
    .orderBy('updated_at', 'desc')
    .executeTakeFirst();
  return u ?? null;
}

type OpenPayment = { id: string; customer_id: string | null; amount: number | string; currency: string; status?: string };

/**
 * Ends rescues that can no longer go on as cancelled: the payment becomes rescue_cancelled, planned
 * retries are cancelled (`message` says why), and payment.rescue_cancelled carries `reason`.
 */
export async function cancelStripeRescues(tx: Tx, scope: Scope, open: readonly OpenPayment[], why: { reason: string; message: string }, now: Date, o: { stranded?: Map<string, string[]> } = {}): Promise<void> {
  const made = await attemptsMade(tx, scope, open.map((p) => p.id));
  await applyLifecycleIn(
    tx,
    open.map((p) =>
      cancelRescue(
        { payment: { id: p.id, account_id: scope.accountId, livemode: scope.livemode, customer_id: p.customer_id, amount: Number(p.amount), currency: p.currency }, attemptsMade: made.get(p.id) ?? 0, stranded: o.stranded?.get(p.id) },
        { by: 'stripe', reason: why.reason, message: why.message },
        now,
      ),
    ),
  );
}

/**
 * Every open rescue charged through Stripe (its attempts go through the `stripe` gateway: invoices,
 * one-off payment intents, and payments created with a Stripe token), waiting for a retry or with one
 * processing, locked for the update.
 */
export async function openStripeRescues(tx: Tx, scope: Scope): Promise<(OpenPayment & { status: string })[]> {
  return tx
    .selectFrom('payments as p')
    .innerJoin('rescues as r', (j) => j.onRef('r.account_id', '=', 'p.account_id').onRef('r.payment_id', '=', 'p.id'))
    .select(['p.id', 'p.customer_id', 'p.amount', 'p.currency', 'p.status'])
    .where('p.account_id', '=', scope.accountId)
    .where('p.livemode', '=', scope.livemode)
    .where('r.status', '=', 'active')
    .where('p.status', 'in', ['requires_rescue', 'rescue_in_progress'])
    .where((eb) => eb.exists(eb.selectFrom('attempts as a').select('a.id').whereRef('a.account_id', '=', 'p.account_id').whereRef('a.payment_id', '=', 'p.id').where('a.gateway', '=', STRIPE_GATEWAY)))
    .forUpdate('p')
    .execute();
}

/** The attempts of these payments left processing, by payment. */
export async function processingAttempts(tx: Tx, scope: Scope, paymentIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (paymentIds.length === 0) return out;
  const rows = await tx.selectFrom('attempts').select(['id', 'payment_id']).where('account_id', '=', scope.accountId).where('payment_id', 'in', [...paymentIds]).where('status', '=', 'processing').execute();
  for (const r of rows) out.set(r.payment_id, [...(out.get(r.payment_id) ?? []), r.id]);
  return out;
}

/**
 * The connection switched to observe mode: every open Stripe rescue stops waiting for Rescue's own
 * retries (engine/lifecycle.ts#observedAgain); Stripe retries its invoice again.
 */
export async function observeStripeRescues(tx: Tx, scope: Scope, now: Date): Promise<number> {
  const open = await openStripeRescues(tx, scope);
  const processing = await processingAttempts(tx, scope, open.map((p) => p.id));
  await applyLifecycleIn(
    tx,
    open.map((p) => observedAgain({ payment: { id: p.id, account_id: scope.accountId, livemode: scope.livemode, customer_id: p.customer_id, amount: Number(p.amount), currency: p.currency, status: p.status as PaymentRow['status'] }, processing: processing.get(p.id) ?? [] }, now)),
  );
  return open.length;
}

/** The failed charge behind a Stripe failure, with its card and decline, for the models' history. */
export async function recordFailedCharge(tx: Tx, scope: Scope, o: { customer: string | null; invoice: string | null; amount: number; currency: string }, f: FailureFacts, at: Date): Promise<void> {
  if (!f.charge) return;
  const values = {
    stripe_customer_id: o.customer,
    invoice_id: o.invoice,
    payment_intent_id: f.paymentIntent,
    amount: o.amount,
    currency: o.currency,
    status: 'failed',
    failure_code: f.declineCode,
    decline_code: f.declineCode,
    advice_code: f.networkAdviceCode ?? f.adviceCode,
    card_brand: f.card?.brand ?? null,
    card_country: f.card?.country ?? null,
    card_funding: f.card?.funding ?? null,
    card_wallet: f.card?.wallet ?? null,
    card_fingerprint: f.card?.fingerprint ?? null,
  };
  await tx
    .insertInto('stripe_charges')
    .values({ account_id: scope.accountId, livemode: scope.livemode, charge_id: f.charge, created_at: at, ...values })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'charge_id']).doUpdateSet(values))
    .execute();
}
