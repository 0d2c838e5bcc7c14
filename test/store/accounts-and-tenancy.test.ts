import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUTO_RESCUE } from '../../src/domain/auto-rescue-policy.ts';
import { RescueError } from '../../src/errors.ts';
import { countAccounts, createAccount, findApiKey, hashApiKey, verifyPassword } from '../../src/store/accounts.ts';
import { getCustomer, listCustomers } from '../../src/store/customers.ts';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../../src/store/idempotency.ts';
import { findPaymentIdByIdempotencyKey, getPaymentRecord, getPaymentRecords, listPaymentIds, type Scope } from '../../src/store/payments.ts';
import type { CustomerRow, PaymentRow, TestClockRow } from '../../src/store/schema.ts';
import { defaultGateway, getSettings, saveSettings } from '../../src/store/settings.ts';
import { getTestClock, listTestClocks } from '../../src/store/test-clocks.ts';
import { ENGINES } from '../support/databases.ts';
import { DAY, MINUTE, T0, at, makeAccount, makeClock, makeCustomer, makePayment, openStoreDb, type StoreDb } from '../support/fixtures.ts';

// Accounts and API keys, tenant/mode scoping of every read (DESIGN.md invariant 4), idempotency keys.
// One migrated database per engine for the whole file.

const PASSWORD = 'correct horse battery staple';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

// DESIGN.md invariant 4: no tenant sees another's data, and test mode never sees live mode's.
// Account A owns rows in test mode; every read is made as A (control), as B, and as A in live mode.

async function missing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RescueError);
    expect((err as RescueError).code).toBe('resource_missing');
    return;
  }
  throw new Error('expected resource_missing');
}

describe.each(ENGINES)('store: accounts, tenancy, idempotency (%s)', (engine) => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openStoreDb(engine);
  });
  afterAll(() => s?.close());

  describe('accounts', () => {
    it('stores only hashes of the API keys and the password', async () => {
      const created = await createAccount(s.db, { email: 'Owner@Example.com', password: PASSWORD, businessName: 'Acme', now: T0 });
      expect(created.apiKeys.test).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
      expect(created.apiKeys.live).toMatch(/^sk_live_[0-9A-Za-z]{32}$/);
      expect(created.account.email).toBe('owner@example.com');

      const keys = await s.db.selectFrom('api_keys').selectAll().where('account_id', '=', created.account.id).orderBy('livemode').execute();
      expect(keys.map((k) => k.livemode)).toEqual([false, true]);
      const [testKey, liveKey] = keys;
      expect(testKey!.key_hash).toBe(hashApiKey(created.apiKeys.test));
      expect(liveKey!.key_hash).toBe(hashApiKey(created.apiKeys.live));
      expect(testKey!.key_hint).toBe(created.apiKeys.test.slice(-4));
      // No stored column holds a key or the password in the clear.
      const account = await s.db.selectFrom('accounts').selectAll().where('id', '=', created.account.id).executeTakeFirstOrThrow();
      const stored = JSON.stringify([keys, account]);
      for (const secret of [created.apiKeys.test, created.apiKeys.live, created.apiKeys.test.slice(8), created.apiKeys.live.slice(8), PASSWORD]) {
        expect(stored).not.toContain(secret);
      }
      expect(account.password_hash).toMatch(/^scrypt\$/);
      expect(await verifyPassword(PASSWORD, account.password_hash)).toBe(true);
      expect(await verifyPassword('correct horse battery stapler', account.password_hash)).toBe(false);
      expect(await verifyPassword('', account.password_hash)).toBe(false);
    });

    it('finds an API key by the key itself, with its account and mode, and nothing by its hash', async () => {
      const a = await createAccount(s.db, { email: 'finder@example.com', password: PASSWORD, businessName: 'Finder', now: T0 });
      const b = await createAccount(s.db, { email: 'other@example.com', password: PASSWORD, businessName: 'Other', now: T0 });
      expect(await findApiKey(s.db, a.apiKeys.test)).toMatchObject({ account_id: a.account.id, livemode: false });
      expect(await findApiKey(s.db, a.apiKeys.live)).toMatchObject({ account_id: a.account.id, livemode: true });
      expect(await findApiKey(s.db, b.apiKeys.live)).toMatchObject({ account_id: b.account.id, livemode: true });
      expect(await findApiKey(s.db, hashApiKey(a.apiKeys.test))).toBeUndefined();
      expect(await findApiKey(s.db, `${a.apiKeys.test}x`)).toBeUndefined();
      expect(await findApiKey(s.db, 'sk_test_' + 'A'.repeat(32))).toBeUndefined();
    });

    it('refuses a second account for the same email, ignoring case and spaces, and writes nothing', async () => {
      const first = await createAccount(s.db, { email: 'Dup@Example.com', password: PASSWORD, businessName: 'First', now: T0 });
      const accountsBefore = await countAccounts(s.db);
      const keysBefore = await s.db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();

      const err = await rejection(createAccount(s.db, { email: '  dup@EXAMPLE.com ', password: 'another password', businessName: 'Second', now: T0 }));
      expect(err).toBeInstanceOf(RescueError);
      expect(err).toMatchObject({ code: 'email_taken', param: 'email' });

      expect(await countAccounts(s.db)).toBe(accountsBefore);
      const keysAfter = await s.db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(keysAfter.n)).toBe(Number(keysBefore.n));
      const orphans = await sql<{ n: number }>`
        select count(*)::int as n from api_keys k where not exists (select 1 from accounts a where a.id = k.account_id)`.execute(s.db);
      expect(orphans.rows[0]!.n).toBe(0);
      // The first account is untouched.
      const row = await s.db.selectFrom('accounts').selectAll().where('email', '=', 'dup@example.com').executeTakeFirstOrThrow();
      expect(row).toMatchObject({ id: first.account.id, business_name: 'First' });
      expect(await verifyPassword(PASSWORD, row.password_hash)).toBe(true);
    });

    it('writes the account and its keys together: a failure inserting the keys leaves no account behind', async () => {
      // Make the api_keys insert fail after the accounts insert succeeded, inside the same transaction.
      await sql.raw(`
        create function fail_api_keys() returns trigger language plpgsql as $$
        begin
          if exists (select 1 from accounts where id = new.account_id and business_name = 'Explode') then
            raise exception 'api_keys insert refused';
          end if;
          return new;
        end $$`).execute(s.db);
      await sql.raw(`create trigger fail_api_keys before insert on api_keys for each row execute function fail_api_keys()`).execute(s.db);
      try {
        const accountsBefore = await countAccounts(s.db);
        const err = await rejection(createAccount(s.db, { email: 'half@example.com', password: PASSWORD, businessName: 'Explode', now: T0 }));
        expect(String((err as Error).message)).toContain('api_keys insert refused');
        expect(err).not.toBeInstanceOf(RescueError);
        expect(await countAccounts(s.db)).toBe(accountsBefore);
        expect(await s.db.selectFrom('accounts').select('id').where('email', '=', 'half@example.com').executeTakeFirst()).toBeUndefined();
      } finally {
        await sql.raw('drop trigger fail_api_keys on api_keys').execute(s.db);
        await sql.raw('drop function fail_api_keys()').execute(s.db);
      }
      // The email is still free.
      const retry = await createAccount(s.db, { email: 'half@example.com', password: PASSWORD, businessName: 'Fine', now: T0 });
      expect(await findApiKey(s.db, retry.apiKeys.test)).toMatchObject({ account_id: retry.account.id });
    });

    // Only Postgres has two connections to race; PGlite serialises every caller on one.
    if (engine === 'postgres') it('two signups racing for one email: exactly one wins, the other gets email_taken', async () => {
      const other = await s.another();
      const results = await Promise.allSettled([
        createAccount(s.db, { email: 'race@example.com', password: PASSWORD, businessName: 'A', now: T0 }),
        createAccount(other, { email: 'RACE@example.com', password: PASSWORD, businessName: 'B', now: T0 }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toMatchObject({ code: 'email_taken' });
      const rows = await s.db.selectFrom('accounts').select('id').where('email', '=', 'race@example.com').execute();
      expect(rows).toHaveLength(1);
      const keys = await s.db.selectFrom('api_keys').select('account_id').where('account_id', '=', rows[0]!.id).execute();
      expect(keys).toHaveLength(2);
    });
  });

  describe('tenant and mode scoping of reads', () => {
    let A: { id: string; test: Scope; live: Scope };
    let B: { id: string; test: Scope; live: Scope };
    let outsiders: Scope[];
    let customerA: CustomerRow;
    let customerB: CustomerRow;
    let clockA: TestClockRow;
    let clockB: TestClockRow;
    let paymentA: PaymentRow;
    let paymentB: PaymentRow;

    beforeAll(async () => {
      A = await makeAccount(s.db);
      B = await makeAccount(s.db);
      outsiders = [B.test, A.live, B.live];
      clockA = await makeClock(s.db, A.id);
      clockB = await makeClock(s.db, B.id);
      customerA = await makeCustomer(s.db, A.test, { testClock: clockA.id, email: 'a@example.com' });
      customerB = await makeCustomer(s.db, B.test, { email: 'b@example.com' });
      paymentA = (
        await makePayment(s.db, A.test, {
          payment: { customer_id: customerA.id, idempotency_key: 'order-1', test_clock: clockA.id },
          retries: [{ planned_at: at(DAY) }],
          rescue: true,
        })
      ).payment;
      paymentB = (await makePayment(s.db, B.test, { payment: { customer_id: customerB.id, idempotency_key: 'order-1' } })).payment;
      const defaults = await getSettings(s.db, A.id, false);
      await saveSettings(s.db, A.id, false, { ...defaults, autoRescue: { ...DEFAULT_AUTO_RESCUE, enabled: true, max_retries: 2 }, gateway: { type: 'http', url: 'https://a.example/charge', secret: 'whsec_a' } }, T0);
      const claim = await claimIdempotencyKey(s.db, A.test, { key: 'idem-1', method: 'POST', path: '/v2/payments', hash: 'h1', now: T0 });
      expect(claim.kind).toBe('new');
      await completeIdempotencyKey(s.db, A.test, 'idem-1', 201, { id: paymentA.id });
    });

    it('getPaymentRecord / getPaymentRecords', async () => {
      const own = await getPaymentRecord(s.db, A.test, paymentA.id);
      expect(own.payment.id).toBe(paymentA.id);
      expect(own.rescue?.payment_id).toBe(paymentA.id);
      expect(own.attempts.map((a) => a.number)).toEqual([1, 2]);
      expect((await getPaymentRecords(s.db, A.test, [paymentA.id, paymentB.id])).map((r) => r.payment.id)).toEqual([paymentA.id]);

      for (const scope of outsiders) {
        await missing(getPaymentRecord(s.db, scope, paymentA.id));
        const records = await getPaymentRecords(s.db, scope, [paymentA.id]);
        expect(records).toEqual([]);
      }
      const asB = await getPaymentRecords(s.db, B.test, [paymentA.id, paymentB.id]);
      expect(asB.map((r) => r.payment.id)).toEqual([paymentB.id]);
      expect(asB[0]!.rescue).toBeNull();
      expect(asB[0]!.attempts.every((a) => a.account_id === B.id && a.payment_id === paymentB.id)).toBe(true);
    });

    it('listPaymentIds, its filters and its cursor', async () => {
      expect((await listPaymentIds(s.db, A.test, { limit: 10 })).ids).toEqual([paymentA.id]);
      expect((await listPaymentIds(s.db, A.test, { limit: 10, customer: customerA.id })).ids).toEqual([paymentA.id]);
      expect((await listPaymentIds(s.db, A.test, { limit: 10, status: 'requires_rescue' })).ids).toEqual([paymentA.id]);

      expect(await listPaymentIds(s.db, B.test, { limit: 10 })).toEqual({ ids: [paymentB.id], hasMore: false });
      expect(await listPaymentIds(s.db, B.test, { limit: 10, customer: customerA.id })).toEqual({ ids: [], hasMore: false });
      expect(await listPaymentIds(s.db, A.live, { limit: 10 })).toEqual({ ids: [], hasMore: false });
      expect(await listPaymentIds(s.db, A.live, { limit: 10, status: 'requires_rescue' })).toEqual({ ids: [], hasMore: false });
      // Another tenant's payment id is no cursor.
      await missing(listPaymentIds(s.db, B.test, { limit: 10, startingAfter: paymentA.id }));
      await missing(listPaymentIds(s.db, A.live, { limit: 10, startingAfter: paymentA.id }));
    });

    it('findPaymentIdByIdempotencyKey', async () => {
      expect(await findPaymentIdByIdempotencyKey(s.db, A.test, 'order-1')).toBe(paymentA.id);
      expect(await findPaymentIdByIdempotencyKey(s.db, B.test, 'order-1')).toBe(paymentB.id);
      expect(await findPaymentIdByIdempotencyKey(s.db, A.live, 'order-1')).toBeNull();
      expect(await findPaymentIdByIdempotencyKey(s.db, B.live, 'order-1')).toBeNull();
    });

    it('getCustomer / listCustomers', async () => {
      expect((await getCustomer(s.db, A.test, customerA.id)).email).toBe('a@example.com');
      expect((await listCustomers(s.db, A.test, { limit: 10 })).data.map((c) => c.id)).toEqual([customerA.id]);
      for (const scope of outsiders) await missing(getCustomer(s.db, scope, customerA.id));
      expect((await listCustomers(s.db, B.test, { limit: 10 })).data.map((c) => c.id)).toEqual([customerB.id]);
      expect(await listCustomers(s.db, A.live, { limit: 10 })).toEqual({ data: [], hasMore: false });
      await missing(listCustomers(s.db, B.test, { limit: 10, startingAfter: customerA.id }));
    });

    it('getTestClock / listTestClocks', async () => {
      expect((await getTestClock(s.db, A.id, clockA.id)).id).toBe(clockA.id);
      await missing(getTestClock(s.db, B.id, clockA.id));
      expect((await listTestClocks(s.db, B.id, 10)).map((c) => c.id)).toEqual([clockB.id]);
      expect((await listTestClocks(s.db, A.id, 10)).map((c) => c.id)).toEqual([clockA.id]);
    });

    it('getSettings', async () => {
      const own = await getSettings(s.db, A.id, false);
      expect(own.gateway).toEqual({ type: 'http', url: 'https://a.example/charge', secret: 'whsec_a' });
      expect(own.autoRescue).toMatchObject({ enabled: true, max_retries: 2 });
      // Every other scope reads exactly what a never-configured account reads.
      const fresh = await makeAccount(s.db);
      for (const scope of outsiders) {
        const other = await getSettings(s.db, scope.accountId, scope.livemode);
        expect(other).toEqual(await getSettings(s.db, fresh.id, scope.livemode));
        expect(other.gateway).toEqual(defaultGateway(scope.livemode));
        expect(other.autoRescue).toEqual(DEFAULT_AUTO_RESCUE);
      }
    });

    it('claimIdempotencyKey', async () => {
      const request = { key: 'idem-1', method: 'POST', path: '/v2/payments', hash: 'h1', now: T0 };
      expect(await claimIdempotencyKey(s.db, A.test, request)).toEqual({ kind: 'replay', status: 201, body: { id: paymentA.id } });
      // The same key under another tenant or mode is a new request, never A's stored answer.
      for (const scope of outsiders) expect(await claimIdempotencyKey(s.db, scope, request)).toEqual({ kind: 'new' });
      // Asked again, each scope sees its own (unfinished) request: in flight, not A's answer and not a mismatch.
      for (const scope of outsiders) expect(await claimIdempotencyKey(s.db, scope, request)).toEqual({ kind: 'in_flight', createdAt: T0 });
      expect(await claimIdempotencyKey(s.db, A.test, request)).toEqual({ kind: 'replay', status: 201, body: { id: paymentA.id } });
      // A's answer does not leak through a differently hashed request either.
      expect(await claimIdempotencyKey(s.db, A.live, { ...request, hash: 'h2' })).toEqual({ kind: 'mismatch' });
    });
  });

  describe('idempotency keys', () => {
    let account: Awaited<ReturnType<typeof makeAccount>>;
    beforeAll(async () => {
      account = await makeAccount(s.db);
    });

    const request = (key: string, o: Partial<{ method: string; path: string; hash: string; now: Date }> = {}) => ({
      key,
      method: 'POST',
      path: '/v2/payments',
      hash: 'sha256:body-1',
      now: T0,
      ...o,
    });

    it('claims a new key, reports it in flight, then replays the stored answer', async () => {
      expect(await claimIdempotencyKey(s.db, account.test, request('k-life'))).toEqual({ kind: 'new' });
      expect(await claimIdempotencyKey(s.db, account.test, request('k-life', { now: at(MINUTE) }))).toEqual({ kind: 'in_flight', createdAt: T0 });

      const body = { id: 'pay_123', amount: 4999, nested: { ok: true, list: [1, 2] } };
      await completeIdempotencyKey(s.db, account.test, 'k-life', 201, body);
      expect(await claimIdempotencyKey(s.db, account.test, request('k-life', { now: at(2 * MINUTE) }))).toEqual({ kind: 'replay', status: 201, body });
      // Still a replay the next time: the answer is kept.
      expect(await claimIdempotencyKey(s.db, account.test, request('k-life'))).toEqual({ kind: 'replay', status: 201, body });
    });

    it('reports a mismatch when the key comes back with another body, path or method', async () => {
      expect((await claimIdempotencyKey(s.db, account.test, request('k-mis'))).kind).toBe('new');
      expect(await claimIdempotencyKey(s.db, account.test, request('k-mis', { hash: 'sha256:body-2' }))).toEqual({ kind: 'mismatch' });
      expect(await claimIdempotencyKey(s.db, account.test, request('k-mis', { path: '/v2/customers' }))).toEqual({ kind: 'mismatch' });
      expect(await claimIdempotencyKey(s.db, account.test, request('k-mis', { method: 'DELETE' }))).toEqual({ kind: 'mismatch' });
      await completeIdempotencyKey(s.db, account.test, 'k-mis', 200, { ok: 1 });
      expect(await claimIdempotencyKey(s.db, account.test, request('k-mis', { hash: 'sha256:body-2' }))).toEqual({ kind: 'mismatch' });
      // The mismatched attempts did not overwrite the original request.
      expect(await claimIdempotencyKey(s.db, account.test, request('k-mis'))).toEqual({ kind: 'replay', status: 200, body: { ok: 1 } });
    });

    it('release frees the key for a new request, only in its own scope', async () => {
      expect((await claimIdempotencyKey(s.db, account.test, request('k-rel'))).kind).toBe('new');
      // Releasing from another mode or account touches nothing.
      const other = await makeAccount(s.db);
      await releaseIdempotencyKey(s.db, account.live, 'k-rel');
      await releaseIdempotencyKey(s.db, other.test, 'k-rel');
      expect((await claimIdempotencyKey(s.db, account.test, request('k-rel'))).kind).toBe('in_flight');

      await releaseIdempotencyKey(s.db, account.test, 'k-rel');
      // A retry of a failed request — even with a different body — is a new request now.
      expect(await claimIdempotencyKey(s.db, account.test, request('k-rel', { hash: 'sha256:body-2', now: at(MINUTE) }))).toEqual({ kind: 'new' });
      expect(await claimIdempotencyKey(s.db, account.test, request('k-rel', { hash: 'sha256:body-2' }))).toEqual({ kind: 'in_flight', createdAt: at(MINUTE) });
    });

    if (engine === 'postgres') {
      it('of two requests racing with one key, exactly one gets it', async () => {
        const other = await s.another();
        for (let i = 0; i < 5; i++) {
          const key = `k-race-${i}`;
          const results = await Promise.all([claimIdempotencyKey(s.db, account.test, request(key)), claimIdempotencyKey(other, account.test, request(key))]);
          expect(results.map((r) => r.kind).sort()).toEqual(['in_flight', 'new']);
        }
      });
    }
  });
});
