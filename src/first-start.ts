import { systemClock } from './clock.ts';
import { countAccounts, createAccount, type NewAccount } from './store/accounts.ts';
import type { Db } from './store/db.ts';
import { randomString } from './ids.ts';

export const SANDBOX_EMAIL = 'sandbox@rescue.local';

/** On the very first start, a sandbox account so a newcomer can curl right away. */
export async function ensureSandboxAccount(db: Db, url: string | null): Promise<void> {
  if ((await countAccounts(db)) > 0) return;
  const { created, password } = await createSandboxAccount(db);
  console.log(`
First start: created a sandbox account.
  email:          ${SANDBOX_EMAIL}
  password:       ${password}
  test API key:   ${created.apiKeys.test}
  live API key:   ${created.apiKeys.live}
These are shown once. Try:
  curl -X POST ${url ?? 'http://127.0.0.1:4000'}/v2/payments -H "x-api-key: Bearer ${created.apiKeys.test}" \\
    -H "Content-Type: application/json" \\
    -d '{"amount":4999,"currency":"USD","payment_method":"pm_card_chargeDeclinedInsufficientFunds","off_session":true,"auto_rescue":{"enabled":true}}'
Or fill it with a quarter of a subscription business: npm run rescue demo
`);
}

export async function createSandboxAccount(db: Db): Promise<{ created: NewAccount; password: string }> {
  const password = randomString(16);
  const created = await createAccount(db, { email: SANDBOX_EMAIL, password, businessName: 'Sandbox', now: systemClock.now() });
  return { created, password };
}
