import type { Insertable } from 'kysely';
import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import { rescueCancelled, rescueStarted, type PaymentFacts } from '../domain/events.ts';
import { windowEnd } from '../domain/rescue.ts';
import { firstChargeAt } from '../domain/schedule-policy.ts';
import { newId, randomString } from '../ids.ts';
import type { EventToWrite } from '../store/events.ts';
import type { LifecycleChange } from '../store/lifecycle-writes.ts';
import type { AttemptRow, AttemptsTable, PaymentRow, PlannedRetry, RescueRow } from '../store/schema.ts';
import { cardColumns } from './first-attempt.ts';
import { nextAttemptRow } from './outcome.ts';

// The lifecycle of a payment and its rescue (DESIGN.md, "Lifecycle of a payment"), one transition a
// function: each takes the state its caller loaded and returns the change set that
// store/lifecycle-writes.ts applies in one transaction — rows, events, email causes. No I/O here.
//
// The transitions of the charge path live beside the charge (all pure, all returning the same
// consequences type that a change set carries as `outcomes`):
// - create and first outcome — a payment charged through the API, a Stripe failure:
//   `consequencesOfCharge` (engine/outcome.ts); a Revtain hand-off: `handOffConsequences` (engine/cascade.ts);
// - an attempt's outcome (success, soft/hard decline, budget or window spent): `consequencesOfCharge`;
// - moving to a fallback method: `moveToNextMethod` (engine/cascade.ts);
// - a network-rule block: `blockedByNetwork`, a dead card waiting: `waitForNewCard` (engine/run-attempts.ts).
// This file holds the transitions that do not come from a charge: cancelling, a new card, what
// Stripe observed.

export { consequencesOfCharge, endRescue } from './outcome.ts';
export { handOffConsequences, moveToNextMethod } from './cascade.ts';

type PaymentHead = Pick<PaymentRow, 'id' | 'account_id' | 'livemode' | 'customer_id' | 'amount' | 'currency'>;

function factsOf(p: PaymentHead): PaymentFacts {
  return { id: p.id, customer: p.customer_id, amount: Number(p.amount), currency: p.currency };
}

function eventOf(p: PaymentHead, at: Date, e: ReturnType<typeof rescueCancelled>, extra: Partial<EventToWrite> = {}): EventToWrite {
  return { ...e, accountId: p.account_id, livemode: p.livemode, createdAt: at, ...extra };
}

// ── Cancelling ────────────────────────────────────────────────────────────────────────────────

/**
 * Why a rescue is cancelled: the merchant (`POST /v2/payments/:id/cancel_rescue`), or Stripe (the
 * subscription was deleted, the connection was disconnected or deauthorised), whose event says why.
 */
export type CancelCause = { by: 'merchant' } | { by: 'stripe'; reason: string; message: string };

export interface CancelState {
  payment: PaymentHead;
  /** Attempts made (succeeded or failed) so far. */
  attemptsMade: number;
  /**
   * Attempts left processing whose answer can no longer come (Stripe disconnected: nothing can be
   * charged or heard any more): cancelled with the rescue, so none stays rescue_in_progress.
   */
  stranded?: readonly string[];
}

/** Processing attempts that will never be answered, cancelled (their claim released: a late outcome is not applied). */
function cancelStranded(accountId: string, ids: readonly string[], message: string): LifecycleChange['attemptUpdates'] {
  return ids.map((id) => ({ account_id: accountId, id, set: { status: 'cancelled' as const, failure_message: message, claimed_by: null, lease_expires_at: null } }));
}

/** The rescue ends as cancelled: payment rescue_cancelled, planned retries cancelled, payment.rescue_cancelled. */
export function cancelRescue(s: CancelState, cause: CancelCause, at: Date): LifecycleChange {
  const { payment } = s;
  const reason = cause.by === 'merchant' ? 'cancelled' : cause.reason;
  const message = cause.by === 'merchant' ? 'rescue cancelled' : cause.message;
  const event = rescueCancelled(factsOf(payment), s.attemptsMade);
  // Stripe's cancellations say why (the merchant knows why it cancelled); the seed's payload otherwise.
  if (cause.by === 'stripe') event.data = { ...event.data, reason, message };
  return {
    paymentUpdates: [{ account_id: payment.account_id, id: payment.id, set: { status: 'rescue_cancelled', updated_at: at } }],
    rescueUpdates: [{ account_id: payment.account_id, payment_id: payment.id, set: { status: 'cancelled', end_reason: reason, ended_at: at, schedule: JSON.stringify([]) } }],
    cancelPlanned: [{ account_id: payment.account_id, payment_id: payment.id, message }],
    attemptUpdates: cancelStranded(payment.account_id, s.stranded ?? [], message),
    events: [eventOf(payment, at, event)],
  };
}

// ── The Stripe connection changes mode ───────────────────────────────────────────────────────

export const OBSERVE_AGAIN_MESSAGE = 'Stripe retries this payment again: the Stripe connection switched to observe mode, where Rescue never charges.';

export interface ObserveAgainState {
  payment: PaymentHead & Pick<PaymentRow, 'status'>;
  /** Its attempts left processing: observe mode will never charge them. */
  processing: readonly string[];
}

/**
 * The Stripe connection switched from active to observe: Stripe retries again (its invoice is handed
 * back), so Rescue's planned retries are cancelled and an attempt left processing — which observe mode
 * would never charge — is cancelled too, the payment back to requires_rescue. The rescue stays open
 * and follows Stripe's retries, as one opened in observe mode does; its schedule stays Rescue's
 * recommendation. No event: nothing happened to the payment.
 */
export function observedAgain(s: ObserveAgainState, at: Date): LifecycleChange {
  const { payment } = s;
  return {
    cancelPlanned: [{ account_id: payment.account_id, payment_id: payment.id, message: OBSERVE_AGAIN_MESSAGE }],
    attemptUpdates: cancelStranded(payment.account_id, s.processing, OBSERVE_AGAIN_MESSAGE),
    paymentUpdates: payment.status === 'rescue_in_progress' ? [{ account_id: payment.account_id, id: payment.id, set: { status: 'requires_rescue', updated_at: at } }] : [],
  };
}

// ── A new payment method from the customer ───────────────────────────────────────────────────

export type NewMethodOutcome =
  | { kind: 'retry_moved'; retryAt: Date }
  | { kind: 'reopened'; retryAt: Date }
  | { kind: 'saved' }
  | { kind: 'already_paid' }
  | { kind: 'in_progress' }
  | { kind: 'closed' }
  | { kind: 'limit_reached' };

/** Updates a payment may take; beyond this the page refuses, so a leaked link cannot test cards. */
export const MAX_METHOD_UPDATES = 5;

export interface NewCardState {
  payment: PaymentRow;
  rescue: RescueRow | null;
  timezone: string;
  /** The payment's first planned attempt, if any. */
  planned: AttemptRow | null;
  /** The payment's latest attempt (the one a reopened retry follows). */
  last: AttemptRow | null;
  /** Earlier new payment methods of this payment and what they did. */
  previous: readonly { outcome: 'retry_moved' | 'reopened' | 'saved' }[];
}

export interface NewCardInput {
  paymentMethod: string;
  source: 'hosted_page' | 'api';
  gateway: string | null;
  card: { fingerprint: string; brand: string; last4: string | null; funding: string | null; country: string | null };
}

/**
 * A customer gave a new payment method (engine/dunning-new-card.ts says when each outcome applies):
 * an active rescue's next retry moves up on the new card; a failed payment reopens exactly one retry
 * on it, once per payment, with payment.rescue_started (the rescue begins again, as the seed's
 * event says: "Sent when Auto Rescue begins for a failed payment"), which is delivered to webhooks
 * but sends the customer no "payment failed" email (they just acted); otherwise nothing is charged.
 */
export function newCard(s: NewCardState, input: NewCardInput, at: Date): { outcome: NewMethodOutcome; change: LifecycleChange } {
  const none = (outcome: NewMethodOutcome) => ({ outcome, change: {} });
  const { payment, rescue, planned } = s;
  if (payment.status === 'succeeded') return none({ kind: 'already_paid' });
  if (payment.status === 'processing' || payment.status === 'rescue_in_progress') return none({ kind: 'in_progress' });
  if (payment.status === 'rescue_cancelled') return none({ kind: 'closed' });
  // The same method again (a double submit, a reload): what the first submit did stands.
  if (planned && planned.card_was_updated && payment.payment_method === input.paymentMethod) return none({ kind: 'retry_moved', retryAt: planned.planned_at });
  if (s.previous.length >= MAX_METHOD_UPDATES) return none({ kind: 'limit_reached' });

  const retryAt = firstChargeAt(at, s.timezone);
  const newCardColumns = { ...cardColumns(input.card), card_was_updated: true, gateway: input.gateway };
  const recorded = (outcome: 'retry_moved' | 'reopened' | 'saved', change: LifecycleChange = {}): LifecycleChange => ({
    ...change,
    paymentUpdates: [{ account_id: payment.account_id, id: payment.id, set: { payment_method: input.paymentMethod, updated_at: at, ...(outcome === 'reopened' ? { status: 'requires_rescue' as const } : {}) } }],
    methodUpdates: [
      {
        id: `pmu_${randomString(24)}`,
        account_id: payment.account_id,
        livemode: payment.livemode,
        payment_id: payment.id,
        payment_method: input.paymentMethod,
        card_fingerprint: input.card.fingerprint,
        source: input.source,
        outcome,
        created_at: at,
      },
    ],
  });

  if (payment.status === 'requires_rescue' && rescue?.status === 'active') {
    if (!planned) return none({ kind: 'in_progress' });
    const movedTo = retryAt.getTime() < planned.planned_at.getTime() ? retryAt : planned.planned_at;
    // scheduled_retries shows the moved retry; later ones stay as planned.
    const shown = (rescue.schedule as PlannedRetry[]).map((r, i) => (i === 0 ? { ...r, scheduled_at: movedTo.toISOString() } : r));
    return {
      outcome: { kind: 'retry_moved', retryAt: movedTo },
      change: recorded('retry_moved', {
        attemptUpdates: [{ account_id: payment.account_id, id: planned.id, set: { ...newCardColumns, planned_at: movedTo }, onlyIfPlanned: true }],
        rescueUpdates: [{ account_id: payment.account_id, payment_id: payment.id, set: { schedule: JSON.stringify(shown) } }],
      }),
    };
  }

  const policy = payment.rescue_policy as RescuePolicy | null;
  if (payment.status !== 'failed' || (!rescue && !policy) || !s.last) return none({ kind: 'closed' });
  if (s.previous.some((u) => u.outcome === 'reopened')) return { outcome: { kind: 'saved' }, change: recorded('saved') };

  const made = rescue?.retries_made ?? 0;
  const schedule = JSON.stringify([{ retry_number: made + 1, scheduled_at: retryAt.toISOString() }]);
  // One retry on the new card: its budget starts where the rescue stands (like a fallback's).
  const maxRetries = rescue ? rescue.retries_made + 1 - rescue.method_retries_base : 1;
  const change: LifecycleChange = rescue
    ? {
        rescueUpdates: [
          {
            account_id: payment.account_id,
            payment_id: payment.id,
            set: {
              status: 'active',
              end_reason: null,
              ended_at: null,
              max_retries: maxRetries,
              schedule,
              method_started_at: at,
              window_ends_at: new Date(Math.max(rescue.window_ends_at.getTime(), retryAt.getTime() + 86_400_000)),
            },
          },
        ],
      }
    : {
        rescueInserts: [
          {
            payment_id: payment.id,
            account_id: payment.account_id,
            status: 'active',
            max_retries: 1,
            retry_window_days: policy!.retryWindowDays,
            window_ends_at: windowEnd(at, policy!.retryWindowDays),
            retry_schedule: policy!.schedule.kind,
            custom_schedule_days: JSON.stringify(policy!.schedule.kind === 'custom' ? policy!.schedule.days : null),
            notify_customer: policy!.notifyCustomer,
            check_account_updater: policy!.checkAccountUpdater,
            retries_made: 0,
            schedule,
            end_reason: null,
            started_at: at,
            ended_at: null,
          },
        ],
      };
  change.attempts = [{ ...nextAttemptRow(s.last, retryAt), ...newCardColumns, payment_method_type: 'card' }];
  change.events = [eventOf(payment, at, rescueStarted(factsOf(payment), payment.failure_code ?? s.last.decline_code ?? 'unknown', maxRetries, [retryAt]), { quiet: true })];
  return { outcome: { kind: 'reopened', retryAt }, change: recorded('reopened', change) };
}

// ── What Stripe observed ─────────────────────────────────────────────────────────────────────

export interface ObservedFailure {
  declineCode: string;
  adviceCode: string | null;
  message: string | null;
  transactionId: string | null;
  card: { fingerprint?: string | null; brand?: string | null; last4?: string | null; funding?: string | null; country?: string | null } | null;
}

/**
 * A failure of Stripe's own retry (observe mode: Rescue charges nothing), recorded as an attempt of
 * the rescue — it counts for the card's network limits and the rescue's retries.
 */
export function retryObservedInStripe(s: { last: AttemptRow; rescue: Pick<RescueRow, 'status' | 'retries_made'> | null }, f: ObservedFailure, at: Date): LifecycleChange {
  const { last } = s;
  const id = newId('att');
  const row: Insertable<AttemptsTable> = {
    ...last,
    id,
    number: last.number + 1,
    status: 'failed',
    planned_at: at,
    claimed_by: null,
    lease_expires_at: null,
    attempted_at: at,
    idempotency_key: `stripe_${id}`,
    decline_code: f.declineCode,
    decline_category: null,
    advice_code: f.adviceCode,
    failure_message: f.message || null,
    transaction_id: f.transactionId,
    card_fingerprint: f.card?.fingerprint ?? last.card_fingerprint,
    card_brand: f.card?.brand ?? last.card_brand,
    card_last4: f.card?.last4 ?? last.card_last4,
    card_funding: f.card?.funding ?? last.card_funding,
    card_country: f.card?.country ?? last.card_country,
    account_updater_checked: false,
    card_was_updated: false,
    gateway_errors: 0,
    announced_at: null,
    predicted_p: null,
  };
  return {
    attempts: [row],
    rescueUpdates: s.rescue?.status === 'active' ? [{ account_id: last.account_id, payment_id: last.payment_id, set: { retries_made: s.rescue.retries_made + 1 } }] : [],
    paymentUpdates: [{ account_id: last.account_id, id: last.payment_id, set: { failure_code: f.declineCode, updated_at: at } }],
  };
}

/**
 * Stripe reports the money arrived and no planned retry of Rescue's is left to become the success:
 * Stripe's own retry, recorded as the rescue's next attempt — keyed by its row, not charged by
 * Rescue — claimed by the caller, whose outcome (`consequencesOfCharge`) then records the success.
 */
export function recoveryAttemptOfStripe(last: AttemptRow, at: Date, claim: { workerId: string; leaseUntil: Date }, updatedCard: UpdatedCard | null = null): Insertable<AttemptsTable> {
  const next = nextAttemptRow(last, at);
  // The card Stripe's updater put behind the payment method since the last attempt is the card that paid.
  const card = updatedCard ? { card_was_updated: true, ...cardOf(updatedCard) } : {};
  return { ...next, ...card, status: 'processing', claimed_by: claim.workerId, lease_expires_at: claim.leaseUntil, idempotency_key: `stripe_${next.id}` };
}

/** A card Stripe's updater reported (payment_method.automatically_updated): its known facts. */
export type UpdatedCard = { fingerprint?: string | null; brand?: string | null; last4?: string | null; funding?: string | null; country?: string | null };

function cardOf(card: UpdatedCard) {
  return {
    ...(card.fingerprint ? { card_fingerprint: card.fingerprint } : {}),
    ...(card.brand ? { card_brand: card.brand } : {}),
    ...(card.last4 ? { card_last4: card.last4 } : {}),
    ...(card.funding ? { card_funding: card.funding } : {}),
    ...(card.country ? { card_country: card.country } : {}),
  };
}

/**
 * The card behind a payment method was replaced (Stripe's card updater): each open rescue's next
 * planned retry moves to the earliest allowed moment on the new card, marked card_was_updated.
 */
export function cardUpdatedInStripe(
  planned: readonly { account_id: string; id: string; payment_id: string; planned_at: Date; timezone: string | null; schedule: readonly PlannedRetry[] }[],
  card: { fingerprint?: string | null; last4?: string | null; funding?: string | null; country?: string | null } | null,
  at: Date,
): LifecycleChange {
  const movedTo = (a: (typeof planned)[number]) => {
    const sooner = firstChargeAt(at, a.timezone ?? 'UTC');
    return sooner.getTime() < a.planned_at.getTime() ? sooner : a.planned_at;
  };
  return {
    // next_retry_at and scheduled_retries show the retry that will run: the moved one; later ones stay.
    rescueUpdates: planned.map((a) => ({
      account_id: a.account_id,
      payment_id: a.payment_id,
      set: { schedule: JSON.stringify(a.schedule.map((r, i) => (i === 0 ? { ...r, scheduled_at: movedTo(a).toISOString() } : r))) },
    })),
    attemptUpdates: planned.map((a) => {
      return {
        account_id: a.account_id,
        id: a.id,
        onlyIfPlanned: true,
        set: {
          card_was_updated: true,
          planned_at: movedTo(a),
          ...(card?.fingerprint ? { card_fingerprint: card.fingerprint } : {}),
          ...(card?.last4 ? { card_last4: card.last4 } : {}),
          ...(card?.funding ? { card_funding: card.funding } : {}),
          ...(card?.country ? { card_country: card.country } : {}),
        },
      };
    }),
  };
}
