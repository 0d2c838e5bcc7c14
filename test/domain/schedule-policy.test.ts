import { describe, expect, it } from 'vitest';
import type { DeclineCategory, DeclineInfo, RetryStrategy } from '../../src/domain/decline-types.ts';
import { localParts } from '../../src/domain/local-time.ts';
import {
  MIN_RETRY_GAP_MS,
  automaticSchedule,
  customSchedule,
  policyFor,
  type PlanInput,
} from '../../src/domain/schedule-policy.ts';

const H = 3_600_000;
const DAY = 24 * H;

function decline(code: string, strategy: RetryStrategy, category: DeclineCategory = 'soft', adviceCode?: string): DeclineInfo {
  return {
    code,
    category,
    strategy,
    message: code,
    recommendation: 'Contact customer to update payment method',
    known: true,
    ...(adviceCode === undefined ? {} : { adviceCode }),
  };
}

const NSF = decline('insufficient_funds', 'after_payday');
const START = new Date('2026-03-25T10:30:00Z'); // the seed's created_at, a Wednesday

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    decline: NSF,
    failedAt: START,
    rescueStartedAt: START,
    windowEndsAt: new Date(START.getTime() + 14 * DAY),
    retriesLeft: 4,
    retriesMade: 0,
    timezone: 'UTC',
    schedule: { kind: 'automatic' },
    ...over,
  };
}

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const dayOffsets = (ds: Date[], from: Date) => ds.map((d) => (d.getTime() - from.getTime()) / DAY);

describe('custom schedule', () => {
  const days = [1, 2, 5, 10, 15];
  const custom = { kind: 'custom' as const, days };

  it('plans the seed example days [1,2,5,10,15] in a 15-day window', () => {
    const plan = customSchedule.plan(input({ schedule: custom, retriesLeft: 5, windowEndsAt: new Date(START.getTime() + 15 * DAY) }));
    expect(dayOffsets(plan, START)).toEqual([1, 2, 5, 10, 15]);
  });

  it('truncates to a shorter window', () => {
    const plan = customSchedule.plan(input({ schedule: custom, retriesLeft: 5, windowEndsAt: new Date(START.getTime() + 7 * DAY) }));
    expect(dayOffsets(plan, START)).toEqual([1, 2, 5]);
  });

  it('truncates to the budget', () => {
    const plan = customSchedule.plan(input({ schedule: custom, retriesLeft: 3, windowEndsAt: new Date(START.getTime() + 15 * DAY) }));
    expect(dayOffsets(plan, START)).toEqual([1, 2, 5]);
  });

  it('replanned after retry 2 returns only the remaining days, still counted from the rescue start', () => {
    const plan = customSchedule.plan(
      input({
        schedule: custom,
        failedAt: new Date(START.getTime() + 2 * DAY + 4_000),
        retriesMade: 2,
        retriesLeft: 3,
        windowEndsAt: new Date(START.getTime() + 15 * DAY),
      }),
    );
    expect(dayOffsets(plan, START)).toEqual([5, 10, 15]);
  });

  it('skips a day closer than the minimum gap to the failure', () => {
    const plan = customSchedule.plan(
      input({ schedule: custom, failedAt: new Date(START.getTime() + DAY - MIN_RETRY_GAP_MS / 2), retriesLeft: 5 }),
    );
    expect(dayOffsets(plan, START)).toEqual([2, 5, 10]);
  });

  it('never retries a hard decline', () => {
    expect(customSchedule.plan(input({ schedule: custom, decline: decline('stolen_card', 'never', 'hard') }))).toEqual([]);
  });

  it('plans nothing without budget', () => {
    expect(customSchedule.plan(input({ schedule: custom, retriesLeft: 0 }))).toEqual([]);
  });
});

describe('automatic schedule', () => {
  it('spreads a generic soft decline like the seed example: days 1, 3, 7 and the window end', () => {
    const plan = automaticSchedule.plan(input({ decline: decline('do_not_honor', 'spaced') }));
    expect(iso(plan)).toEqual([
      '2026-03-26T10:30:00.000Z',
      '2026-03-28T10:30:00.000Z',
      '2026-04-01T10:30:00.000Z',
      '2026-04-08T10:30:00.000Z',
    ]);
  });

  it('keeps the spaced shape when replanned after a failed retry', () => {
    const plan = automaticSchedule.plan(
      input({ decline: decline('do_not_honor', 'spaced'), failedAt: new Date('2026-03-26T10:30:05Z'), retriesMade: 1, retriesLeft: 3 }),
    );
    expect(plan.map((d) => d.toISOString().slice(0, 10))).toEqual(['2026-03-28', '2026-04-01', '2026-04-08']);
  });

  it('times insufficient funds to paydays in the customer zone', () => {
    const tokyo = automaticSchedule.plan(input({ timezone: 'Asia/Tokyo' }));
    const la = automaticSchedule.plan(input({ timezone: 'America/Los_Angeles' }));
    // Next payday after Wed 25 March is Friday 27 March, 10:00 local.
    expect(tokyo[0]?.toISOString()).toBe('2026-03-27T01:00:00.000Z');
    expect(la[0]?.toISOString()).toBe('2026-03-27T17:00:00.000Z');
    expect(iso(tokyo)).not.toEqual(iso(la));
    for (const [tz, plan] of [['Asia/Tokyo', tokyo], ['America/Los_Angeles', la]] as const) {
      expect(plan).toHaveLength(4);
      const dates = plan.map((d) => localParts(d, tz));
      // The retry lands on payday (1st, 15th, Friday) or at most two days after one.
      for (const p of dates) {
        const onOrAfterPayday = [0, 1, 2].some((o) => {
          const d = new Date(Date.UTC(p.year, p.month - 1, p.day - o));
          return d.getUTCDate() === 1 || d.getUTCDate() === 15 || d.getUTCDay() === 5;
        });
        expect(onOrAfterPayday).toBe(true);
      }
      expect(dates.map((p) => `${p.month}-${p.day}`)).toContain('4-1');
    }
  });

  it('plans the 15th as a payday', () => {
    const failedAt = new Date('2026-04-13T15:00:00Z'); // a Monday
    const plan = automaticSchedule.plan(input({ failedAt, rescueStartedAt: failedAt, windowEndsAt: new Date(failedAt.getTime() + 14 * DAY) }));
    expect(plan[0]?.toISOString()).toBe('2026-04-15T10:00:00.000Z');
  });

  it('retries a technical error within minutes, then hours, then daily — also on a later retry', () => {
    const tech = decline('network_timeout', 'immediate', 'technical');
    for (const retriesMade of [0, 3]) {
      const failedAt = new Date('2026-03-30T14:00:00Z');
      const plan = automaticSchedule.plan(input({ decline: tech, failedAt, retriesMade, retriesLeft: 4 }));
      const offsets = plan.map((d) => (d.getTime() - failedAt.getTime()) / H);
      expect(offsets[0]).toBe(MIN_RETRY_GAP_MS / H);
      expect(offsets[1]).toBeGreaterThanOrEqual(1);
      expect(offsets[1]).toBeLessThanOrEqual(6);
      expect(offsets[2]).toBeGreaterThanOrEqual(18);
      expect(offsets[2]).toBeLessThanOrEqual(30);
    }
  });

  it('waits 24–48 h when the issuer asks to try later', () => {
    for (let hour = 0; hour < 24; hour++) {
      const failedAt = new Date(Date.UTC(2026, 2, 25, hour, 17));
      const plan = automaticSchedule.plan(input({ decline: decline('try_again_later', 'in_24_48h'), failedAt }));
      const first = (plan[0]!.getTime() - failedAt.getTime()) / H;
      expect(first).toBeGreaterThanOrEqual(24);
      expect(first).toBeLessThanOrEqual(48);
    }
  });

  it('retries a limit decline after the next local midnight, then at the week start', () => {
    const plan = automaticSchedule.plan(input({ decline: decline('exceeds_limit', 'after_limit_reset'), timezone: 'Europe/Berlin' }));
    const parts = plan.map((d) => localParts(d, 'Europe/Berlin'));
    expect(parts[0]).toMatchObject({ month: 3, day: 26, hour: 10 });
    expect(parts[1]).toMatchObject({ month: 3, day: 30, weekday: 1 });
  });

  it('never retries a hard decline', () => {
    for (const d of [decline('stolen_card', 'never', 'hard'), decline('odd', 'spaced', 'hard')]) {
      expect(automaticSchedule.plan(input({ decline: d }))).toEqual([]);
    }
  });

  it('honours Mastercard advice code 26 (retry after 2 days)', () => {
    for (const strategy of ['after_payday', 'immediate', 'spaced', 'in_24h'] as const) {
      const d = decline('insufficient_funds', strategy, 'soft', '26');
      const plan = automaticSchedule.plan(input({ decline: d }));
      expect(plan.length).toBeGreaterThan(0);
      expect(plan[0]!.getTime()).toBeGreaterThanOrEqual(START.getTime() + 2 * DAY);
      const without = automaticSchedule.plan(input({ decline: decline('insufficient_funds', strategy) }));
      expect(without[0]!.getTime()).toBeLessThan(plan[0]!.getTime());
    }
  });

  it('plans nothing when an advice-code delay outlasts the window', () => {
    const plan = automaticSchedule.plan(input({ decline: decline('insufficient_funds', 'after_payday', 'soft', '30'), windowEndsAt: new Date(START.getTime() + 7 * DAY) }));
    expect(plan).toEqual([]);
  });

  it('falls back to UTC for an unknown zone', () => {
    expect(iso(automaticSchedule.plan(input({ timezone: 'Not/AZone' })))).toEqual(iso(automaticSchedule.plan(input())));
  });

  it('still plans a last try when the window closes before the strategy would retry', () => {
    const failedAt = new Date(START.getTime() + 14 * DAY - 20 * H);
    const plan = automaticSchedule.plan(input({ decline: decline('processing_error', 'in_24h'), failedAt, retriesLeft: 2 }));
    expect(iso(plan)).toEqual(['2026-04-08T10:30:00.000Z']);
  });
});

describe('policyFor', () => {
  it('picks the policy from the schedule kind', () => {
    expect(policyFor({ kind: 'automatic' })).toBe(automaticSchedule);
    expect(policyFor({ kind: 'custom', days: [1, 3] })).toBe(customSchedule);
  });
});

describe('invariants over a grid', () => {
  const strategies: [string, RetryStrategy, DeclineCategory][] = [
    ['insufficient_funds', 'after_payday', 'soft'],
    ['try_again_later', 'in_24_48h', 'soft'],
    ['exceeds_limit', 'after_limit_reset', 'soft'],
    ['issuer_unavailable', 'immediate', 'soft'],
    ['network_timeout', 'immediate', 'technical'],
    ['processing_error', 'in_24h', 'soft'],
    ['generic_decline', 'spaced', 'soft'],
    ['expired_card', 'after_card_update', 'soft'],
    ['stolen_card', 'never', 'hard'],
  ];
  const zones = ['UTC', 'America/New_York', 'America/Los_Angeles', 'Europe/London', 'Asia/Kolkata', 'Pacific/Kiritimati'];
  // Failures around DST switches and month ends, at all times of day.
  const failures = ['2026-03-07T06:45:00Z', '2026-03-28T23:59:00Z', '2026-10-31T13:05:00Z', '2026-01-30T02:10:00Z', '2026-12-24T19:00:00Z'];
  const advice = [undefined, '24', '27'];

  it('every plan is ascending, gapped, inside the window and the budget, out of quiet hours, deterministic', () => {
    let checked = 0;
    for (const [code, strategy, category] of strategies)
      for (const tz of zones)
        for (const f of failures)
          for (const retriesLeft of [0, 1, 8])
            for (const windowDays of [1.5, 7, 30])
              for (const adviceCode of advice) {
                const failedAt = new Date(f);
                const inp = input({
                  decline: decline(code, strategy, category, adviceCode),
                  failedAt,
                  rescueStartedAt: new Date(failedAt.getTime() - DAY),
                  windowEndsAt: new Date(failedAt.getTime() + windowDays * DAY),
                  retriesLeft,
                  timezone: tz,
                });
                for (const policy of [automaticSchedule, customSchedule]) {
                  const i = policy === customSchedule ? { ...inp, schedule: { kind: 'custom' as const, days: [1, 2, 5, 10, 15] } } : inp;
                  const plan = policy.plan(i);
                  expect(iso(policy.plan(i))).toEqual(iso(plan));
                  expect(plan.length).toBeLessThanOrEqual(retriesLeft);
                  if (category === 'hard') expect(plan).toEqual([]);
                  let prev = failedAt.getTime();
                  for (const d of plan) {
                    expect(d.getTime() - prev).toBeGreaterThanOrEqual(MIN_RETRY_GAP_MS);
                    expect(d.getTime()).toBeLessThanOrEqual(i.windowEndsAt.getTime());
                    prev = d.getTime();
                  }
                  if (policy === automaticSchedule) {
                    for (const d of plan) {
                      const h = localParts(d, tz).hour;
                      expect(h >= 1 && h < 4, `${code} ${tz} ${d.toISOString()}`).toBe(false);
                    }
                    const delay = { '24': H, '25': DAY, '27': 4 * DAY }[adviceCode ?? ''] ?? 0;
                    if (plan[0]) expect(plan[0].getTime()).toBeGreaterThanOrEqual(failedAt.getTime() + delay);
                    // With at least a week and budget, a retryable decline always gets a plan.
                    if (category !== 'hard' && retriesLeft > 0 && windowDays >= 7 && delay < DAY * 4) {
                      expect(plan.length, `${code} ${tz} ${f}`).toBeGreaterThan(0);
                    }
                  }
                  checked++;
                }
              }
    expect(checked).toBeGreaterThan(5_000);
  });
});
