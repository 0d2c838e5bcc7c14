import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { RescueError } from '../errors.ts';
import { newId, randomString } from '../ids.ts';
import type { Db } from './db.ts';
import { endSessionsOf } from './sessions.ts';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

// API keys are 192-bit random secrets, so a fast SHA-256 is the right hash: it cannot be brute
// forced and the lookup is one indexed equality. Passwords are low entropy and get scrypt.
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [, salt, hash] = stored.split('$');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(expected, actual);
}

export interface NewAccount {
  account: { id: string; email: string; business_name: string; created_at: Date };
  apiKeys: { test: string; live: string };
}

export async function createAccount(db: Db, input: { email: string; password: string; businessName: string; now: Date }): Promise<NewAccount> {
  const passwordHash = await hashPassword(input.password);
  const id = newId('acct');
  const keys = { test: `sk_test_${randomString(32)}`, live: `sk_live_${randomString(32)}` };
  const email = input.email.trim().toLowerCase();
  try {
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('accounts').values({ id, email, password_hash: passwordHash, business_name: input.businessName, created_at: input.now }).execute();
      await tx
        .insertInto('api_keys')
        .values([
          { id: newId('key'), account_id: id, livemode: false, key_hash: hashApiKey(keys.test), key_hint: keys.test.slice(-4), created_at: input.now },
          { id: newId('key'), account_id: id, livemode: true, key_hash: hashApiKey(keys.live), key_hint: keys.live.slice(-4), created_at: input.now },
        ])
        .execute();
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new RescueError('email_taken', 'An account with this email already exists.', 'email');
    throw err;
  }
  return { account: { id, email, business_name: input.businessName, created_at: input.now }, apiKeys: keys };
}

/** One more test API key for an account (`rescue demo` prints one for the embedded sandbox account). */
export async function createTestApiKey(db: Db, accountId: string, now: Date): Promise<string> {
  const key = `sk_test_${randomString(32)}`;
  await db.insertInto('api_keys').values({ id: newId('key'), account_id: accountId, livemode: false, key_hash: hashApiKey(key), key_hint: key.slice(-4), created_at: now }).execute();
  return key;
}

export async function findApiKey(db: Db, key: string) {
  return db.selectFrom('api_keys').select(['id', 'account_id', 'livemode']).where('key_hash', '=', hashApiKey(key)).executeTakeFirst();
}

export async function countAccounts(db: Db): Promise<number> {
  const row = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

/**
 * A new password for the account with this email (the operator's `rescue account reset-password`),
 * and every dashboard session of the account ended: whoever signed in with the old one is out.
 */
export async function resetPassword(db: Db, email: string, password: string): Promise<{ accountId: string }> {
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (tx) => {
    const row = await tx.updateTable('accounts').set({ password_hash: passwordHash }).where('email', '=', email.trim().toLowerCase()).returning('id').executeTakeFirst();
    if (!row) throw new RescueError('resource_missing', `No account has the email ${email}.`, 'email');
    await endSessionsOf(tx, row.id);
    return { accountId: row.id };
  });
}
