import { sql } from 'kysely';
import type { Db } from './db.ts';
import { migrationFiles } from './migrate.ts';

// Readiness (GET /ready): the database answers within a short time and has every migration this
// code expects. A schema newer than the code (a rolling deploy, the new version migrated first) is
// still ready: migrations only add.

export type Readiness = { ready: true } | { ready: false; problem: string };

export async function checkReadiness(db: Db, timeoutMs: number): Promise<Readiness> {
  const expected = migrationFiles();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ ready: false, problem: `the database did not answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const asked = sql<{ version: string }>`select version from schema_migrations`
    .execute(db)
    .then(({ rows }): Readiness => {
      const applied = new Set(rows.map((r) => r.version));
      const pending = expected.filter((f) => !applied.has(f));
      return pending.length ? { ready: false, problem: `migrations not applied: ${pending.join(', ')}` } : { ready: true };
    })
    // The driver's message may name hosts or users; the code (ECONNREFUSED, 57P01, 3D000) is enough to act on.
    .catch((err: unknown): Readiness => ({ ready: false, problem: `the database is unreachable${codeOf(err)}` }));
  return Promise.race([asked, late]).finally(() => clearTimeout(timer));
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? ` (${code})` : '';
}
