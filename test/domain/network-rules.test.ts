import { describe, expect, it } from 'vitest';
import {
  checkNetworkRules,
  DEFAULT_NETWORK_RULES,
  type CardAttemptRecord,
  type NetworkRulesConfig,
} from '../../src/domain/network-rules.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const AT = new Date('2026-06-15T12:00:00Z');

function ago(ms: number): Date {
  return new Date(AT.getTime() - ms);
}

function attempt(at: Date, over: Partial<CardAttemptRecord> = {}): CardAttemptRecord {
  return { at, outcome: 'failed', initiator: 'merchant', reattempt: true, ...over };
}

/** `n` records, one hour apart, the newest one hour before AT. */
function series(n: number, over: Partial<CardAttemptRecord> = {}, spacing = HOUR): CardAttemptRecord[] {
  return Array.from({ length: n }, (_, i) => attempt(ago((n - i) * spacing), over));
}

function refused(result: ReturnType<typeof checkNetworkRules>) {
  if (result.allowed) throw new Error('expected a refusal');
  return result;
}

describe('Visa: 20 merchant-initiated reattempts per card in 30 days', () => {
  it('allows the 20th reattempt', () => {
    expect(checkNetworkRules({ brand: 'visa', history: series(19), at: AT })).toEqual({ allowed: true });
  });

  it('refuses the 21st and says when the oldest leaves the window', () => {
    const history = series(20);
    const r = refused(checkNetworkRules({ brand: 'visa', history, at: AT }));
    expect(r.rule).toBe('visa_reattempts_30d');
    expect(r.retryAfter).toEqual(new Date(history[0]!.at.getTime() + 30 * DAY));
  });

  it('allows again exactly at retryAfter, not a millisecond before', () => {
    const history = series(20);
    const { retryAfter } = refused(checkNetworkRules({ brand: 'visa', history, at: AT }));
    expect(checkNetworkRules({ brand: 'visa', history, at: retryAfter! }).allowed).toBe(true);
    expect(checkNetworkRules({ brand: 'visa', history, at: new Date(retryAfter!.getTime() - 1) }).allowed).toBe(false);
  });

  it('ignores reattempts 30 days old or older', () => {
    const old = Array.from({ length: 20 }, () => attempt(ago(30 * DAY)));
    expect(checkNetworkRules({ brand: 'visa', history: old, at: AT }).allowed).toBe(true);
    const justInside = Array.from({ length: 20 }, () => attempt(ago(30 * DAY - 1)));
    expect(checkNetworkRules({ brand: 'visa', history: justInside, at: AT }).allowed).toBe(false);
  });

  it('ignores history after `at`', () => {
    const future = Array.from({ length: 25 }, (_, i) => attempt(new Date(AT.getTime() + (i + 1) * HOUR)));
    expect(checkNetworkRules({ brand: 'visa', history: future, at: AT }).allowed).toBe(true);
  });

  it('counts only merchant-initiated reattempts (Visa keeps CIT and MIT apart)', () => {
    const customer = series(30, { initiator: 'customer' });
    const firstTries = series(30, { reattempt: false });
    expect(checkNetworkRules({ brand: 'visa', history: [...customer, ...firstTries], at: AT }).allowed).toBe(true);
  });

  it('counts approved reattempts too', () => {
    expect(checkNetworkRules({ brand: 'visa', history: series(20, { outcome: 'succeeded' }), at: AT }).allowed).toBe(false);
  });

  it('takes the limit from configuration', () => {
    const config: NetworkRulesConfig = {
      ...DEFAULT_NETWORK_RULES,
      visa: { ...DEFAULT_NETWORK_RULES.visa, merchantReattempts: { max: 15, windowHours: 30 * 24 } },
    };
    expect(checkNetworkRules({ brand: 'visa', history: series(14), at: AT, config }).allowed).toBe(true);
    expect(checkNetworkRules({ brand: 'visa', history: series(15), at: AT, config }).allowed).toBe(false);
  });
});

describe('Visa: no reattempt after a category 1 decline', () => {
  it('refuses with no retry date within 30 days', () => {
    const history = [attempt(ago(10 * DAY), { visaCategory: 1, reattempt: false, declineCode: 'stolen_card' })];
    const r = refused(checkNetworkRules({ brand: 'visa', history, at: AT }));
    expect(r.rule).toBe('visa_category_1');
    expect(r.retryAfter).toBeNull();
  });

  it('applies whoever initiated the declined attempt', () => {
    const history = [attempt(ago(HOUR), { visaCategory: 1, initiator: 'customer', reattempt: false })];
    expect(checkNetworkRules({ brand: 'visa', history, at: AT }).allowed).toBe(false);
  });

  it('forgets a category 1 decline 30 days old', () => {
    const history = [attempt(ago(30 * DAY), { visaCategory: 1 })];
    expect(checkNetworkRules({ brand: 'visa', history, at: AT }).allowed).toBe(true);
  });

  it('does not block on categories 2-4', () => {
    const history = ([2, 3, 4] as const).map((c) => attempt(ago(DAY), { visaCategory: c }));
    expect(checkNetworkRules({ brand: 'visa', history, at: AT }).allowed).toBe(true);
  });

  it('is the binding rule when the count limit is also hit', () => {
    const history = [...series(20), attempt(ago(DAY), { visaCategory: 1 })];
    const r = refused(checkNetworkRules({ brand: 'visa', history, at: AT }));
    expect(r.rule).toBe('visa_category_1');
    expect(r.retryAfter).toBeNull();
  });
});

describe('Mastercard: 35 attempts per card in 30 days', () => {
  // Approved attempts, so the 24-hour decline rule stays out of the way.
  const ok = { outcome: 'succeeded' } as const;

  it('allows the 35th attempt and refuses the 36th', () => {
    expect(checkNetworkRules({ brand: 'mastercard', history: series(34, ok, 12 * HOUR), at: AT }).allowed).toBe(true);
    const history = series(35, ok, 12 * HOUR);
    const r = refused(checkNetworkRules({ brand: 'mastercard', history, at: AT }));
    expect(r.rule).toBe('mastercard_attempts_30d');
    expect(r.retryAfter).toEqual(new Date(history[0]!.at.getTime() + 30 * DAY));
  });

  it('counts customer-initiated and first attempts too', () => {
    const history = [...series(20, { ...ok, initiator: 'customer' }, 12 * HOUR), ...series(15, { ...ok, reattempt: false }, 13 * HOUR)];
    expect(checkNetworkRules({ brand: 'mastercard', history, at: AT }).allowed).toBe(false);
  });

  it('ignores attempts 30 days old or older', () => {
    const history = Array.from({ length: 40 }, () => attempt(ago(30 * DAY), ok));
    expect(checkNetworkRules({ brand: 'mastercard', history, at: AT }).allowed).toBe(true);
  });

  it('is not the Visa limit', () => {
    expect(checkNetworkRules({ brand: 'mastercard', history: series(25, ok, 12 * HOUR), at: AT }).allowed).toBe(true);
  });
});

describe('Mastercard: 10 declines per card in 24 hours', () => {
  it('allows after 9 declines and refuses after 10', () => {
    expect(checkNetworkRules({ brand: 'mastercard', history: series(9), at: AT }).allowed).toBe(true);
    const history = series(10);
    const r = refused(checkNetworkRules({ brand: 'mastercard', history, at: AT }));
    expect(r.rule).toBe('mastercard_declines_24h');
    expect(r.retryAfter).toEqual(new Date(history[0]!.at.getTime() + DAY));
  });

  it('ignores declines 24 hours old or older, and approvals', () => {
    const old = Array.from({ length: 10 }, () => attempt(ago(DAY)));
    expect(checkNetworkRules({ brand: 'mastercard', history: old, at: AT }).allowed).toBe(true);
    expect(checkNetworkRules({ brand: 'mastercard', history: series(10, { outcome: 'succeeded' }), at: AT }).allowed).toBe(true);
  });

  it('does not apply to Visa', () => {
    expect(checkNetworkRules({ brand: 'visa', history: series(10, { reattempt: false }), at: AT }).allowed).toBe(true);
  });
});

describe('Mastercard: advice codes 03 and 21 stop the card', () => {
  it.each(['03', '21', '3'])('refuses after advice %s within 30 days, with no retry date', (adviceCode) => {
    const history = [attempt(ago(29 * DAY), { adviceCode, reattempt: false })];
    const r = refused(checkNetworkRules({ brand: 'mastercard', history, at: AT }));
    expect(r.rule).toBe('mastercard_stop_advice');
    expect(r.retryAfter).toBeNull();
  });

  it('forgets the advice after 30 days', () => {
    const history = [attempt(ago(30 * DAY), { adviceCode: '03' })];
    expect(checkNetworkRules({ brand: 'mastercard', history, at: AT }).allowed).toBe(true);
  });

  it('does not stop on other advice codes', () => {
    const history = ['01', '02', '24', '30'].map((adviceCode) => attempt(ago(DAY), { adviceCode }));
    expect(checkNetworkRules({ brand: 'mastercard', history, at: AT }).allowed).toBe(true);
  });

  it('wins over a count limit that would clear sooner', () => {
    const history = [...series(10), attempt(ago(DAY), { adviceCode: '21' })];
    expect(refused(checkNetworkRules({ brand: 'mastercard', history, at: AT })).rule).toBe('mastercard_stop_advice');
  });
});

describe('other brands: 20 merchant-initiated reattempts in 30 days', () => {
  it.each(['amex', 'discover', 'jcb', 'diners', 'unionpay', 'unknown'] as const)('%s allows the 20th, refuses the 21st', (brand) => {
    expect(checkNetworkRules({ brand, history: series(19), at: AT }).allowed).toBe(true);
    const r = refused(checkNetworkRules({ brand, history: series(20), at: AT }));
    expect(r.rule).toBe('reattempts_30d');
    expect(r.retryAfter).toEqual(new Date(ago(20 * HOUR).getTime() + 30 * DAY));
  });

  it('ignores old history and customer-initiated attempts', () => {
    const old = Array.from({ length: 20 }, () => attempt(ago(31 * DAY)));
    expect(checkNetworkRules({ brand: 'amex', history: [...old, ...series(30, { initiator: 'customer' })], at: AT }).allowed).toBe(true);
  });
});

describe('when several count limits refuse', () => {
  it('reports the one that clears last', () => {
    // 35 attempts over ~17 days and 10 declines in the last 10 hours.
    const history = [...series(25, { outcome: 'succeeded' }, 16 * HOUR).map((h) => ({ ...h, at: new Date(h.at.getTime() - DAY) })), ...series(10)];
    const r = refused(checkNetworkRules({ brand: 'mastercard', history, at: AT }));
    expect(r.rule).toBe('mastercard_attempts_30d');
    expect(r.retryAfter!.getTime()).toBeGreaterThan(AT.getTime() + DAY);
  });
});

describe('inputs', () => {
  it('does not modify the history', () => {
    const history = series(25).reverse();
    const copy = history.map((h) => ({ ...h }));
    checkNetworkRules({ brand: 'visa', history, at: AT });
    expect(history).toEqual(copy);
  });

  it('rejects an invalid date', () => {
    expect(() => checkNetworkRules({ brand: 'visa', history: [], at: new Date('nope') })).toThrow(RangeError);
  });

  it('allows a card with no history', () => {
    expect(checkNetworkRules({ brand: 'mastercard', history: [], at: AT })).toEqual({ allowed: true });
  });
});
