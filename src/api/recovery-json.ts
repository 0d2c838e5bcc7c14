import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { CardBrand } from '../domain/decline-types.ts';
import { DEFAULT_GATEWAY } from '../domain/gateway-routing.ts';
import type { RecoveryRecord } from '../store/recoveries.ts';
import type { PlannedRetry } from '../store/schema.ts';
import { iso } from './payment-json.ts';

// A hand-off as the Revtain API shows it: camelCase like the seed, one shape in every status.

/**
 * processing (the hand-off is being recorded), queued (retries planned), retrying (a retry is with
 * the gateway), recovered, blocked (never retried, or a card network rule stopped it), failed (the
 * budget, window or fallbacks ran out), cancelled.
 */
export type RecoveryStatus = 'processing' | 'queued' | 'retrying' | 'recovered' | 'blocked' | 'failed' | 'cancelled';

export function recoveryStatus({ record }: RecoveryRecord): RecoveryStatus {
  const { payment, rescue } = record;
  if (payment.status === 'processing') return 'processing';
  if (payment.status === 'succeeded') return 'recovered';
  if (!rescue) return 'blocked';
  switch (rescue.status) {
    case 'active':
      return payment.status === 'rescue_in_progress' ? 'retrying' : 'queued';
    case 'recovered':
      return 'recovered';
    case 'cancelled':
      return 'cancelled';
    case 'exhausted':
      return rescue.end_reason === 'hard_decline' || rescue.end_reason === 'network_rule' ? 'blocked' : 'failed';
  }
}

export function recoveryJson(r: RecoveryRecord) {
  const { recovery, record, methods } = r;
  const { payment, rescue, attempts } = record;
  const status = recoveryStatus(r);
  const finished = attempts.filter((a) => a.status === 'succeeded' || a.status === 'failed');
  const won = attempts.find((a) => a.status === 'succeeded');
  const planned = rescue?.status === 'active' ? (rescue.schedule as PlannedRetry[]) : [];
  const policy = payment.rescue_policy as RescuePolicy | null;
  const current = rescue?.payment_method_position ?? 0;
  const primary = methods[0];
  const decline = classifyDecline({ code: recovery.original_decline_code, brand: (primary?.brand ?? 'unknown') as CardBrand, count: false });
  const firstFailure = attempts.find((a) => a.number === 1);
  return {
    id: recovery.id,
    object: 'recovery' as const,
    status,
    amount: payment.amount,
    currency: payment.currency,
    originalDeclineCode: recovery.original_decline_code,
    declineCategory: firstFailure?.decline_category ?? decline.category,
    lastDeclineCode: payment.failure_code,
    paymentMethodType: recovery.payment_method_type,
    cardOrigin: recovery.card_origin,
    idempotencyKey: recovery.idempotency_key,
    transactionId: won?.transaction_id ?? null,
    attempts: finished.length,
    maxRetries: rescue?.max_retries ?? policy?.maxRetries ?? null,
    nextRetryAt: planned[0] ? iso(new Date(planned[0].scheduled_at)) : null,
    scheduledRetries: planned.map((p) => ({ retryNumber: p.retry_number, scheduledAt: iso(new Date(p.scheduled_at)) })),
    retryWindowEndsAt: rescue ? iso(rescue.window_ends_at) : null,
    endReason: rescue?.end_reason ?? (status === 'blocked' ? (decline.category === 'hard' ? 'hard_decline' : 'network_rule') : null),
    endedAt: iso(rescue?.ended_at ?? (status === 'blocked' && !rescue ? payment.updated_at : null)),
    experimentGroup: recovery.experiment_group,
    // As predicted when the hand-off arrived (domain/recovery-score.ts).
    prediction: { recoveryScore: Math.round((recovery.predicted_recovery ?? 0) * 1000) / 10, reasoning: recovery.prediction_reasoning },
    paymentMethods: methods.map((m) => ({
      position: m.position,
      type: m.type,
      gateway: m.gateway ?? DEFAULT_GATEWAY,
      brand: m.brand,
      last4: m.last4,
      fingerprint: m.fingerprint,
      status: methodStatus(m.position, current, status),
    })),
    history: finished.map((a) => ({
      attempt: a.number,
      attemptedAt: iso(a.attempted_at),
      result: a.status as 'succeeded' | 'failed',
      declineCode: a.status === 'failed' ? a.decline_code : null,
      // The first attempt failed at the merchant's own gateway; Rescue only recorded it.
      chargedBy: a.number === 1 ? ('merchant' as const) : ('rescue' as const),
      paymentMethod: a.payment_method_position,
      gateway: a.gateway ?? DEFAULT_GATEWAY,
    })),
    payment: payment.id,
    customer: payment.customer_id,
    metadata: payment.metadata,
    livemode: payment.livemode,
    createdAt: iso(recovery.created_at),
  };
}

function methodStatus(position: number, current: number, status: RecoveryStatus): 'pending' | 'active' | 'exhausted' | 'succeeded' | 'unused' {
  if (position < current) return 'exhausted';
  if (position > current) return status === 'queued' || status === 'retrying' || status === 'processing' ? 'pending' : 'unused';
  if (status === 'recovered') return 'succeeded';
  return status === 'queued' || status === 'retrying' || status === 'processing' ? 'active' : 'exhausted';
}
