import type { PGlite } from '@electric-sql/pglite';

// PGlite is one connection in one process. Kysely's Postgres driver wants a pg-style pool, so this
// adapter hands out that single connection to one borrower at a time: a transaction holds it until
// it releases, and every other query waits its turn — the same isolation a real pool would give.
export function pglitePool(db: PGlite) {
  let tail: Promise<void> = Promise.resolve();

  const client = {
    async query(sql: string, params: unknown[]) {
      const result = await db.query(sql, params, { rowMode: 'object' });
      const command = sql.trimStart().slice(0, 6).toUpperCase();
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length, command: command.startsWith('WITH') ? 'INSERT' : command };
    },
    release: () => {},
  };

  return {
    async connect() {
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      const previous = tail;
      tail = previous.then(() => mine);
      await previous;
      return { query: client.query, release };
    },
    async end() {
      await db.close();
    },
  };
}
