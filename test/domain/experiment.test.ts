import { describe, expect, it } from 'vitest';
import { experimentGroup, fixedSchedule, newcombeDifference, wilsonInterval } from '../../src/domain/experiment.ts';

describe('Wilson and Newcombe intervals', () => {
  const close = (x: number, y: number) => expect(x).toBeCloseTo(y, 4);

  it('reproduce Newcombe (1998), Table II, method 10', () => {
    // (a) 56/70 − 48/80, (b) 9/10 − 3/10, (c) 6/7 − 2/7, (d) 5/56 − 0/29.
    const cases: [number, number, number, number, number, number][] = [
      [56, 70, 48, 80, 0.0524, 0.3339],
      [9, 10, 3, 10, 0.1705, 0.809],
      [6, 7, 2, 7, 0.0582, 0.8062],
      [5, 56, 0, 29, -0.0381, 0.1926],
    ];
    for (const [x1, n1, x2, n2, low, high] of cases) {
      const d = newcombeDifference(x1, n1, x2, n2)!;
      close(d.estimate, x1 / n1 - x2 / n2);
      expect(d.low).toBeCloseTo(low, 3);
      expect(d.high).toBeCloseTo(high, 3);
    }
  });

  it('Wilson: Newcombe\'s single-proportion example 81/263 is 0.2553 to 0.3662', () => {
    const w = wilsonInterval(81, 263);
    expect(w.low).toBeCloseTo(0.2553, 4);
    expect(w.high).toBeCloseTo(0.3662, 4);
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(10, 10).high).toBe(1);
  });

  it('is null when a group is empty, and stays within [-1, 1]', () => {
    expect(newcombeDifference(1, 1, 0, 0)).toBeNull();
    const d = newcombeDifference(10, 10, 0, 10)!;
    expect(d.high).toBeLessThanOrEqual(1);
    expect(d.low).toBeGreaterThan(0);
  });
});

describe('control-group assignment', () => {
  it('is a function of the key and the share', () => {
    expect(experimentGroup('order_1_recovery', 20)).toBe(experimentGroup('order_1_recovery', 20));
    expect(experimentGroup('order_1_recovery', 0)).toBeNull();
    // Raising the share only moves keys from treatment to control, never back.
    for (let i = 0; i < 2000; i++) {
      if (experimentGroup(`k${i}`, 5) === 'control') expect(experimentGroup(`k${i}`, 20)).toBe('control');
    }
  });

  it('holds back the configured share', () => {
    for (const pct of [5, 20]) {
      let control = 0;
      for (let i = 0; i < 50_000; i++) if (experimentGroup(`rec_${i}`, pct) === 'control') control++;
      expect(control / 50_000).toBeGreaterThan(pct / 100 - 0.01);
      expect(control / 50_000).toBeLessThan(pct / 100 + 0.01);
    }
  });
});

describe('the fixed schedule', () => {
  it('spreads the retries evenly over the window on whole days', () => {
    expect(fixedSchedule(4, 14)).toEqual({ kind: 'custom', days: [4, 7, 11, 14] });
    expect(fixedSchedule(1, 7)).toEqual({ kind: 'custom', days: [7] });
    expect(fixedSchedule(8, 30).days).toEqual([4, 8, 11, 15, 19, 23, 26, 30]);
    // More retries than days: one a day.
    expect(fixedSchedule(8, 7).days).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
