import type { Insertable } from 'kysely';
import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import { methodWindowEnd, movesToNextMethod } from '../domain/cascade.ts';
import type { DeclineInfo } from '../domain/decline-types.ts';
import { recoveryBlocked, rescueStarted, type RecoveryFacts } from '../domain/events.ts';
import { decideAfterFailure, recommendationFor, windowEnd, type StopReason } from '../domain/rescue.ts';
import { firstChargeAt } from '../domain/schedule-policy.ts';
import type { AttemptContext } from '../store/attempts.ts';
import type { AttemptConsequences, AttemptResultWrite, PaymentWrite } from '../store/batch-writes.ts';
import type { AttemptRow, AttemptsTable, RescuePaymentMethodRow, RescuesTable } from '../store/schema.ts';
import type { LearnedContext } from '../predict/learned-policy.ts';
import { eventsAt, factsOf, nextAttemptRow, plannedRetries, plannerFor } from './outcome.ts';

// A rescue with several payment methods (a hand-off's primary token and its fallbacks), inside the
// Foundation's lifecycle: when the current method is exhausted on a recoverable decline, the rescue
// stays active and moves to the next method, which gets its own budget — a fresh retry count and a
// fresh window, cut at 60 days after the hand-off (domain/cascade.ts). The card network rules apply
// to each method's own card (its fingerprint), as they do to any attempt.

/** What recovery.* events say about the hand-off and the card an attempt charged (never its token). */
export function recoveryFactsOf(ctx: AttemptContext, attempt: AttemptRow): RecoveryFacts {
  return {
    recoveryId: ctx.recovery?.id ?? null,
    paymentMethod: {
      type: attempt.payment_method_type,
      brand: attempt.card_brand,
      last4: attempt.card_last4,
      fingerprint: attempt.card_fingerprint,
      position: attempt.payment_method_position,
    },
  };
}

/** The next attempt, on another payment method: its card, its gateway. */
function methodAttemptRow(previous: AttemptRow, plannedAt: Date, method: RescuePaymentMethodRow): Insertable<AttemptsTable> {
  return {
    ...nextAttemptRow(previous, plannedAt),
    card_fingerprint: method.fingerprint,
    card_brand: method.brand,
    card_last4: method.last4,
    // Another card: the method rows do not keep its funding or country, so unknown (not the previous card's).
    card_funding: null,
    card_country: null,
    gateway: method.gateway,
    payment_method_type: method.type,
    payment_method_position: method.position,
  };
}

/**
 * The rescue would end here: if a next payment method exists and the end is not a hard decline,
 * keep the rescue active on that method instead, its first charge as soon as allowed. Null: end.
 */
export function moveToNextMethod(
  c: { ctx: AttemptContext; at: Date; attempt: AttemptRow },
  failed: AttemptResultWrite,
  payment: PaymentWrite | null,
  retriesMade: number,
  reason: StopReason,
  decline: DeclineInfo | null,
): AttemptConsequences | null {
  const { ctx, at } = c;
  const rescue = ctx.rescue;
  if (!rescue || !movesToNextMethod(reason, decline)) return null;
  const next = ctx.methods.find((m) => m.position === rescue.payment_method_position + 1);
  if (!next) return null;
  const windowEndsAt = methodWindowEnd(at, rescue.retry_window_days, rescue.started_at);
  const firstAt = firstChargeAt(at, ctx.customer?.timezone ?? 'UTC');
  if (firstAt.getTime() > windowEndsAt.getTime()) return null;
  return {
    attempt: failed,
    payment: {
      id: ctx.payment.id,
      account_id: ctx.payment.account_id,
      status: 'requires_rescue',
      failure_code: payment?.failure_code ?? ctx.payment.failure_code,
      failure_message: payment?.failure_message ?? ctx.payment.failure_message,
      payment_method: next.token,
      updated_at: at,
    },
    rescueInsert: null,
    rescueUpdate: {
      payment_id: rescue.payment_id,
      account_id: rescue.account_id,
      status: 'active',
      retries_made: retriesMade,
      schedule: plannedRetries([firstAt], retriesMade),
      end_reason: null,
      ended_at: null,
      payment_method_position: next.position,
      method_started_at: at,
      // The first charge of a card that never declined is not one of its retries.
      method_retries_base: retriesMade + 1,
      window_ends_at: windowEndsAt,
    },
    nextAttempt: methodAttemptRow(c.attempt, firstAt, next),
    events: [],
  };
}

export interface HandOffFailure {
  /** The payment's first attempt, inserted as processing and claimed by the caller. */
  attempt: AttemptRow;
  ctx: AttemptContext;
  at: Date;
  /** The merchant's decline, classified and adjusted for the wallet type. */
  decline: DeclineInfo;
  policy: RescuePolicy;
  /** A card network rule forbids retrying the primary card within its window. */
  primaryBlocked: boolean;
  /** Set when the account plans automatic schedules with the learned model (predict/planning.ts). */
  learned?: LearnedContext | undefined;
}

/**
 * The consequences of a hand-off's first attempt, which failed elsewhere and is only recorded (no
 * charge): a hard decline is blocked; otherwise the rescue starts on the primary, or — when the
 * primary may not be retried — on the first fallback; with neither, the hand-off is blocked.
 */
export function handOffConsequences(h: HandOffFailure): AttemptConsequences {
  const { attempt, ctx, at, decline, policy } = h;
  const failed: AttemptResultWrite = {
    id: attempt.id,
    account_id: attempt.account_id,
    claimed_by: attempt.claimed_by ?? '',
    status: 'failed',
    attempted_at: at,
    planned_at: attempt.planned_at,
    decline_code: decline.code,
    decline_category: decline.category,
    advice_code: null,
    failure_message: decline.message,
    transaction_id: null,
    account_updater_checked: false,
    card_was_updated: false,
    gateway_errors: 0,
  };
  const payment: PaymentWrite = {
    id: ctx.payment.id,
    account_id: ctx.payment.account_id,
    status: 'failed',
    failure_code: decline.code,
    failure_message: decline.message,
    payment_method: ctx.payment.payment_method,
    updated_at: at,
  };
  const c = { ctx, at };
  const facts = factsOf(ctx, attempt);
  const ended = (events: ReturnType<typeof recoveryBlocked>[]): AttemptConsequences => ({
    attempt: failed,
    payment,
    rescueInsert: null,
    rescueUpdate: null,
    nextAttempt: null,
    events: eventsAt(c, events),
  });
  if (decline.category === 'hard') {
    return ended([recoveryBlocked(facts, { declineCode: decline.code, reason: 'hard_decline', recommendation: decline.recommendation, attempts: 1 })]);
  }
  const timezone = ctx.customer?.timezone ?? 'UTC';
  const windowEndsAt = windowEnd(at, policy.retryWindowDays);
  const rescue: Omit<Insertable<RescuesTable>, 'window_ends_at' | 'schedule'> = {
    payment_id: ctx.payment.id,
    account_id: ctx.payment.account_id,
    status: 'active',
    max_retries: policy.maxRetries,
    retry_window_days: policy.retryWindowDays,
    retry_schedule: policy.schedule.kind,
    custom_schedule_days: JSON.stringify(policy.schedule.kind === 'custom' ? policy.schedule.days : null),
    notify_customer: policy.notifyCustomer,
    check_account_updater: policy.checkAccountUpdater,
    retries_made: 0,
    end_reason: null,
    started_at: at,
    ended_at: null,
  };
  const plexyFacts = factsOf(ctx);
  if (!h.primaryBlocked) {
    const budget = { maxRetries: policy.maxRetries, retriesMade: 0, startedAt: at, windowEndsAt, schedule: policy.schedule, timezone };
    // The same planner as a charge's first failure (outcome.ts): learned when the account uses it.
    const chosen = plannerFor(h);
    const decision = decideAfterFailure(decline, at, budget, chosen.plan);
    if (decision.kind === 'retry') {
      return {
        attempt: failed,
        payment: { ...payment, status: 'requires_rescue' },
        rescueInsert: { ...rescue, window_ends_at: windowEndsAt, schedule: JSON.stringify(plannedRetries(decision.plan, 0, chosen.slots)) },
        rescueUpdate: null,
        nextAttempt: nextAttemptRow(attempt, decision.plan[0]!, chosen.slots.get(decision.plan[0]!.getTime())?.p ?? null),
        events: eventsAt(c, [rescueStarted(plexyFacts, decline.code, policy.maxRetries, decision.plan)]),
      };
    }
  }
  const next = ctx.methods.find((m) => m.position === 1);
  const firstAt = firstChargeAt(at, timezone);
  const nextWindowEndsAt = methodWindowEnd(at, policy.retryWindowDays, at);
  if (next && firstAt.getTime() <= nextWindowEndsAt.getTime()) {
    return {
      attempt: failed,
      payment: { ...payment, status: 'requires_rescue', payment_method: next.token },
      rescueInsert: {
        ...rescue,
        window_ends_at: nextWindowEndsAt,
        schedule: JSON.stringify(plannedRetries([firstAt], 0)),
        payment_method_position: next.position,
        method_started_at: at,
        method_retries_base: 1,
      },
      rescueUpdate: null,
      nextAttempt: methodAttemptRow(attempt, firstAt, next),
      events: eventsAt(c, [rescueStarted(plexyFacts, decline.code, policy.maxRetries, [firstAt])]),
    };
  }
  if (!h.primaryBlocked) return ended([]);
  return ended([recoveryBlocked(facts, { declineCode: decline.code, reason: 'network_rule', recommendation: recommendationFor('network_rule', decline), attempts: 1 })]);
}
