import type { Db } from '../store/db.ts';
import { hitCounter, type Counter } from '../store/rate-limits.ts';

// The per-key rate limit is counted on every API request, so a database write per request would cost
// each request a round trip (bench/load.ts: the ingest path makes about twenty; one more is 5% of its
// throughput). Far below the limit nobody needs an exact count: each process counts locally and
// writes its hits to the shared counter (store/rate-limits.ts) at least once per `syncMs`. From half
// the limit on, every hit is written and read back in one statement, so the limit itself is exact
// across processes; what a process may admit beyond the others' knowledge is bounded by half the limit.

interface Entry {
  /** The shared count when this process last wrote to it. */
  base: number;
  /** Hits counted here since. */
  pending: number;
  resetsAtMs: number;
  writtenAtMs: number;
}

export class LocalCounter {
  private readonly entries = new Map<string, Entry>();
  private readonly db: Db;
  private readonly syncMs: number;

  constructor(db: Db, syncMs = 1_000) {
    this.db = db;
    this.syncMs = syncMs;
  }

  async hit(key: string, now: Date, max: number, windowMs: number): Promise<Counter> {
    const t = now.getTime();
    const e = this.entries.get(key);
    const live = e !== undefined && e.resetsAtMs > t;
    if (live && e.base + e.pending + 1 < max / 2 && t - e.writtenAtMs < this.syncMs) {
      e.pending++;
      return { hits: e.base + e.pending, resetsAt: new Date(e.resetsAtMs) };
    }
    // Taken before the write, so concurrent requests never write the same pending hits twice.
    const carried = live ? e.pending : 0;
    if (live) e.pending = 0;
    const counted = await hitCounter(this.db, key, now, windowMs, carried + 1);
    const current = this.entries.get(key);
    if (current && current.resetsAtMs === counted.resetsAt.getTime()) {
      current.base = Math.max(current.base, counted.hits);
      current.writtenAtMs = t;
    } else {
      this.entries.set(key, { base: counted.hits, pending: current && current.resetsAtMs > t ? current.pending : 0, resetsAtMs: counted.resetsAt.getTime(), writtenAtMs: t });
    }
    if (this.entries.size > 10_000) this.prune(t);
    return counted;
  }

  private prune(t: number): void {
    for (const [key, e] of this.entries) if (e.resetsAtMs <= t) this.entries.delete(key);
  }
}
