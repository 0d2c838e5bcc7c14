import { firstChargeAt } from '../domain/schedule-policy.ts';
import type { CardDetails } from '../gateways/gateway.ts';
import { cardColumns } from './first-attempt.ts';
import type { AttemptConsequences } from '../store/batch-writes.ts';
import type { AttemptRow, PlannedRetry } from '../store/schema.ts';

// A declined charge whose answer names a new payment method (the http gateway's
// `updated_payment_method`: the merchant's own updater or customer replaced the card on file). The
// new card is the fix a dead card waits for (domain/dead-card.ts): the payment takes it, and when the
// rescue goes on with this payment method its next retry moves to the earliest allowed moment (the
// minimum gap, outside quiet hours) on the new card, marked `card_was_updated` — as the
// update-payment page does (engine/dunning-new-card.ts). No retry is added; the budget stays.

export interface AnsweredNewCard {
  attempt: AttemptRow;
  at: Date;
  timezone: string;
  token: string;
  card: CardDetails;
}

export function withAnsweredNewCard(out: AttemptConsequences, n: AnsweredNewCard): AttemptConsequences {
  const payment = out.payment ? { ...out.payment, payment_method: n.token } : null;
  const next = out.nextAttempt;
  // The rescue ended (or moved on to a fallback method): the new card is only kept on the payment.
  if (!next || (next.payment_method_position ?? 0) !== n.attempt.payment_method_position) {
    return out.nextAttempt ? out : { ...out, payment };
  }
  const planned = next.planned_at instanceof Date ? next.planned_at : new Date(String(next.planned_at));
  const soon = firstChargeAt(n.at, n.timezone);
  const retryAt = soon.getTime() < planned.getTime() ? soon : planned;
  const moveFirst = (schedule: PlannedRetry[]): PlannedRetry[] =>
    schedule.map((r, i) => (i === 0 ? { retry_number: r.retry_number, scheduled_at: retryAt.toISOString() } : r));
  return {
    ...out,
    payment,
    nextAttempt: {
      ...next,
      planned_at: retryAt,
      predicted_p: null,
      ...cardColumns(n.card),
      card_was_updated: true,
    },
    rescueInsert: out.rescueInsert
      ? { ...out.rescueInsert, schedule: JSON.stringify(moveFirst(JSON.parse(String(out.rescueInsert.schedule)) as PlannedRetry[])) }
      : null,
    rescueUpdate: out.rescueUpdate ? { ...out.rescueUpdate, schedule: moveFirst(out.rescueUpdate.schedule) } : null,
    events: out.events?.map((e) =>
      e.type === 'payment.rescue_started' ? { ...e, data: withFirstRetryAt(e.data as Record<string, unknown>, retryAt) } : e,
    ),
  };
}

function withFirstRetryAt(data: Record<string, unknown>, at: Date): Record<string, unknown> {
  const schedule = data['rescue_schedule'] as Record<string, unknown> | undefined;
  if (!schedule) return data;
  return { ...data, rescue_schedule: { ...schedule, first_retry_at: at.toISOString().replace(/\.\d{3}Z$/, 'Z') } };
}
