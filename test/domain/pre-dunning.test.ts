import { describe, expect, it } from 'vitest';
import { cardExpiresAt, nextExpectedPayment, planPreDunning } from '../../src/domain/pre-dunning.ts';

// When a card that expires before the next payment is told about (docs/dunning.md, Pre-dunning).

const d = (iso: string) => new Date(iso);

describe('pre-dunning', () => {
  it('a card works through the last day of its expiry month', () => {
    expect(cardExpiresAt(12, 2034)).toEqual(d('2035-01-01T00:00:00Z'));
    expect(cardExpiresAt(2, 2028)).toEqual(d('2028-03-01T00:00:00Z'));
  });

  it('the next payment: the last interval again, else a calendar month', () => {
    expect(nextExpectedPayment([d('2034-10-03T00:00:00Z'), d('2034-11-02T00:00:00Z')])).toEqual(d('2034-12-02T00:00:00Z'));
    expect(nextExpectedPayment([d('2034-12-05T10:00:00Z')])).toEqual(d('2035-01-05T10:00:00Z'));
    // Two payments a day apart are not a billing period.
    expect(nextExpectedPayment([d('2034-12-05T10:00:00Z'), d('2034-12-06T10:00:00Z')])).toEqual(d('2035-01-06T10:00:00Z'));
  });

  it('tells 14 days before the earlier of expiry and the next payment; nothing when the card outlives it', () => {
    expect(planPreDunning({ expMonth: 12, expYear: 2034 }, [d('2034-12-05T10:00:00Z')])).toEqual({
      sendAt: d('2034-12-18T00:00:00Z'),
      nextPaymentAt: d('2035-01-05T10:00:00Z'),
      cardExpiresAt: d('2035-01-01T00:00:00Z'),
    });
    expect(planPreDunning({ expMonth: 12, expYear: 2034 }, [d('2034-11-20T10:00:00Z')])?.sendAt).toBeNull();
    // Paid close to the expiry: told at once rather than in the past.
    expect(planPreDunning({ expMonth: 12, expYear: 2034 }, [d('2034-12-28T10:00:00Z')])?.sendAt).toEqual(d('2034-12-28T10:00:00Z'));
    expect(planPreDunning({ expMonth: null, expYear: null }, [d('2034-12-28T10:00:00Z')])).toBeNull();
  });
});
