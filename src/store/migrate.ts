import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Db } from './db.ts';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');

// Plain numbered SQL files, applied in order, each in its own transaction with its bookkeeping row,
// so a failed migration leaves nothing half-applied. An advisory lock keeps two processes starting
// at once (api + worker) from racing.
/** The migrations this code expects, in order. */
export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
}

export async function migrate(db: Db): Promise<string[]> {
  const files = migrationFiles();
  const applied: string[] = [];
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(727274)`.execute(conn);
    try {
      await sql`create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())`.execute(conn);
      const done = new Set((await sql<{ version: string }>`select version from schema_migrations`.execute(conn)).rows.map((r) => r.version));
      for (const file of files) {
        if (done.has(file)) continue;
        const text = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
        await conn.transaction().execute(async (tx) => {
          for (const statement of splitStatements(text)) await sql.raw(statement).execute(tx);
          await sql`insert into schema_migrations (version) values (${file})`.execute(tx);
        });
        applied.push(file);
      }
    } finally {
      await sql`select pg_advisory_unlock(727274)`.execute(conn);
    }
  });
  return applied;
}

// Migrations are written without dollar-quoted bodies, so splitting on `;` at line ends is safe and
// lets both drivers run them through the extended protocol (one statement per call).
function splitStatements(text: string): string[] {
  return text
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
