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

export const IdParams = z.object({ id: z.string().min(1).max(100) });

export function listJson<T>(url: string, data: T[], hasMore: boolean) {
  return { object: 'list' as const, url, data, has_more: hasMore };
}

/** The fields a partial update gave: those left out (undefined) keep their stored value. */
export const definedFields = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
