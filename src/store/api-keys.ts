import { missingResource } from '../errors.ts';
import { newId, randomString } from '../ids.ts';
import { hashApiKey } from './accounts.ts';
import type { Db } from './db.ts';
import type { ApiKeysTable } from './schema.ts';

// An account's secret keys in one mode. Only a key's SHA-256 and last four characters are kept, so
// the secret is in the answer that makes it and nowhere else. Revoking deletes the row: nothing
// references a key, and a deleted hash can never authenticate again.

export type ApiKeyRow = Omit<ApiKeysTable, 'key_hash'>;

export interface NewApiKey {
  row: ApiKeyRow;
  secret: string;
}

function mint(accountId: string, livemode: boolean, now: Date) {
  const secret = `sk_${livemode ? 'live' : 'test'}_${randomString(32)}`;
  const row = { id: newId('key'), account_id: accountId, livemode, key_hint: secret.slice(-4), created_at: now };
  return { row, secret, insert: { ...row, key_hash: hashApiKey(secret) } };
}

export async function listApiKeys(db: Db, accountId: string, livemode: boolean): Promise<ApiKeyRow[]> {
  return db
    .selectFrom('api_keys')
    .select(['id', 'account_id', 'livemode', 'key_hint', 'created_at'])
    .where('account_id', '=', accountId)
    .where('livemode', '=', livemode)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function createApiKey(db: Db, accountId: string, livemode: boolean, now: Date): Promise<NewApiKey> {
  const k = mint(accountId, livemode, now);
  await db.insertInto('api_keys').values(k.insert).execute();
  return { row: k.row, secret: k.secret };
}

/** A new secret in place of the key's: the old one stops working in the same transaction. */
export async function rollApiKey(db: Db, accountId: string, livemode: boolean, id: string, now: Date): Promise<NewApiKey> {
  return db.transaction().execute(async (tx) => {
    const gone = await tx.deleteFrom('api_keys').where('id', '=', id).where('account_id', '=', accountId).where('livemode', '=', livemode).executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0) throw missingResource('API key', id);
    const k = mint(accountId, livemode, now);
    await tx.insertInto('api_keys').values(k.insert).execute();
    return { row: k.row, secret: k.secret };
  });
}

export async function revokeApiKey(db: Db, accountId: string, livemode: boolean, id: string): Promise<void> {
  const gone = await db.deleteFrom('api_keys').where('id', '=', id).where('account_id', '=', accountId).where('livemode', '=', livemode).executeTakeFirst();
  if (Number(gone.numDeletedRows) === 0) throw missingResource('API key', id);
}
