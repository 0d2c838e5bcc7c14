import { describe, expect, it } from 'vitest';
import { byDeclineCategory, percentOf, roundDays } from '../../src/domain/analytics.ts';

describe('analytics definitions', () => {
  it('a percentage has two decimals, and is null over nothing', () => {
    expect(percentOf(2, 3)).toBe(66.67);
    expect(percentOf(6999, 11499)).toBe(60.87);
    expect(percentOf(0, 4)).toBe(0);
    expect(percentOf(0, 0)).toBeNull();
    expect(roundDays(3.66666)).toBe(3.67);
    expect(roundDays(null)).toBeNull();
  });

  it('rolls decline codes up by category, the same cohort, most failures first', () => {
    const rows = [
      { declineCode: 'insufficient_funds', declineCategory: 'soft', failed: 2, recovered: 1, recoveryRate: 50 },
      { declineCode: 'lost_card', declineCategory: 'hard', failed: 1, recovered: 0, recoveryRate: 0 },
      { declineCode: 'processing_error', declineCategory: 'soft', failed: 1, recovered: 1, recoveryRate: 100 },
    ];
    expect(byDeclineCategory(rows)).toEqual([
      { declineCategory: 'soft', failed: 3, recovered: 2, recoveryRate: 66.67 },
      { declineCategory: 'hard', failed: 1, recovered: 0, recoveryRate: 0 },
    ]);
    expect(byDeclineCategory([])).toEqual([]);
  });
});
