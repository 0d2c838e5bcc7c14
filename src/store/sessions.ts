import { createHash } from 'node:crypto';
import { randomString } from '../ids.ts';
import type { Db } from './db.ts';

// Dashboard sessions (migration 0011). The browser holds a 256-bit random token in an HttpOnly
// cookie; the table keeps only its SHA-256 (like API keys: a high-entropy secret needs no slow hash),
// so neither a database dump nor a log line of a row can sign anybody in.

interface DashboardSessionsTable {
  id: string;
  account_id: string;
  token_hash: string;
  created_at: Date;
  expires_at: Date;
}

// Kysely's view of this file's tables, kept beside the queries that use them.
const tables = (db: Db) => db.withTables<{ dashboard_sessions: DashboardSessionsTable }>();

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface SessionAccount {
  sessionId: string;
  accountId: string;
  email: string;
  businessName: string;
  expiresAt: Date;
}

export async function findAccountByEmail(db: Db, email: string) {
  return db.selectFrom('accounts').select(['id', 'email', 'password_hash', 'business_name']).where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
}

/** A new session for the account; also drops the account's sessions that have expired. */
export async function createSession(db: Db, accountId: string, now: Date, ttlMs: number): Promise<{ token: string; id: string; expiresAt: Date }> {
  const token = `rds_${randomString(43)}`;
  const id = `sess_${randomString(24)}`;
  const expiresAt = new Date(now.getTime() + ttlMs);
  await tables(db).transaction().execute(async (tx) => {
    await tx.deleteFrom('dashboard_sessions').where('account_id', '=', accountId).where('expires_at', '<=', now).execute();
    await tx.insertInto('dashboard_sessions').values({ id, account_id: accountId, token_hash: hashToken(token), created_at: now, expires_at: expiresAt }).execute();
  });
  return { token, id, expiresAt };
}

/** The session's account, or null when the token is unknown, signed out or expired. */
export async function findSession(db: Db, token: string, now: Date): Promise<SessionAccount | null> {
  const row = await tables(db)
    .selectFrom('dashboard_sessions as s')
    .innerJoin('accounts as a', 'a.id', 's.account_id')
    .select(['s.id', 's.account_id', 's.expires_at', 'a.email', 'a.business_name'])
    .where('s.token_hash', '=', hashToken(token))
    .where('s.expires_at', '>', now)
    .executeTakeFirst();
  return row ? { sessionId: row.id, accountId: row.account_id, email: row.email, businessName: row.business_name, expiresAt: row.expires_at } : null;
}

export async function deleteSession(db: Db, token: string): Promise<boolean> {
  const res = await tables(db).deleteFrom('dashboard_sessions').where('token_hash', '=', hashToken(token)).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Ends every session of the account (its password changed). */
export async function endSessionsOf(db: Db, accountId: string): Promise<void> {
  await tables(db).deleteFrom('dashboard_sessions').where('account_id', '=', accountId).execute();
}
