// Wall-clock helpers for IANA time zones, built on Intl alone (Node 24 ships no Temporal).
// Time is UTC inside Rescue; these turn an instant into the customer's local calendar and back,
// because retries are timed to the customer's day (paydays, mornings, quiet night hours).

/** A calendar date; month is 1–12. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** What a wall clock in some zone shows at an instant. weekday: 0 = Sunday … 6 = Saturday (as Date#getDay). */
export interface LocalParts extends LocalDate {
  hour: number;
  minute: number;
  weekday: number;
}

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;

// Building a DateTimeFormat is far slower than using one; the planner calls this in loops.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      // h23, not hour12:false: some ICU versions print midnight as "24" with the latter.
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0) return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock fields (to the second) encoded as if they were a UTC instant; the basis of offset maths. */
function wallMs(at: number, tz: string): number {
  const fields: Record<string, string> = {};
  for (const p of formatterFor(tz).formatToParts(new Date(at))) fields[p.type] = p.value;
  let year = Number(fields.year);
  if (fields.era === 'BC' || fields.era === 'B') year = 1 - year;
  const ms = Date.UTC(
    year,
    Number(fields.month) - 1,
    Number(fields.day),
    Number(fields.hour),
    Number(fields.minute),
    Number(fields.second),
  );
  // Date.UTC maps years 0–99 to 1900–1999; undo that so ancient dates stay exact.
  if (year >= 0 && year < 100) return new Date(ms).setUTCFullYear(year);
  return ms;
}

/** Offset of tz from UTC at an instant, in ms (e.g. −5 h for New York in winter). */
export function offsetMs(at: Date, tz: string): number {
  return offsetAt(at.getTime(), tz);
}

/** offsetMs for an instant given in ms since the epoch (no Date to build). */
export function offsetAt(atMs: number, tz: string): number {
  return offsetAtWhole(atMs - (((atMs % 1000) + 1000) % 1000), tz);
}

// Intl is slow (a formatToParts per call) and the planner asks about the same few hours over and over
// (every candidate slot, every retry, every payment planned this hour), so each zone keeps the offsets
// Intl gave at whole UTC hours. An instant inside an hour whose two ends have the same offset has that
// offset too — no zone changes its offset twice within two days (atLocalTime relies on the same fact);
// an hour with a transition in it is asked of Intl directly. Bounded: a zone's map is emptied when full.
const MS_PER_HOUR = 3_600_000;
const MAX_HOURS_PER_ZONE = 20_000;
/** Far enough inside Date's range (±8.64e15 ms) that an hour's end is still a valid Date. */
const CACHED_RANGE_MS = 8.64e15 - 2 * MS_PER_HOUR;
const hourOffsets = new Map<string, Map<number, number>>();

function offsetAtHour(zone: Map<number, number>, hour: number, tz: string): number {
  let off = zone.get(hour);
  if (off === undefined) {
    const t = hour * MS_PER_HOUR;
    off = wallMs(t, tz) - t;
    if (zone.size >= MAX_HOURS_PER_ZONE) zone.clear();
    zone.set(hour, off);
  }
  return off;
}

/** The offset at an instant on a whole second (Intl's resolution), as wallMs(whole, tz) − whole. */
function offsetAtWhole(whole: number, tz: string): number {
  if (!(Math.abs(whole) <= CACHED_RANGE_MS)) return wallMs(whole, tz) - whole;
  let zone = hourOffsets.get(tz);
  if (!zone) {
    formatterFor(tz); // an unknown zone throws here, as Intl does, and is never cached
    hourOffsets.set(tz, (zone = new Map()));
  }
  const hour = Math.floor(whole / MS_PER_HOUR);
  const start = offsetAtHour(zone, hour, tz);
  if (whole === hour * MS_PER_HOUR) return start;
  return start === offsetAtHour(zone, hour + 1, tz) ? start : wallMs(whole, tz) - whole;
}

/** wallMs through the per-zone cache: the same value, without Intl for an hour already seen. */
function cachedWallMs(at: number, tz: string): number {
  const whole = at - (((at % 1000) + 1000) % 1000);
  return whole + offsetAtWhole(whole, tz);
}

export function weekdayOf(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

export function localParts(at: Date, tz: string): LocalParts {
  const w = new Date(cachedWallMs(at.getTime(), tz));
  return {
    year: w.getUTCFullYear(),
    month: w.getUTCMonth() + 1,
    day: w.getUTCDate(),
    hour: w.getUTCHours(),
    minute: w.getUTCMinutes(),
    weekday: w.getUTCDay(),
  };
}

export function localDateOf(at: Date, tz: string): LocalDate {
  const { year, month, day } = localParts(at, tz);
  return { year, month, day };
}

/** Calendar arithmetic; days may be negative. Month ends and leap years roll over as on a calendar. */
export function addLocalDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Whole calendar days from a to b (b − a). */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round(
    (Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / MS_PER_DAY,
  );
}

/**
 * The instant at which the wall clock in tz shows the given date and time. Out-of-range fields roll
 * over (day 32 → next month), so callers can do arithmetic on fields.
 *
 * DST is resolved like Temporal's default ('compatible'), so results are deterministic:
 * - overlap (a wall time that happens twice, e.g. 01:30 on New York's November fall-back day):
 *   the EARLIER instant, i.e. the first time the clock shows it;
 * - gap (a wall time that never happens, e.g. 02:30 on New York's March spring-forward day):
 *   the time is moved FORWARD by the length of the gap (02:30 → 03:30 EDT), never backward, so a
 *   planned retry is not pulled before the time it was meant for.
 */
export function atLocalTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  tz: string,
): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // No zone changes offset twice within two days, so the offsets a day either side bound the answer.
  const before = cachedWallMs(wall - MS_PER_DAY, tz) - (wall - MS_PER_DAY);
  const after = cachedWallMs(wall + MS_PER_DAY, tz) - (wall + MS_PER_DAY);
  const candidates = [...new Set([wall - before, wall - after])].sort((a, b) => a - b);
  for (const c of candidates) {
    if (cachedWallMs(c, tz) === wall) return new Date(c);
  }
  // In a gap: reading the wall time with the pre-transition offset lands just past the gap.
  return new Date(wall - before);
}

/** The instant of a local date at hour:minute in tz. */
export function atLocalDate(date: LocalDate, hour: number, minute: number, tz: string): Date {
  return atLocalTime(date.year, date.month, date.day, hour, minute, tz);
}

/** Minutes since local midnight as the clock shows it. */
export function localMinuteOfDay(at: Date, tz: string): number {
  const p = localParts(at, tz);
  return p.hour * 60 + p.minute;
}

export { MS_PER_DAY, MS_PER_MINUTE };
