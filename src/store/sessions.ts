import { createHash } from 'node:crypto';
import { sql } from 'kysely';
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

interface SignInFailuresTable {
  email: string;
  failures: number;
  first_failed_at: Date;
  locked_until: Date | null;
}

// Kysely's view of this file's tables, kept beside the queries that use them.
const tables = (db: Db) => db.withTables<{ dashboard_sessions: DashboardSessionsTable; dashboard_sign_in_failures: SignInFailuresTable }>();

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

// ── Throttling failed sign-ins ────────────────────────────────────────────────────────────────

export interface ThrottlePolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

/** When sign-ins for this email are refused until, or null when they are allowed now. */
export async function signInLockedUntil(db: Db, email: string, now: Date): Promise<Date | null> {
  const row = await tables(db).selectFrom('dashboard_sign_in_failures').select('locked_until').where('email', '=', email).executeTakeFirst();
  return row?.locked_until && row.locked_until.getTime() > now.getTime() ? row.locked_until : null;
}

/**
 * Counts a failure in one statement (concurrent failures all count); the failure that reaches the
 * limit within the window locks the email for lockMs. Returns the lock's end, if now locked.
 */
export async function recordSignInFailure(db: Db, email: string, now: Date, p: ThrottlePolicy): Promise<Date | null> {
  const windowStart = new Date(now.getTime() - p.windowMs);
  const lockUntil = new Date(now.getTime() + p.lockMs);
  const res = await sql<{ locked_until: Date | null }>`
    insert into dashboard_sign_in_failures as f (email, failures, first_failed_at, locked_until)
    values (${email}, 1, ${now}, ${p.maxFailures <= 1 ? lockUntil : null})
    on conflict (email) do update set
      failures = case when f.first_failed_at <= ${windowStart} then 1 else f.failures + 1 end,
      first_failed_at = case when f.first_failed_at <= ${windowStart} then ${now} else f.first_failed_at end,
      locked_until = case
        when f.first_failed_at > ${windowStart} and f.failures + 1 >= ${p.maxFailures} then ${lockUntil}
        else f.locked_until end
    returning locked_until`.execute(db);
  const until = res.rows[0]?.locked_until ?? null;
  return until && new Date(until).getTime() > now.getTime() ? new Date(until) : null;
}

export async function clearSignInFailures(db: Db, email: string): Promise<void> {
  await tables(db).deleteFrom('dashboard_sign_in_failures').where('email', '=', email).execute();
}
