import type { PaymentRecord } from '../store/payments.ts';
import type { AttemptRow, PlannedRetry, RescueRow } from '../store/schema.ts';
import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import { deadCardDecline } from '../domain/dead-card.ts';

// The payment as the Plexy seed shows it ("API Response with Auto Rescue"): the same keys, with
// null where a section does not apply, so typed clients see one shape in every status.

/** The seed's timestamp format, to the second: 2026-03-25T10:30:00Z. Every API object uses it. */
export function iso(d: Date): string;
export function iso(d: Date | null | undefined): string | null;
export function iso(d: Date | null | undefined): string | null {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

export function paymentJson({ payment, rescue, attempts }: PaymentRecord) {
  const finished = attempts.filter((a) => a.status === 'succeeded' || a.status === 'failed');
  return {
    id: payment.id,
    object: 'payment' as const,
    amount: payment.amount,
    currency: payment.currency,
    status: payment.status,
    customer: payment.customer_id,
    payment_method: payment.payment_method,
    payment_method_details: methodDetails(attempts),
    failure_code: payment.failure_code,
    failure_message: payment.failure_message,
    auto_rescue: autoRescueJson(payment.rescue_policy as RescuePolicy | null, rescue, finished.length, payment.status),
    rescue_schedule: rescue?.status === 'active' ? scheduleJson(rescue, attempts) : null,
    rescue_history: finished.map(historyEntry),
    off_session: payment.off_session,
    livemode: payment.livemode,
    metadata: payment.metadata,
    test_clock: payment.test_clock,
    // Only on a sandbox payment whose token the sandbox read differently from how it is written.
    ...(payment.sandbox_note ? { sandbox_note: payment.sandbox_note } : {}),
    created_at: iso(payment.created_at),
  };
}

/** The card the latest attempt charges, as people name it (brand and last 4), Stripe's shape: pages show this, never the token. */
function methodDetails(attempts: readonly AttemptRow[]) {
  const latest = attempts.reduce<AttemptRow | null>((a, b) => (a === null || b.number > a.number ? b : a), null);
  return latest ? { type: latest.payment_method_type, card: { brand: latest.card_brand, last4: latest.card_last4 } } : null;
}

/**
 * `status`: active (retries planned), recovered, exhausted (ended without the money), cancelled;
 * for payments that never entered a rescue: not_needed (first attempt succeeded), not_retryable
 * (hard decline), disabled (Auto Rescue off), pending (first attempt still running).
 */
function autoRescueJson(policy: RescuePolicy | null, rescue: RescueRow | null, attemptsMade: number, paymentStatus: string) {
  const maxRetries = rescue?.max_retries ?? policy?.maxRetries ?? null;
  const base = { enabled: policy !== null, attempts_made: attemptsMade, max_retries: maxRetries };
  if (!rescue) {
    const status = paymentStatus === 'processing' ? 'pending' : paymentStatus === 'succeeded' ? 'not_needed' : policy ? 'not_retryable' : 'disabled';
    return { ...base, status };
  }
  switch (rescue.status) {
    case 'active':
      return { ...base, status: 'active', retry_window_ends_at: iso(rescue.window_ends_at) };
    case 'recovered':
      return { ...base, status: 'recovered', recovered_at: iso(rescue.ended_at) };
    case 'exhausted':
      return { ...base, status: 'exhausted', ended_at: iso(rescue.ended_at), end_reason: rescue.end_reason };
    case 'cancelled':
      return { ...base, status: 'cancelled', cancelled_at: iso(rescue.ended_at) };
  }
}

function scheduleJson(rescue: RescueRow, attempts: readonly AttemptRow[]) {
  const planned = rescue.schedule as PlannedRetry[];
  const next = planned[0];
  return {
    next_retry_at: next ? iso(new Date(next.scheduled_at)) : null,
    retry_number: next?.retry_number ?? null,
    // The card needs new card data: the next retry is charged only once a new card arrives, and
    // next_retry_at is when Rescue checks for one again (domain/dead-card.ts).
    waiting_for_new_card: waitingForNewCard(attempts),
    // The learned schedule adds its predicted probability and a one-line reason to each retry.
    scheduled_retries: planned.map((p) => ({
      retry_number: p.retry_number,
      scheduled_at: iso(new Date(p.scheduled_at)),
      ...(p.predicted_p !== undefined ? { predicted_p: p.predicted_p, reason: p.reason ?? null } : {}),
    })),
  };
}

function waitingForNewCard(attempts: readonly AttemptRow[]): boolean {
  const planned = attempts.find((a) => a.status === 'planned');
  const last = attempts.filter((a) => a.status === 'failed' && a.decline_code !== null).at(-1);
  if (!planned || !last || planned.number === 1) return false;
  const lastDecline = { code: last.decline_code!, adviceCode: last.advice_code, brand: last.card_brand, fingerprint: last.card_fingerprint, paymentMethodType: last.payment_method_type };
  return deadCardDecline(lastDecline, { fingerprint: planned.card_fingerprint, cardWasUpdated: planned.card_was_updated }) !== null;
}

function historyEntry(a: AttemptRow) {
  return {
    attempt: a.number,
    attempted_at: iso(a.attempted_at),
    result: a.status as 'succeeded' | 'failed',
    ...(a.status === 'failed' ? { failure_code: a.decline_code } : {}),
  };
}
