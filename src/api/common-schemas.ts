import { z } from 'zod';

/** Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500. */
export const Metadata = z
  .record(z.string().min(1).max(40), z.string().max(500))
  .refine((m) => Object.keys(m).length <= 50, { message: 'metadata may have at most 50 keys' });

// Strict: a misspelt filter (?state=failed) is a 400, not a silently unfiltered list.
export const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  starting_after: z.string().min(1).optional(),
});

/** A customer id of the merchant's choosing (`cus_abc123`, `user-42`): no spaces, nothing to escape in a URL. */
export const CustomerId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'a customer id is 1 to 100 letters, digits, _ . : or -, starting with a letter or digit');

export const IdParams = z.object({ id: z.string().min(1).max(100) });

// One instant type at the edge: every date a request carries lies between 1970 and the end of year
// 9999, a range JS Dates, Postgres timestamptz and ISO 8601's four-digit years all hold. Beyond it a
// date overflows somewhere between the parser and the database (a 500), and no payment lives there.
export const MIN_INSTANT_MS = 0;
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59);
const INSTANT_RANGE = 'must be between 1970-01-01 and 9999-12-31';

const bounded = (ms: number, ctx: z.RefinementCtx): Date => {
  if (Number.isNaN(ms) || ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS) {
    ctx.addIssue({ code: 'custom', message: Number.isNaN(ms) ? 'is not a valid date' : INSTANT_RANGE });
    return z.NEVER;
  }
  return new Date(ms);
};

const ISO_DATE_TIME = z.iso.datetime({ offset: true });
const ISO_DATE = z.iso.date();

/** Parses one text form of an instant (or says why not); the bound is checked by the caller. */
function instantMs(s: string, withDate: boolean): number | null {
  if (/^\d{1,12}$/.test(s)) return Number(s) * 1000;
  if (ISO_DATE_TIME.safeParse(s).success) return Date.parse(s);
  if (withDate && ISO_DATE.safeParse(s).success) return Date.parse(`${s}T00:00:00Z`);
  return null;
}

/** Unix seconds as a JSON number (test clocks, Stripe-style). */
export const UnixSeconds = z.number().int().min(MIN_INSTANT_MS / 1000, INSTANT_RANGE).max(MAX_INSTANT_MS / 1000, INSTANT_RANGE);

/** An instant in a JSON body: Unix seconds (a number) or an ISO 8601 date-time with its offset. */
export const BodyInstant = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return Number.isInteger(v) ? bounded(v * 1000, ctx) : bounded(Number.NaN, ctx);
  const ms = instantMs(v, false);
  if (ms === null || /^\d+$/.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be Unix seconds (a number) or an ISO 8601 date-time such as 2026-03-25T10:30:00Z' });
    return z.NEVER;
  }
  return bounded(ms, ctx);
});

/** An instant in a query string: Unix seconds, an ISO 8601 date-time, or (`withDate`) a date at UTC midnight. */
export function queryInstant(o: { withDate: boolean }) {
  return z.string().transform((s, ctx) => {
    const ms = instantMs(s, o.withDate);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `must be Unix seconds or an ISO 8601 date-time${o.withDate ? ' or date' : ''} such as 2026-03-25T10:30:00Z` });
      return z.NEVER;
    }
    return bounded(ms, ctx);
  });
}

export function listJson<T>(url: string, data: T[], hasMore: boolean) {
  return { object: 'list' as const, url, data, has_more: hasMore };
}

/** The fields a partial update gave: those left out (undefined) keep their stored value. */
export const definedFields = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
