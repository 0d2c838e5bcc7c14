import type { Db } from './db.ts';
import { isUniqueViolation } from './accounts.ts';
import type { Scope } from './payments.ts';

export type IdempotencyClaim =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'mismatch' }
  | { kind: 'in_flight'; createdAt: Date };

/** Claims a key for a request, or reports what an earlier request with the same key did. */
export async function claimIdempotencyKey(
  db: Db,
  scope: Scope,
  r: { key: string; method: string; path: string; hash: string; now: Date },
): Promise<IdempotencyClaim> {
  // Twice at most: a key released (by a failed request) between our insert and our read is free again.
  for (let round = 0; round < 2; round++) {
    try {
      await db
        .insertInto('idempotency_keys')
        .values({ account_id: scope.accountId, livemode: scope.livemode, key: r.key, request_method: r.method, request_path: r.path, request_hash: r.hash, response_status: null, response_body: null, created_at: r.now })
        .execute();
      return { kind: 'new' };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    const row = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('livemode', '=', scope.livemode)
      .where('key', '=', r.key)
      .executeTakeFirst();
    if (!row) continue;
    if (row.request_hash !== r.hash || row.request_path !== r.path || row.request_method !== r.method) return { kind: 'mismatch' };
    if (row.response_status === null) return { kind: 'in_flight', createdAt: row.created_at };
    return { kind: 'replay', status: row.response_status, body: row.response_body };
  }
  return { kind: 'in_flight', createdAt: r.now };
}

export async function completeIdempotencyKey(db: Db, scope: Scope, key: string, status: number, body: unknown): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ response_status: status, response_body: JSON.stringify(body) })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('key', '=', key)
    .execute();
}

/** A request that failed with a server error may be retried with the same key. */
export async function releaseIdempotencyKey(db: Db, scope: Scope, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('key', '=', key).execute();
}
