import { sql } from 'kysely';
import { missingResource } from '../errors.ts';
import type { Db } from './db.ts';
import type { Scope } from './payments.ts';

/**
 * The insertion sequence of the object a list's `starting_after` names, in the caller's account and
 * mode; a cursor the caller cannot see is a 400 naming `starting_after`.
 */
export async function cursorSeq(db: Db, table: 'payments' | 'events' | 'emails', kind: string, scope: Scope, id: string): Promise<number> {
  const { rows } = await sql<{ seq: number }>`
    select seq from ${sql.table(table)}
    where account_id = ${scope.accountId} and livemode = ${scope.livemode} and id = ${id}`.execute(db);
  if (!rows[0]) throw missingResource(kind, id, 'starting_after');
  return Number(rows[0].seq);
}
