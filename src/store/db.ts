import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { pglitePool } from './pglite-pool.ts';

export type Db = Kysely<Database>;

export type StoreTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string | null };

const INT8 = 20;
const NUMERIC = 1700;

// bigint columns hold minor-unit amounts and sequence numbers, both far below 2^53; reading them as
// numbers keeps one row shape on pg (which returns strings) and PGlite (which returns bigints).
pg.types.setTypeParser(INT8, (v) => Number(v));
pg.types.setTypeParser(NUMERIC, (v) => Number(v));

export async function openDb(target: StoreTarget): Promise<Db> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: target.url, max: 10 });
    // An idle connection that dies (server restart, failover, a terminated backend) is dropped by
    // the pool, which opens a new one on demand; without a listener the pool's 'error' event would
    // be an uncaught exception that stops the process. Errors on connections in use reach the query.
    pool.on('error', () => {});
    // The same for a connection in use between two queries (a backend terminated by an admin or a
    // restart): pg emits it on the client, which the pool listens to only while it is idle, and
    // unheard it stopped the process. The next query on it fails and the pool drops it.
    pool.on('connect', (client) => client.on('error', () => {}));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
  const lite = await PGlite.create({
    dataDir: target.dataDir ?? undefined,
    parsers: { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => Number(v) },
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(lite) as never }) });
}
