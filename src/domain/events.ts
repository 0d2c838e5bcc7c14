// The events Rescue emits, with their payloads exactly as the seeds show them. Pure builders: the
// engine calls them with the rows it is about to write and stores the result in the same transaction.

/** Bumped when a payload changes shape; every event carries the version it was built with. */
export const API_VERSION = '2026-11-23';

export const EVENT_TYPES = [
  // Plexy Auto Rescue (seed 003)
  'payment.rescue_started',
  'payment.rescue_retry',
  'payment.rescue_succeeded',
  'payment.rescue_failed',
  'payment.rescue_cancelled',
  // Revtain (seed 004)
  'recovery.success',
  'recovery.failed',
  'recovery.blocked',
  'predict.risk.high',
  // PaymentRescue (seed 000): "Recovery Events Webhook — fired on successful recovery (for your CRM)"
  'recovery_event',
  // Rescue's own
  'webhook_endpoint.disabled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface NewEvent {
  type: EventType;
  objectId: string | null;
  data: Record<string, unknown>;
}

export interface PaymentFacts {
  id: string;
  customer: string | null;
  amount: number;
  currency: string;
  /** What Revtain's recovery.* events add; the Plexy payment.* payloads never carry it. */
  recovery?: RecoveryFacts;
}

/** The payment method an attempt charged, described without its token (never a secret). */
export interface PaymentMethodFacts {
  type: string;
  brand: string;
  last4: string | null;
  fingerprint: string;
  /** Position in the hand-off's list: 0 the primary, 1.. the fallbacks. */
  position: number;
}

export interface RecoveryFacts {
  /** The hand-off's id (rec_…); null for a payment created through /v2/payments. */
  recoveryId: string | null;
  paymentMethod: PaymentMethodFacts | null;
}

/** Revtain's additions to every recovery.* payload, always present so the shape is one. */
function recoveryFields(p: PaymentFacts) {
  return { recoveryId: p.recovery?.recoveryId ?? null, paymentMethod: p.recovery?.paymentMethod ?? null };
}

const DAY_MS = 86_400_000;
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function rescueStarted(p: PaymentFacts, failureCode: string, maxRetries: number, plan: readonly Date[]): NewEvent {
  return {
    type: 'payment.rescue_started',
    objectId: p.id,
    data: {
      payment: p.id,
      customer: p.customer,
      amount: p.amount,
      currency: p.currency,
      failure_code: failureCode,
      rescue_schedule: { max_retries: maxRetries, first_retry_at: plan[0] ? iso(plan[0]) : null, final_retry_at: plan.at(-1) ? iso(plan.at(-1)!) : null },
    },
  };
}

export function rescueRetry(p: PaymentFacts, retryNumber: number, maxRetries: number, updaterChecked: boolean, cardUpdated: boolean): NewEvent {
  return {
    type: 'payment.rescue_retry',
    objectId: p.id,
    data: {
      payment: p.id,
      customer: p.customer,
      retry_number: retryNumber,
      attempts_remaining: Math.max(0, maxRetries - retryNumber),
      account_updater_checked: updaterChecked,
      card_was_updated: cardUpdated,
    },
  };
}

/** A recovery: Plexy's event, Revtain's and PaymentRescue's, one per integration style. */
export function rescueSucceeded(p: PaymentFacts, o: { retryNumber: number; totalAttempts: number; startedAt: Date; recoveredAt: Date; transactionId: string }): NewEvent[] {
  const daysToRecover = Math.round((o.recoveredAt.getTime() - o.startedAt.getTime()) / DAY_MS);
  return [
    {
      type: 'payment.rescue_succeeded',
      objectId: p.id,
      data: { payment: p.id, customer: p.customer, amount: p.amount, currency: p.currency, retry_number: o.retryNumber, total_attempts: o.totalAttempts, days_to_recover: daysToRecover },
    },
    {
      type: 'recovery.success',
      objectId: p.id,
      data: { paymentId: p.id, customerId: p.customer, amount: p.amount, currency: p.currency, transactionId: o.transactionId, attempts: o.totalAttempts, daysToRecover, recoveredAt: iso(o.recoveredAt), ...recoveryFields(p) },
    },
    {
      type: 'recovery_event',
      objectId: p.id,
      data: { event: 'payment_recovered', payment_id: p.id, customer_id: p.customer, amount_recovered: p.amount, currency: p.currency, attempts: o.totalAttempts, days_to_recover: daysToRecover, recovered_at: iso(o.recoveredAt) },
    },
  ];
}

export function rescueFailed(p: PaymentFacts, o: { totalAttempts: number; finalFailureCode: string; recommendation: string; reason: string }): NewEvent[] {
  return [
    {
      type: 'payment.rescue_failed',
      objectId: p.id,
      data: { payment: p.id, customer: p.customer, amount: p.amount, currency: p.currency, total_attempts: o.totalAttempts, final_failure_code: o.finalFailureCode, recommendation: o.recommendation },
    },
    {
      type: 'recovery.failed',
      objectId: p.id,
      data: { paymentId: p.id, customerId: p.customer, amount: p.amount, currency: p.currency, attempts: o.totalAttempts, finalDeclineCode: o.finalFailureCode, reason: o.reason, recommendation: o.recommendation, ...recoveryFields(p) },
    },
  ];
}

/** Recovery refused outright: a hard decline, or a card network rule that forbids another try. */
export function recoveryBlocked(p: PaymentFacts, o: { declineCode: string; reason: 'hard_decline' | 'network_rule'; recommendation: string; attempts: number }): NewEvent {
  return {
    type: 'recovery.blocked',
    objectId: p.id,
    data: { paymentId: p.id, customerId: p.customer, amount: p.amount, currency: p.currency, declineCode: o.declineCode, reason: o.reason, recommendation: o.recommendation, attempts: o.attempts, ...recoveryFields(p) },
  };
}

export function rescueCancelled(p: PaymentFacts, totalAttempts: number): NewEvent {
  return {
    type: 'payment.rescue_cancelled',
    objectId: p.id,
    data: { payment: p.id, customer: p.customer, amount: p.amount, currency: p.currency, total_attempts: totalAttempts },
  };
}
