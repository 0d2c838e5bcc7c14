import type { Insertable } from 'kysely';
import type { Scope } from '../store/payments.ts';
import type { AttemptsTable } from '../store/schema.ts';
import { attemptIdempotencyKey } from './outcome.ts';

/**
 * A payment's first attempt, already claimed by the process that creates it (the API charges it at
 * once, or a hand-off records it as failed elsewhere). A crash leaves it to a worker's reconciliation.
 */
/** The card an attempt charges, as the attempt row stores it (network limits, card facts). */
export type AttemptCard = { fingerprint: string; brand: string; last4: string | null; funding?: string | null; country?: string | null };

export function cardColumns(card: AttemptCard) {
  return {
    card_fingerprint: card.fingerprint,
    card_brand: card.brand,
    card_last4: card.last4,
    card_funding: card.funding ?? null,
    card_country: card.country ?? null,
  };
}

export function firstAttemptRow(a: {
  id: string;
  scope: Scope;
  paymentId: string;
  at: Date;
  claimedBy: string;
  leaseUntil: Date;
  card: AttemptCard;
  gateway: string | null;
  testClock: string | null;
  paymentMethodType?: string;
}): Insertable<AttemptsTable> {
  return {
    id: a.id,
    account_id: a.scope.accountId,
    livemode: a.scope.livemode,
    payment_id: a.paymentId,
    number: 1,
    status: 'processing',
    planned_at: a.at,
    claimed_by: a.claimedBy,
    lease_expires_at: a.leaseUntil,
    attempted_at: null,
    idempotency_key: attemptIdempotencyKey(a.id),
    decline_code: null,
    decline_category: null,
    advice_code: null,
    failure_message: null,
    transaction_id: null,
    ...cardColumns(a.card),
    test_clock: a.testClock,
    predicted_p: null,
    gateway: a.gateway,
    ...(a.paymentMethodType ? { payment_method_type: a.paymentMethodType, payment_method_position: 0 } : {}),
  };
}
