import { createSandboxAccount, SANDBOX_EMAIL } from '../first-start.ts';
import { countAccounts, createTestApiKey, findApiKey } from '../store/accounts.ts';
import type { Db } from '../store/db.ts';

// Whose account the demo fills: the account of a test key given, else the embedded default's
// sandbox account (created here on a fresh data folder, as the first `rescue start` would).

export interface DemoAccount {
  accountId: string;
  email: string;
  key: string;
  /** Only when the demo created the account: its password is shown this once. */
  password: string | null;
}

export async function demoAccount(db: Db, key: string | undefined, now: Date): Promise<DemoAccount> {
  if (key !== undefined) {
    const found = await findApiKey(db, key);
    if (!found) throw new Error('rescue demo --key: no account has this API key.');
    if (found.livemode) throw new Error('rescue demo --key: a test key (sk_test_…) is needed; the demo runs on test clocks.');
    const account = await db.selectFrom('accounts').select(['email']).where('id', '=', found.account_id).executeTakeFirstOrThrow();
    return { accountId: found.account_id, email: account.email, key, password: null };
  }
  const sandbox = await db.selectFrom('accounts').select(['id', 'email']).where('email', '=', SANDBOX_EMAIL).executeTakeFirst();
  if (sandbox) return { accountId: sandbox.id, email: sandbox.email, key: await createTestApiKey(db, sandbox.id, now), password: null };
  if ((await countAccounts(db)) > 0) throw new Error(`This database has accounts but no sandbox account (${SANDBOX_EMAIL}): give one of yours with --key sk_test_…`);
  const { created, password } = await createSandboxAccount(db);
  return { accountId: created.account.id, email: SANDBOX_EMAIL, key: created.apiKeys.test, password };
}
