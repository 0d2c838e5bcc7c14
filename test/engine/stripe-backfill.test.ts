import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { fixture } from '../support/fake-stripe.ts';
import { eventually } from '../support/harness.ts';
import { connectedAccount, startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';

// The import on connect: 12 months of invoices, charges and subscriptions through the SDK's
// auto-pagination, by a worker job whose cursor survives an error, a rate limit and a crash.

const HOUR = 3600;
let s: StripeRescue;
const now = Math.floor(Date.now() / 1000);

describe.each(ENGINES)('Stripe backfill (%s)', (engine) => {
  beforeAll(async () => {
    s = await startStripeRescue({ engine });
    const inv = fixture('objects/invoice.json');
    const ch = fixture('objects/charge.json');
    const sub = fixture('events/customer.subscription.deleted.json').data.object;
    // 250 invoices in the last 12 months and 5 older ones that must not be imported.
    for (let i = 0; i < 255; i++) s.fake.invoices.push({ ...inv, id: `in_bf${String(i).padStart(4, '0')}`, created: i < 250 ? now - i * 24 * HOUR : now - 400 * 24 * HOUR - i, currency: 'usd' });
    for (let i = 0; i < 30; i++) s.fake.charges.push({ ...ch, id: `ch_bf${i}`, created: now - i * HOUR, status: i % 3 === 0 ? 'failed' : 'succeeded', failure_code: i % 3 === 0 ? 'card_declined' : null });
    for (let i = 0; i < 12; i++) s.fake.subscriptions.push({ ...sub, id: `sub_bf${i}`, created: now - i * 10 * 24 * HOUR, status: i < 4 ? 'canceled' : 'active', ended_at: i < 4 ? now - HOUR : null });
  });
  afterAll(() => s.close());

  const backfillRows = async (accountId: string) => (await sql<any>`select * from stripe_backfills where account_id = ${accountId} order by object_type`.execute(s.t.rescue.db)).rows;
  const count = async (table: string, accountId: string) => Number((await sql<any>`select count(*)::int as n from ${sql.table(table)} where account_id = ${accountId}`.execute(s.t.rescue.db)).rows[0].n);

  describe('backfill on connect', () => {
    it('imports 12 months, resumes from its cursor after an error and after a rate limit, and shows progress', async () => {
      // Page 2 of invoices fails once (a 500 the SDK does not retry here); the first charges page is rate limited once.
      s.fake.failNext(/^\/v1\/invoices\?.*starting_after/, 500, { error: { type: 'api_error', message: 'boom' } });
      // (limit=100: the import's pages, not the one-object lists of the permissions check on connect.)
      s.fake.failNext(/^\/v1\/charges\?limit=100/, 429, { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' } });
      const before = s.fake.requests.length;
      const { api } = await connectedAccount(s);
      const accountId = (await sql<any>`select account_id from stripe_connections order by connected_at desc limit 1`.execute(s.t.rescue.db)).rows[0].account_id;

      const done = await eventually(async () => {
        const rows = await backfillRows(accountId);
        return rows.length === 3 && rows.every((r: any) => r.status === 'done') ? rows : undefined;
      }, 30_000);
      expect(done.map((r: any) => [r.object_type, r.imported, r.last_error])).toEqual([['charges', 30, null], ['invoices', 250, null], ['subscriptions', 12, null]]);
      expect(await count('stripe_invoices', accountId)).toBe(250);
      expect(await count('stripe_charges', accountId)).toBe(30);
      expect(await count('stripe_subscriptions', accountId)).toBe(12);
      expect(Number((await sql<any>`select count(*)::int as n from stripe_subscriptions where account_id = ${accountId} and churned_at is not null`.execute(s.t.rescue.db)).rows[0].n)).toBe(4);

      const imported = (r: { query: URLSearchParams }) => r.query.has('created[gte]');
      const calls = s.fake.requests.slice(before).filter((r) => r.method === 'GET' && r.path === '/v1/invoices' && imported(r));
      // Started once from the top, 12 months back; after the failed page it resumed from the same cursor.
      expect(calls.filter((c) => !c.query.get('starting_after'))).toHaveLength(1);
      expect(Number(calls[0]!.query.get('created[gte]'))).toBeGreaterThan(now - 366 * 24 * HOUR);
      expect(Number(calls[0]!.query.get('created[gte]'))).toBeLessThan(now - 364 * 24 * HOUR);
      const afterPage1 = calls.filter((c) => c.query.get('starting_after') === 'in_bf0099');
      expect(afterPage1).toHaveLength(2);
      expect(afterPage1[1]!.at - afterPage1[0]!.at).toBeGreaterThanOrEqual(1500);
      const charges = s.fake.requests.slice(before).filter((r) => r.method === 'GET' && r.path === '/v1/charges' && imported(r));
      expect(charges.length).toBe(2);
      expect(charges[1]!.at - charges[0]!.at).toBeGreaterThanOrEqual(1500);
      expect(charges.every((c) => c.headers.authorization?.startsWith('Bearer sk_test_access'))).toBe(true);

      const view = (await api.get('/v2/stripe/connection')).body.backfill;
      expect(view).toEqual(expect.arrayContaining([expect.objectContaining({ object: 'invoices', status: 'done', imported: 250 })]));
    });

    it('an import left running by a crashed worker is taken over at its cursor', async () => {
      await connectedAccount(s);
      const accountId = (await sql<any>`select account_id from stripe_connections order by connected_at desc limit 1`.execute(s.t.rescue.db)).rows[0].account_id;
      await eventually(async () => ((await backfillRows(accountId)).every((r: any) => r.status === 'done') ? true : undefined), 30_000);
      // As if a worker had died after importing 200 invoices: running, its lease run out.
      await sql`update stripe_backfills set status = 'running', claimed_by = 'wrk_dead', lease_expires_at = now() - interval '1 second', cursor = 'in_bf0199', imported = 200, finished_at = null
        where account_id = ${accountId} and object_type = 'invoices'`.execute(s.t.rescue.db);
      const before = s.fake.requests.length;
      const row = await eventually(async () => {
        const r = (await backfillRows(accountId)).find((x: any) => x.object_type === 'invoices');
        return r.status === 'done' ? r : undefined;
      }, 30_000);
      expect(row.imported).toBe(250);
      const calls = s.fake.requests.slice(before).filter((r) => r.path === '/v1/invoices');
      expect(calls.map((c) => c.query.get('starting_after'))).toEqual(['in_bf0199']);
      expect(await count('stripe_invoices', accountId)).toBe(250);
    });

    it('a token Stripe refuses mid-import is refreshed once and the import goes on from its cursor', async () => {
      const stripeAccount = `acct_refresh${Date.now().toString(36)}`;
      // The first page goes through with the token; the second is refused, as if it expired meanwhile.
      s.fake.failNext(/^\/v1\/invoices\?.*starting_after=in_bf0099/, 401, { error: { type: 'invalid_request_error', message: 'Expired API Key provided' } });
      const before = s.fake.requests.length;
      await connectedAccount(s, { stripe_user_id: stripeAccount });
      const accountId = (await sql<any>`select account_id from stripe_connections where stripe_account_id = ${stripeAccount}`.execute(s.t.rescue.db)).rows[0].account_id;
      const rows = await eventually(async () => {
        const r = await backfillRows(accountId);
        return r.length === 3 && r.every((x: any) => x.status === 'done') ? r : undefined;
      }, 30_000);
      expect(rows.find((r: any) => r.object_type === 'invoices').imported).toBe(250);
      // The import's pages (created[gte]), not the permissions check's one-object list.
      const calls = s.fake.requests.slice(before).filter((r) => r.path === '/v1/invoices' && r.query.has('created[gte]'));
      // Page 1, the refused page 2, then page 2 again from the same cursor with the new token.
      expect(calls.slice(0, 3).map((c) => [c.query.get('starting_after'), c.headers.authorization])).toEqual([
        [null, `Bearer sk_test_access${stripeAccount}`],
        ['in_bf0099', `Bearer sk_test_access${stripeAccount}`],
        ['in_bf0099', expect.stringMatching(new RegExp(`^Bearer sk_test_access${stripeAccount}_r`))],
      ]);
      expect(s.fake.requests.slice(before).filter((r) => r.path === '/oauth/token' && r.body.get('grant_type') === 'refresh_token')).toHaveLength(1);
      expect(await count('stripe_invoices', accountId)).toBe(250);
    });
  });
});
