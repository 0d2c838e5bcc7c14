import type { Insertable } from 'kysely';
import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { DeclineInfo } from '../domain/decline-types.ts';
import { decideAfterFailure, recommendationFor, windowEnd, type Planner, type StopReason } from '../domain/rescue.ts';
import { recoveryBlocked, rescueFailed, rescueStarted, rescueSucceeded, type NewEvent, type PaymentFacts } from '../domain/events.ts';
import type { EventToWrite } from '../store/events.ts';
import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import { policyFor } from '../domain/schedule-policy.ts';
import type { ChargeResult } from '../gateways/gateway.ts';
import { newId } from '../ids.ts';
import type { AttemptConsequences, AttemptResultWrite } from '../store/batch-writes.ts';
import type { AttemptContext } from '../store/attempts.ts';
import type { AttemptRow, AttemptsTable, PlannedRetry, RescuesTable } from '../store/schema.ts';
import { strategyForPaymentMethod } from '../domain/wallets.ts';
import { moveToNextMethod, recoveryFactsOf } from './cascade.ts';
import { learnedPlan, type LearnedContext, type PlannedSlot } from '../predict/learned-policy.ts';

// Turns one gateway answer into every row change it causes, following the lifecycle in DESIGN.md.

// Plans are pure functions of their input, and a test clock moving thousands of rescues that
// failed together asks for the same plan again and again; a bounded memo saves that work.
const PLAN_MEMO_LIMIT = 10_000;
const planMemo = new Map<string, Date[]>();

export const planner: Planner = (input) => {
  const key = [
    input.decline.code, input.decline.category, input.decline.strategy, input.decline.adviceCode ?? '',
    input.failedAt.getTime(), input.rescueStartedAt.getTime(), input.windowEndsAt.getTime(),
    input.retriesLeft, input.retriesMade, input.timezone, JSON.stringify(input.schedule),
  ].join('|');
  const hit = planMemo.get(key);
  if (hit) return hit.map((d) => new Date(d.getTime()));
  const plan = policyFor(input.schedule).plan(input);
  if (planMemo.size >= PLAN_MEMO_LIMIT) planMemo.clear();
  planMemo.set(key, plan);
  return plan.map((d) => new Date(d.getTime()));
};

/**
 * Backoff for a gateway that gave no answer, re-asked under the same idempotency key (Recurly
 * retries communication errors at 4 h intervals; research/retry-facts.md §1); after the last step
 * every 4 h. An unanswered attempt is never replaced by a new attempt (a new key could charge a
 * second time if the first call did charge): it is re-asked while the rescue window is open, and
 * after that the rescue ends (see `unanswered`).
 */
export const GATEWAY_RETRY_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000, 4 * 3_600_000];

export interface Charged {
  attempt: AttemptRow;
  ctx: AttemptContext;
  at: Date;
  result: ChargeResult;
  paymentMethod: string;
  accountUpdaterChecked: boolean;
  cardWasUpdated: boolean;
  /** Set when the account plans automatic schedules with the learned model (predict/planning.ts). */
  learned?: LearnedContext | undefined;
}

/**
 * The planner for one outcome: the learned schedule for an automatic rescue of an account that
 * turned it on, else the rule-based/custom one. Slots keep the learned plan's probability and reason
 * by instant, for the attempt rows and `scheduled_retries`. Every entry point plans a first schedule
 * through here: a charge's outcome, a hand-off (cascade.ts) and a Stripe failure (stripe-rescue.ts).
 */
export function plannerFor(c: Pick<Charged, 'learned'>): { plan: Planner; slots: Map<number, PlannedSlot> } {
  const slots = new Map<number, PlannedSlot>();
  const learned = c.learned;
  if (!learned) return { plan: planner, slots };
  return {
    slots,
    plan: (input) => {
      if (input.schedule.kind !== 'automatic') return planner(input);
      const out = learnedPlan(input, learned);
      for (const s of out) slots.set(s.at.getTime(), s);
      return out.map((s) => s.at);
    },
  };
}

export function consequencesOfCharge(c: Charged): AttemptConsequences {
  const { attempt, ctx, at, result } = c;
  const base: AttemptResultWrite = {
    id: attempt.id,
    account_id: attempt.account_id,
    claimed_by: attempt.claimed_by ?? '',
    status: result.status === 'succeeded' ? 'succeeded' : 'failed',
    attempted_at: at,
    planned_at: attempt.planned_at,
    decline_code: null,
    decline_category: null,
    advice_code: null,
    failure_message: null,
    transaction_id: null,
    account_updater_checked: c.accountUpdaterChecked,
    card_was_updated: c.cardWasUpdated,
    gateway_errors: attempt.gateway_errors,
  };
  if (result.status === 'unknown') return unanswered(c, base, result.reason);
  if (result.status === 'succeeded') {
    return {
      attempt: { ...base, transaction_id: result.transactionId },
      payment: { id: ctx.payment.id, account_id: ctx.payment.account_id, status: 'succeeded', failure_code: null, failure_message: null, payment_method: c.paymentMethod, updated_at: at },
      rescueInsert: null,
      rescueUpdate: ctx.rescue
        ? { payment_id: ctx.rescue.payment_id, account_id: ctx.rescue.account_id, status: 'recovered', retries_made: ctx.rescue.retries_made + 1, schedule: [], end_reason: null, ended_at: at }
        : null,
      nextAttempt: null,
      events: ctx.rescue
        ? eventsAt(c, rescueSucceeded(factsOf(ctx, attempt), { retryNumber: attempt.number - 1, totalAttempts: attempt.number, startedAt: ctx.rescue.started_at, recoveredAt: at, transactionId: result.transactionId }))
        : [],
    };
  }
  const decline = strategyForPaymentMethod(classifyDecline({ code: result.declineCode, adviceCode: result.adviceCode, brand: attempt.card_brand as never }), attempt.payment_method_type);
  const failed: AttemptResultWrite = {
    ...base,
    decline_code: decline.code,
    decline_category: decline.category,
    advice_code: result.adviceCode,
    // One wording per code whatever the gateway (the seed's messages); the gateway's own text only
    // for codes we do not know.
    failure_message: decline.known ? decline.message : result.message || decline.message,
  };
  return attempt.number === 1 ? afterFirstFailure(c, failed, decline) : afterRetryFailure(c, failed, decline);
}

/**
 * The gateway gave no answer, so the charge may or may not have happened under this attempt's key.
 * Ask again later under the SAME key (the payment keeps its status meanwhile) for as long as the
 * rescue window is open — the window the policy gives from the payment's creation when the first
 * attempt is the one unanswered, the fixed backoff steps without Auto Rescue. Past that, the attempt
 * counts as a technical failure and the payment fails with no further attempt: a new attempt would
 * carry a new key and could charge a second time.
 */
function unanswered(c: Charged, base: AttemptResultWrite, reason: string): AttemptConsequences {
  const { attempt, ctx, at } = c;
  const errors = attempt.gateway_errors + 1;
  const delay = GATEWAY_RETRY_DELAYS_MS[Math.min(errors, GATEWAY_RETRY_DELAYS_MS.length) - 1]!;
  const next = new Date(at.getTime() + delay);
  const policy = ctx.payment.rescue_policy as RescuePolicy | null;
  const deadline = ctx.rescue ? ctx.rescue.window_ends_at : policy ? windowEnd(ctx.payment.created_at, policy.retryWindowDays) : null;
  const askAgain = deadline ? next.getTime() <= deadline.getTime() : errors < GATEWAY_RETRY_DELAYS_MS.length;
  if (askAgain) {
    return {
      attempt: { ...base, status: 'planned', attempted_at: null, planned_at: next, failure_message: reason, gateway_errors: errors },
      payment: null,
      rescueInsert: null,
      rescueUpdate: null,
      nextAttempt: null,
    };
  }
  const decline = classifyDecline({ code: 'gateway_error', adviceCode: null, brand: attempt.card_brand as never, count: false });
  const failed: AttemptResultWrite = { ...base, status: 'failed', decline_code: decline.code, decline_category: decline.category, failure_message: reason, gateway_errors: errors };
  const payment = { ...paymentWrite(c, decline, reason), status: 'failed' as const };
  // No fallback after an unanswered attempt: it may have charged.
  if (ctx.rescue && attempt.number > 1) return endRescue(c, failed, payment, ctx.rescue.retries_made + 1, 'window_closed', decline, { cascade: false });
  return { attempt: failed, payment, rescueInsert: null, rescueUpdate: null, nextAttempt: null };
}

function afterFirstFailure(c: Charged, failed: AttemptResultWrite, decline: DeclineInfo): AttemptConsequences {
  const { ctx, at } = c;
  const policy = ctx.payment.rescue_policy as RescuePolicy | null;
  const payment = paymentWrite(c, decline, failed.failure_message);
  if (!policy) return { attempt: failed, payment: { ...payment, status: 'failed' }, rescueInsert: null, rescueUpdate: null, nextAttempt: null };
  const budget = {
    maxRetries: policy.maxRetries,
    retriesMade: 0,
    startedAt: at,
    windowEndsAt: windowEnd(at, policy.retryWindowDays),
    schedule: policy.schedule,
    timezone: ctx.customer?.timezone ?? 'UTC',
  };
  const chosen = plannerFor(c);
  const decision = decideAfterFailure(decline, at, budget, chosen.plan);
  if (decision.kind === 'stop') {
    const events = decision.reason === 'hard_decline' ? [recoveryBlocked(factsOf(ctx, c.attempt), { declineCode: decline.code, reason: 'hard_decline', recommendation: decline.recommendation, attempts: 1 })] : [];
    return { attempt: failed, payment: { ...payment, status: 'failed' }, rescueInsert: null, rescueUpdate: null, nextAttempt: null, events: eventsAt(c, events) };
  }
  const rescue: Insertable<RescuesTable> = {
    payment_id: ctx.payment.id,
    account_id: ctx.payment.account_id,
    status: 'active',
    max_retries: policy.maxRetries,
    retry_window_days: policy.retryWindowDays,
    window_ends_at: budget.windowEndsAt,
    retry_schedule: policy.schedule.kind,
    custom_schedule_days: JSON.stringify(policy.schedule.kind === 'custom' ? policy.schedule.days : null),
    notify_customer: policy.notifyCustomer,
    check_account_updater: policy.checkAccountUpdater,
    retries_made: 0,
    schedule: JSON.stringify(plannedRetries(decision.plan, 0, chosen.slots)),
    end_reason: null,
    started_at: at,
    ended_at: null,
  };
  return {
    attempt: failed,
    payment: { ...payment, status: 'requires_rescue' },
    rescueInsert: rescue,
    rescueUpdate: null,
    nextAttempt: nextAttemptRow(c.attempt, decision.plan[0]!, chosen.slots.get(decision.plan[0]!.getTime())?.p ?? null),
    events: eventsAt(c, [rescueStarted(factsOf(ctx), decline.code, policy.maxRetries, decision.plan)]),
  };
}

function afterRetryFailure(c: Charged, failed: AttemptResultWrite, decline: DeclineInfo): AttemptConsequences {
  const { ctx, at } = c;
  const rescue = ctx.rescue!;
  const retriesMade = rescue.retries_made + 1;
  const chosen = plannerFor(c);
  const decision = decideAfterFailure(
    decline,
    at,
    {
      // Each payment method has its own budget (engine/cascade.ts); the primary's base is 0.
      maxRetries: rescue.max_retries,
      retriesMade: retriesMade - rescue.method_retries_base,
      startedAt: rescue.method_started_at ?? rescue.started_at,
      windowEndsAt: rescue.window_ends_at,
      schedule: rescue.retry_schedule === 'custom' ? { kind: 'custom', days: (rescue.custom_schedule_days as number[]) ?? [] } : { kind: 'automatic' },
      timezone: ctx.customer?.timezone ?? 'UTC',
    },
    chosen.plan,
  );
  const payment = paymentWrite(c, decline, failed.failure_message);
  if (decision.kind === 'stop') return endRescue(c, failed, payment, retriesMade, decision.reason, decline);
  return {
    attempt: failed,
    payment: { ...payment, status: 'requires_rescue' },
    rescueInsert: null,
    rescueUpdate: { payment_id: rescue.payment_id, account_id: rescue.account_id, status: 'active', retries_made: retriesMade, schedule: plannedRetries(decision.plan, retriesMade, chosen.slots), end_reason: null, ended_at: null },
    nextAttempt: nextAttemptRow(c.attempt, decision.plan[0]!, chosen.slots.get(decision.plan[0]!.getTime())?.p ?? null),
  };
}

/** The rescue ends without the money: the payment fails and the merchant is told why. */
export function endRescue(
  c: Pick<Charged, 'ctx' | 'at'> & { attempt?: AttemptRow },
  attempt: AttemptResultWrite,
  payment: AttemptConsequences['payment'],
  retriesMade: number,
  reason: StopReason,
  decline: DeclineInfo | null,
  o: { cascade?: boolean } = {},
): AttemptConsequences {
  // A payment method exhausted on a recoverable decline hands over to the next one, if any.
  const next = o.cascade !== false && c.attempt ? moveToNextMethod({ ...c, attempt: c.attempt }, attempt, payment, retriesMade, reason, decline) : null;
  if (next) return next;
  const rescue = c.ctx.rescue!;
  const facts = factsOf(c.ctx, c.attempt);
  const finalCode = decline?.code ?? c.ctx.payment.failure_code ?? 'unknown';
  const recommendation = recommendationFor(reason, decline);
  const events: NewEvent[] = rescueFailed(facts, { totalAttempts: retriesMade + 1, finalFailureCode: finalCode, recommendation, reason });
  if (reason === 'hard_decline' || reason === 'network_rule') events.push(recoveryBlocked(facts, { declineCode: finalCode, reason, recommendation, attempts: retriesMade + 1 }));
  return {
    attempt,
    payment: payment ? { ...payment, status: 'failed' } : null,
    rescueInsert: null,
    rescueUpdate: { payment_id: rescue.payment_id, account_id: rescue.account_id, status: 'exhausted', retries_made: retriesMade, schedule: [], end_reason: reason, ended_at: c.at },
    nextAttempt: null,
    events: eventsAt(c, events),
  };
}

/** The payment as events name it; with the attempt, also the hand-off and the card it charged. */
export function factsOf(ctx: AttemptContext, attempt?: AttemptRow): PaymentFacts {
  const facts: PaymentFacts = { id: ctx.payment.id, customer: ctx.payment.customer_id, amount: ctx.payment.amount, currency: ctx.payment.currency };
  if (attempt) facts.recovery = recoveryFactsOf(ctx, attempt);
  return facts;
}

export function eventsAt(c: Pick<Charged, 'ctx' | 'at'>, events: readonly NewEvent[]): EventToWrite[] {
  return events.map((e) => ({ ...e, accountId: c.ctx.payment.account_id, livemode: c.ctx.payment.livemode, createdAt: c.at }));
}

function paymentWrite(c: Charged, decline: DeclineInfo, message: string | null) {
  return {
    id: c.ctx.payment.id,
    account_id: c.ctx.payment.account_id,
    status: 'failed' as const,
    failure_code: decline.code,
    failure_message: message ?? decline.message,
    payment_method: c.paymentMethod,
    updated_at: c.at,
  };
}

export function plannedRetries(plan: readonly Date[], retriesMade: number, slots?: ReadonlyMap<number, PlannedSlot>): PlannedRetry[] {
  return plan.map((at, i) => {
    const slot = slots?.get(at.getTime());
    const planned: PlannedRetry = { retry_number: retriesMade + 1 + i, scheduled_at: at.toISOString() };
    if (slot) {
      planned.predicted_p = Number(slot.p.toFixed(4));
      planned.reason = slot.reason;
    }
    return planned;
  });
}

export function nextAttemptRow(previous: AttemptRow, plannedAt: Date, predictedP: number | null = null): Insertable<AttemptsTable> {
  const id = newId('att');
  return {
    id,
    account_id: previous.account_id,
    livemode: previous.livemode,
    payment_id: previous.payment_id,
    number: previous.number + 1,
    status: 'planned',
    planned_at: plannedAt,
    claimed_by: null,
    lease_expires_at: null,
    attempted_at: null,
    idempotency_key: attemptIdempotencyKey(id),
    decline_code: null,
    decline_category: null,
    advice_code: null,
    failure_message: null,
    transaction_id: null,
    card_fingerprint: previous.card_fingerprint,
    card_brand: previous.card_brand,
    test_clock: previous.test_clock,
    predicted_p: predictedP,
    gateway: previous.gateway,
    card_last4: previous.card_last4,
    card_funding: previous.card_funding,
    card_country: previous.card_country,
    payment_method_type: previous.payment_method_type,
    payment_method_position: previous.payment_method_position,
  };
}

/** The gateway idempotency key is a function of the attempt, never of the call. */
export function attemptIdempotencyKey(attemptId: string): string {
  return `rescue_${attemptId}`;
}
