import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/db.ts';
import { hitCounter, readCounter, type Counter } from '../store/rate-limits.ts';

// @fastify/rate-limit's store interface over the app's own database (PGlite or Postgres), so every
// API process counts against the same limits; the plugin's own stores are per process or Redis.

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

export function databaseRateLimitStore(db: Db, clock: Clock) {
  const answer = (counted: Promise<Counter>, now: Date, cb: Callback) =>
    counted.then(
      (c) => cb(null, { current: c.hits, ttl: Math.max(0, c.resetsAt.getTime() - now.getTime()) }),
      (err: Error) => cb(err),
    );
  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, cb: Callback, timeWindow: number): void {
      const now = clock.now();
      answer(hitCounter(db, key, now, timeWindow), now, cb);
    }

    /** The plugin's `{increment: false}`: the count so far, without counting. */
    read(key: string, cb: Callback): void {
      const now = clock.now();
      answer(readCounter(db, key, now), now, cb);
    }

    child(): FastifyRateLimitStore {
      return new DatabaseRateLimitStore();
    }
  };
}
