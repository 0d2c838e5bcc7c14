import { z } from 'zod';

// The shapes every response schema is built from (responses.ts, responses-settings.ts, responses-revtain.ts).

/** One timestamp convention in every object: ISO 8601 in UTC, to the second (`2026-03-25T10:30:00Z`). */
export const Timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
  .meta({ format: 'date-time', examples: ['2026-03-25T10:30:00Z'] });

export const Int = z.number().int();

/** A merchant's metadata: string keys and values. */
export const Metadata = z.record(z.string(), z.string());
