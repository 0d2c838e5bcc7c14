import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 10: src/store is the only writer of payments, rescues and attempts. Transitions compute
// change sets (engine/lifecycle.ts and the charge path); store/lifecycle-writes.ts applies them.
// This reads every source file outside src/store and fails on any insert, update or delete of those
// tables, in Kysely's form or in raw SQL (comments included: a write described is a write to move).

const SRC = join(import.meta.dirname, '../../src');
const TABLES = '(payments|rescues|attempts)';
const KYSELY = new RegExp(String.raw`\b(insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(\s*['"\x60]${TABLES}\b`, 'g');
const RAW = new RegExp(String.raw`\b(insert\s+into|update|delete\s+from|merge\s+into)\s+${TABLES}\b`, 'gi');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sources(path);
    return /\.(ts|tsx|js|mjs|sql)$/.test(name) ? [path] : [];
  });
}

/** Every write of the three tables in `text`, as `line: match`. */
function writesIn(text: string): string[] {
  const out: string[] = [];
  for (const re of [KYSELY, RAW]) {
    for (const m of text.matchAll(re)) out.push(`${text.slice(0, m.index).split('\n').length}: ${m[0]}`);
  }
  return out;
}

describe('the lifecycle has one writer', () => {
  it('recognises the forms it forbids', () => {
    expect(writesIn(`await tx.updateTable('attempts').set({})`)).toHaveLength(1);
    expect(writesIn(`db.insertInto("payments").values(x)`)).toHaveLength(1);
    expect(writesIn('tx.updateTable(`rescues as r`)')).toHaveLength(1);
    expect(writesIn('sql`update attempts a set status = 1`')).toHaveLength(1);
    expect(writesIn('sql`INSERT INTO payments (id) values (1)`')).toHaveLength(1);
    expect(writesIn('sql`delete from rescues where x`')).toHaveLength(1);
    expect(writesIn(`db.selectFrom('attempts').where('status', '=', 'planned')`)).toEqual([]);
    expect(writesIn(`tx.updateTable('payment_method_updates')`)).toEqual([]);
    expect(writesIn('sql`update attempts_archive set x = 1`')).toEqual([]);
  });

  it('no file outside src/store inserts, updates or deletes payments, rescues or attempts', () => {
    const files = sources(SRC).filter((f) => !relative(SRC, f).startsWith(`store/`));
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((f) => writesIn(readFileSync(f, 'utf8')).map((w) => `src/${relative(SRC, f)}:${w}`));
    expect(offenders).toEqual([]);
  });

  it('inside src/store, the writers are the lifecycle files', () => {
    const store = sources(join(SRC, 'store')).filter((f) => !f.includes('/migrations/'));
    const writers = store.filter((f) => writesIn(readFileSync(f, 'utf8')).length > 0).map((f) => relative(join(SRC, 'store'), f)).sort();
    // lifecycle-writes (change sets, claim-and-run-now) and batch-writes (a batch's outcomes) apply
    // transitions; attempts.ts holds the worker's claims (planned → processing) and announcements.
    expect(writers).toEqual(['attempts.ts', 'batch-writes.ts', 'lifecycle-writes.ts']);
  });
});
