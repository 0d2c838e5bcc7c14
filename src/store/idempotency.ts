import type { Db } from './db.ts';
import { isUniqueViolation } from './accounts.ts';
import type { Scope } from './payments.ts';
import { forgetPaymentIdempotencyKey } from './lifecycle-writes.ts';

/**
 * A key is remembered for 24 hours, as Stripe's are: after that the same key is a new request, and
 * the worker prunes the rows (pruneIdempotencyKeys).
 */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

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
  // Three rounds at most: a key released (by a failed request) or expired between our insert and
  // our read is free again.
  for (let round = 0; round < 3; round++) {
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
    if (row.created_at.getTime() <= r.now.getTime() - IDEMPOTENCY_KEY_TTL_MS) {
      await forgetKeys(db, [{ account_id: scope.accountId, livemode: scope.livemode, key: r.key }], row.created_at);
      continue;
    }
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

type KeyRow = { account_id: string; livemode: boolean; key: string };

/**
 * Forgets keys (no newer than `createdBy`, so a key claimed again meanwhile survives): their rows go,
 * and the payments they created no longer answer to them, so a new request may use the key again.
 */
async function forgetKeys(db: Db, keys: readonly KeyRow[], createdBy: Date): Promise<number> {
  if (keys.length === 0) return 0;
  return db.transaction().execute(async (tx) => {
    let forgotten = 0;
    for (const k of keys) {
      const gone = await tx
        .deleteFrom('idempotency_keys')
        .where('account_id', '=', k.account_id)
        .where('livemode', '=', k.livemode)
        .where('key', '=', k.key)
        .where('created_at', '<=', createdBy)
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) continue;
      forgotten++;
      await forgetPaymentIdempotencyKey(tx, k.account_id, k.livemode, k.key);
    }
    return forgotten;
  });
}

/** Deletes up to `limit` keys older than the TTL; returns how many (the worker calls it until 0). */
export async function pruneIdempotencyKeys(db: Db, now: Date, limit = 500): Promise<number> {
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS);
  const old = await db.selectFrom('idempotency_keys').select(['account_id', 'livemode', 'key']).where('created_at', '<=', cutoff).limit(limit).execute();
  return forgetKeys(db, old, cutoff);
}
