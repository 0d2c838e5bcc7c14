import { sql } from 'kysely';
import type { Db } from './db.ts';

// Fixed-window counters in the database (migration 0014), so every API process shares one count.
// `hit` counts and reads in one statement: concurrent requests each see a distinct count, which is
// what lets a throttle decide before the expensive or dangerous step (a password check, a signup).

export interface Counter {
  hits: number;
  resetsAt: Date;
}

interface RateLimitCountersTable {
  key: string;
  hits: number;
  window_ends_at: Date;
}

const tables = (db: Db) => db.withTables<{ rate_limit_counters: RateLimitCountersTable }>();

/** Counts `n` more hits on `key` (a new window when the last one has ended) and returns the count. */
export async function hitCounter(db: Db, key: string, now: Date, windowMs: number, n = 1): Promise<Counter> {
  const ends = new Date(now.getTime() + windowMs);
  const res = await sql<{ hits: number; window_ends_at: Date }>`
    insert into rate_limit_counters as c (key, hits, window_ends_at) values (${key}, ${n}, ${ends})
    on conflict (key) do update set
      hits = case when c.window_ends_at <= ${now} then ${n} else c.hits + ${n} end,
      window_ends_at = case when c.window_ends_at <= ${now} then ${ends} else c.window_ends_at end
    returning hits, window_ends_at`.execute(db);
  const row = res.rows[0]!;
  if (Math.random() < 0.001) await dropEnded(db, now);
  return { hits: Number(row.hits), resetsAt: new Date(row.window_ends_at) };
}

/** The count in the current window (0 when it has ended), without counting. */
export async function readCounter(db: Db, key: string, now: Date): Promise<Counter> {
  const row = await tables(db).selectFrom('rate_limit_counters').select(['hits', 'window_ends_at']).where('key', '=', key).where('window_ends_at', '>', now).executeTakeFirst();
  return row ? { hits: Number(row.hits), resetsAt: new Date(row.window_ends_at) } : { hits: 0, resetsAt: now };
}

/** Takes one hit back (a sign-in that turned out to be the owner's). */
export async function refundCounter(db: Db, key: string, now: Date): Promise<void> {
  await tables(db)
    .updateTable('rate_limit_counters')
    .set({ hits: sql`greatest(hits - 1, 0)` })
    .where('key', '=', key)
    .where('window_ends_at', '>', now)
    .execute();
}

/** Counters whose window ended over an hour ago are only clutter; dropped now and then. */
async function dropEnded(db: Db, now: Date): Promise<void> {
  await tables(db).deleteFrom('rate_limit_counters').where('window_ends_at', '<', new Date(now.getTime() - 3_600_000)).execute();
}
