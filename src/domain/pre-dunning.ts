// Pre-dunning: a card that will expire before the customer's next expected payment is a failure
// known in advance. The customer is told ahead of it (PRE_DUNNING_LEAD_DAYS before the earlier of
// the card's expiry and the next payment) so the next charge does not fail. Pure: no I/O, no clock.

export const PRE_DUNNING_LEAD_DAYS = 14;
const DAY_MS = 86_400_000;

/** The first instant a card no longer works: it is valid through the last day of its expiry month. */
export function cardExpiresAt(expMonth: number, expYear: number): Date {
  return new Date(Date.UTC(expYear, expMonth, 1));
}

/**
 * When the customer's next payment is expected: the last one plus the interval between the last two
 * (a subscription's period), or one calendar month after the last when there is only one (or the
 * interval is implausible for a subscription: under a week or over 13 months).
 */
export function nextExpectedPayment(paidAt: readonly Date[]): Date {
  const sorted = [...paidAt].sort((a, b) => a.getTime() - b.getTime());
  const last = sorted[sorted.length - 1]!;
  const prev = sorted[sorted.length - 2];
  const gap = prev ? last.getTime() - prev.getTime() : 0;
  if (gap >= 7 * DAY_MS && gap <= 400 * DAY_MS) return new Date(last.getTime() + gap);
  const next = new Date(last);
  next.setUTCMonth(next.getUTCMonth() + 1);
  return next;
}

export interface PreDunningPlan {
  /** When to tell the customer; null: the card outlives the next payment, nothing to say. */
  sendAt: Date | null;
  nextPaymentAt: Date;
  cardExpiresAt: Date;
}

export function planPreDunning(card: { expMonth: number | null; expYear: number | null }, paidAt: readonly Date[]): PreDunningPlan | null {
  if (!card.expMonth || !card.expYear || paidAt.length === 0) return null;
  const expires = cardExpiresAt(card.expMonth, card.expYear);
  const next = nextExpectedPayment(paidAt);
  if (expires.getTime() > next.getTime()) return { sendAt: null, nextPaymentAt: next, cardExpiresAt: expires };
  const lastPaid = Math.max(...paidAt.map((d) => d.getTime()));
  const ahead = Math.min(expires.getTime(), next.getTime()) - PRE_DUNNING_LEAD_DAYS * DAY_MS;
  return { sendAt: new Date(Math.max(ahead, lastPaid)), nextPaymentAt: next, cardExpiresAt: expires };
}
