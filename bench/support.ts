import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { startRescue, type Rescue } from '../src/server.ts';
import { createPostgresDatabase } from '../test/support/databases.ts';

export type Engine = 'pglite' | 'postgres';

export interface BenchRescue {
  rescue: Rescue;
  url: string;
  key: string;
  accountId: string;
  /** The Postgres database (for worker processes); null on PGlite. */
  databaseUrl: string | null;
  post(path: string, body?: unknown): Promise<any>;
  get(path: string): Promise<any>;
  close(): Promise<void>;
}

/** The real server on a free port over a fresh database, with a signed-up merchant. */
export async function benchRescue(engine: Engine, env: Record<string, string>, o: { worker: boolean; asyncCommit?: boolean }): Promise<BenchRescue> {
  const pgdb = engine === 'postgres' ? await createPostgresDatabase() : null;
  if (pgdb && o.asyncCommit) await asynchronousCommit(pgdb.url);
  const dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'rescue-bench-')) : null;
  // One merchant key drives the whole bench, far past any per-key limit: the limit is off here.
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'warn', RESCUE_WORKER_POLL_MS: '20', RESCUE_RATE_LIMIT_PER_KEY: '0', RESCUE_SIGNUP_PER_HOUR: '1000000', ...(pgdb ? { DATABASE_URL: pgdb.url } : {}), ...(dataDir ? { RESCUE_DATA_DIR: dataDir } : {}), ...env });
  const rescue = await startRescue(config, { api: true, worker: o.worker });
  const url = rescue.url!;
  const call = async (method: string, path: string, key: string | null, body?: unknown): Promise<any> => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const signup = await call('POST', '/signup', null, { email: `bench-${Date.now()}@example.com`, password: 'bench-password', business_name: 'Bench' });
  const key = signup.api_keys.test as string;
  return {
    rescue,
    url,
    key,
    accountId: signup.account.id as string,
    databaseUrl: pgdb?.url ?? null,
    post: (path, body) => call('POST', path, key, body),
    get: (path) => call('GET', path, key),
    async close() {
      await rescue.close();
      await pgdb?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A simulation bench measures what policies recover, not how fast commits reach the disk: with
 * synchronous_commit off, Postgres acknowledges a commit before its WAL is flushed (a crash could lose
 * the last few hundred ms; nothing is ever inconsistent), which removes one fsync per transaction.
 */
async function asynchronousCommit(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`alter database ${name} set synchronous_commit = off`);
    if (process.env.BENCH_PG_SLOW_MS) await c.query(`alter database ${name} set log_min_duration_statement = ${Number(process.env.BENCH_PG_SLOW_MS)}`);
  } finally {
    await c.end();
  }
}

/** Runs `fn` over items with at most `lanes` in flight. */
export async function inLanes<T>(items: readonly T[], lanes: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

export function table(rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n');
}

export const seconds = (ms: number) => (ms / 1000).toFixed(2);
