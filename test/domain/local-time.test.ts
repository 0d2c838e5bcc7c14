import { describe, expect, it } from 'vitest';
import {
  addLocalDays,
  atLocalTime,
  daysBetween,
  isValidTimeZone,
  localParts,
  offsetMs,
  weekdayOf,
} from '../../src/domain/local-time.ts';

const iso = (d: Date) => d.toISOString();
const H = 3_600_000;

describe('isValidTimeZone', () => {
  it('accepts IANA names and UTC, rejects junk', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('Asia/Kolkata')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});

describe('localParts', () => {
  it('reads the wall clock in the zone, including the date across midnight', () => {
    expect(localParts(new Date('2026-03-31T23:30:00Z'), 'Asia/Tokyo')).toEqual({
      year: 2026, month: 4, day: 1, hour: 8, minute: 30, weekday: 3,
    });
    expect(localParts(new Date('2026-01-01T03:00:00Z'), 'America/Los_Angeles')).toEqual({
      year: 2025, month: 12, day: 31, hour: 19, minute: 0, weekday: 3,
    });
  });

  it('shows midnight as hour 0, never 24', () => {
    expect(localParts(new Date('2026-06-01T04:00:00Z'), 'America/New_York').hour).toBe(0);
  });

  it('handles half-hour offsets', () => {
    expect(offsetMs(new Date('2026-01-15T00:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * H);
    expect(localParts(new Date('2026-01-15T00:00:00Z'), 'Asia/Kolkata')).toMatchObject({ hour: 5, minute: 30 });
  });

  it('follows DST in New York and London', () => {
    expect(offsetMs(new Date('2026-01-15T12:00:00Z'), 'America/New_York')).toBe(-5 * H);
    expect(offsetMs(new Date('2026-07-15T12:00:00Z'), 'America/New_York')).toBe(-4 * H);
    expect(offsetMs(new Date('2026-01-15T12:00:00Z'), 'Europe/London')).toBe(0);
    expect(offsetMs(new Date('2026-07-15T12:00:00Z'), 'Europe/London')).toBe(1 * H);
  });
});

describe('atLocalTime', () => {
  it('round-trips ordinary times', () => {
    expect(iso(atLocalTime(2026, 3, 25, 10, 30, 'UTC'))).toBe('2026-03-25T10:30:00.000Z');
    expect(iso(atLocalTime(2026, 3, 27, 10, 0, 'Asia/Tokyo'))).toBe('2026-03-27T01:00:00.000Z');
    expect(iso(atLocalTime(2026, 3, 27, 10, 0, 'America/Los_Angeles'))).toBe('2026-03-27T17:00:00.000Z');
  });

  it('moves a time in the New York spring-forward gap forward by the gap', () => {
    // 2026-03-08 02:00 EST → 03:00 EDT; 02:30 never happens.
    expect(iso(atLocalTime(2026, 3, 8, 2, 30, 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
    expect(localParts(atLocalTime(2026, 3, 8, 2, 30, 'America/New_York'), 'America/New_York')).toMatchObject({
      hour: 3, minute: 30,
    });
    expect(iso(atLocalTime(2026, 3, 8, 1, 59, 'America/New_York'))).toBe('2026-03-08T06:59:00.000Z');
    expect(iso(atLocalTime(2026, 3, 8, 3, 0, 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z');
  });

  it('takes the earlier instant in the New York fall-back overlap', () => {
    // 2026-11-01 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    expect(iso(atLocalTime(2026, 11, 1, 1, 30, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(atLocalTime(2026, 11, 1, 2, 0, 'America/New_York'))).toBe('2026-11-01T07:00:00.000Z');
  });

  it('handles London gap and overlap', () => {
    // 2026-03-29 01:00 GMT → 02:00 BST.
    expect(iso(atLocalTime(2026, 3, 29, 1, 30, 'Europe/London'))).toBe('2026-03-29T01:30:00.000Z');
    expect(localParts(new Date('2026-03-29T01:30:00Z'), 'Europe/London')).toMatchObject({ hour: 2, minute: 30 });
    expect(iso(atLocalTime(2026, 3, 29, 10, 0, 'Europe/London'))).toBe('2026-03-29T09:00:00.000Z');
    // 2026-10-25 02:00 BST → 01:00 GMT; 01:30 happens twice.
    expect(iso(atLocalTime(2026, 10, 25, 1, 30, 'Europe/London'))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('skips a day that a zone removed (Samoa, 30 Dec 2011) forward', () => {
    const at = atLocalTime(2011, 12, 30, 10, 0, 'Pacific/Apia');
    expect(localParts(at, 'Pacific/Apia')).toMatchObject({ year: 2011, month: 12, day: 31, hour: 10 });
  });

  it('rolls over out-of-range fields like a calendar', () => {
    expect(iso(atLocalTime(2026, 1, 32, 10, 0, 'UTC'))).toBe('2026-02-01T10:00:00.000Z');
    expect(iso(atLocalTime(2026, 12, 31, 24, 0, 'UTC'))).toBe('2027-01-01T00:00:00.000Z');
  });

  it('round-trips every hour across DST weeks', () => {
    for (const tz of ['America/New_York', 'Europe/London', 'Australia/Sydney', 'Asia/Tokyo']) {
      for (let t = Date.UTC(2026, 2, 1); t < Date.UTC(2026, 3, 10); t += H) {
        const p = localParts(new Date(t), tz);
        const back = atLocalTime(p.year, p.month, p.day, p.hour, p.minute, tz);
        // Either exact, or the first of two instants showing the same wall time.
        expect(localParts(back, tz)).toEqual(p);
        expect(back.getTime()).toBeLessThanOrEqual(t);
      }
    }
  });
});

describe('calendar arithmetic', () => {
  it('crosses month ends and leap days', () => {
    expect(addLocalDays({ year: 2026, month: 1, day: 31 }, 1)).toEqual({ year: 2026, month: 2, day: 1 });
    expect(addLocalDays({ year: 2028, month: 2, day: 28 }, 1)).toEqual({ year: 2028, month: 2, day: 29 });
    expect(addLocalDays({ year: 2026, month: 2, day: 28 }, 1)).toEqual({ year: 2026, month: 3, day: 1 });
    expect(addLocalDays({ year: 2026, month: 12, day: 31 }, 1)).toEqual({ year: 2027, month: 1, day: 1 });
    expect(addLocalDays({ year: 2026, month: 3, day: 1 }, -1)).toEqual({ year: 2026, month: 2, day: 28 });
  });

  it('counts days and weekdays', () => {
    expect(daysBetween({ year: 2026, month: 2, day: 20 }, { year: 2026, month: 3, day: 6 })).toBe(14);
    expect(weekdayOf({ year: 2026, month: 3, day: 27 })).toBe(5); // a Friday
  });

  it('a local day across DST is 23 or 25 hours', () => {
    const tz = 'America/New_York';
    const a = atLocalTime(2026, 3, 7, 10, 0, tz);
    const b = atLocalTime(2026, 3, 8, 10, 0, tz);
    expect(b.getTime() - a.getTime()).toBe(23 * H);
    const c = atLocalTime(2026, 10, 31, 10, 0, tz);
    const d = atLocalTime(2026, 11, 1, 10, 0, tz);
    expect(d.getTime() - c.getTime()).toBe(25 * H);
  });
});

describe('the per-zone offset cache', () => {
  // The reference: Intl asked directly, as local-time.ts did before it cached offsets by hour.
  const formats = new Map<string, Intl.DateTimeFormat>();
  const reference = (at: number, tz: string): number => {
    const whole = at - (((at % 1000) + 1000) % 1000);
    let f = formats.get(tz);
    if (!f) formats.set(tz, (f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short' })));
    const p: Record<string, string> = {};
    for (const part of f.formatToParts(new Date(whole))) p[part.type] = part.value;
    let year = Number(p.year);
    if (p.era === 'BC' || p.era === 'B') year = 1 - year;
    let wall = Date.UTC(year, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
    if (year >= 0 && year < 100) wall = new Date(wall).setUTCFullYear(year);
    return wall - whole;
  };
  const ZONES = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Apia', 'Asia/Kathmandu', 'America/Sao_Paulo', 'Africa/Casablanca', 'Pacific/Chatham', 'Antarctica/Troll', 'America/St_Johns', 'UTC'];

  it('gives exactly what Intl gives at, just before and just after every transition from 1970 to 2040', () => {
    let transitions = 0;
    for (const tz of ZONES) {
      let here = reference(Date.UTC(1970, 0, 1), tz);
      for (let t = Date.UTC(1970, 0, 1); t < Date.UTC(2040, 0, 1); t += 24 * H) {
        const there = reference(t + 24 * H, tz);
        const same = here === there;
        here = there;
        if (same) continue;
        // The transition's exact second, by bisection.
        let lo = t;
        let hi = t + 24 * H;
        while (hi - lo > 1000) {
          const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
          if (reference(mid, tz) === reference(lo, tz)) lo = mid;
          else hi = mid;
        }
        transitions++;
        const probes = [hi - 1000, hi - 1, hi, hi + 1, hi + 999, hi + 1000];
        for (let u = hi - 2 * H; u <= hi + 2 * H; u += 10 * 60_000) probes.push(u, u + 30_001);
        for (const at of probes) expect(offsetMs(new Date(at), tz), `${tz} at ${new Date(at).toISOString()}`).toBe(reference(at, tz));
      }
    }
    expect(transitions).toBeGreaterThan(500);
  }, 120_000);

  it('agrees with Intl on arbitrary instants, ancient and far future, and still rejects an unknown zone', () => {
    let x = 12345;
    const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x / 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      const tz = ZONES[i % ZONES.length]!;
      const at = Math.round(Date.UTC(-500, 0, 1) + next() * (Date.UTC(2600, 0, 1) - Date.UTC(-500, 0, 1)));
      expect(offsetMs(new Date(at), tz), `${tz} at ${at}`).toBe(reference(at, tz));
      expect(localParts(new Date(at), tz).minute).toBe(new Date(at + reference(at, tz)).getUTCMinutes());
    }
    expect(() => offsetMs(new Date(0), 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => offsetMs(new Date(NaN), 'UTC')).toThrow(RangeError);
  });
});
