import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RescueError } from '../../src/errors.ts';
import type { ChargeRequest } from '../../src/gateways/gateway.ts';
import { sandboxGateway } from '../../src/gateways/sandbox-gateway.ts';
import type { TestClockRow } from '../../src/store/schema.ts';
import { claimAdvancingClock, getTestClock, moveClock, requestAdvance } from '../../src/store/test-clocks.ts';
import { ENGINES } from '../support/databases.ts';
import { DAY, MINUTE, T0, at, makeAccount, makeClock, openStoreDb, waitForLockWaiters, type StoreDb } from '../support/fixtures.ts';

// Test clocks (advance requests and the worker's lease on an advancing clock) and the sandbox card
// network's ledger. One migrated database per engine for the whole file.

async function rescueError(p: Promise<unknown>): Promise<RescueError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RescueError);
    return err as RescueError;
  }
  throw new Error('expected a RescueError');
}

// Wall-clock instants for leases (the worker's real time), distinct from the clocks' frozen times.
const WALL = new Date('2026-06-01T00:00:00Z');
const wall = (ms: number) => new Date(WALL.getTime() + ms);

const VISA = 'pm_card_visa';
const DECLINED = 'pm_card_visa_chargeDeclinedInsufficientFunds';

function chargeRequest(accountId: string, idempotencyKey: string, o: Partial<ChargeRequest> = {}): ChargeRequest {
  return {
    accountId,
    livemode: false,
    attemptId: `att_${idempotencyKey.replace(/[^A-Za-z0-9]/g, '')}`,
    idempotencyKey,
    attemptedAt: T0,
    retryNumber: 0,
    firstFailureAt: null,
    payment: { id: 'pay_fixture', amount: 4999, currency: 'USD', metadata: {} },
    customer: null,
    paymentMethod: VISA,
    ...o,
  };
}

describe.each(ENGINES)('store: test clocks and sandbox ledger (%s)', (engine) => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openStoreDb(engine);
  });
  afterAll(() => s?.close());

  describe('test clocks', () => {
    let account: Awaited<ReturnType<typeof makeAccount>>;
    beforeAll(async () => {
      account = await makeAccount(s.db);
    });
    // claimAdvancingClock serves every account's clocks; start each case with none advancing.
    beforeEach(async () => {
      await s.db.updateTable('test_clocks').set({ status: 'ready', claimed_by: null, lease_expires_at: null }).execute();
    });

    it('requestAdvance refuses a time before the clock\'s frozen time', async () => {
      const clock = await makeClock(s.db, account.id, T0);
      const err = await rescueError(requestAdvance(s.db, account.id, clock.id, new Date(T0.getTime() - 1)));
      expect(err.code).toBe('test_clock_in_past');
      expect(err.param).toBe('frozen_time');
      expect(await getTestClock(s.db, account.id, clock.id)).toMatchObject({ status: 'ready', frozen_time: T0, target_time: T0 });
    });

    it('requestAdvance starts an advance, and refuses a second while it runs', async () => {
      const clock = await makeClock(s.db, account.id, T0);
      const advancing = await requestAdvance(s.db, account.id, clock.id, at(DAY));
      expect(advancing).toMatchObject({ status: 'advancing', frozen_time: T0, target_time: at(DAY) });

      const err = await rescueError(requestAdvance(s.db, account.id, clock.id, at(2 * DAY)));
      expect(err.code).toBe('test_clock_advancing');
      expect(await getTestClock(s.db, account.id, clock.id)).toMatchObject({ status: 'advancing', target_time: at(DAY) });

      // Once the worker finishes, the clock advances again — but never backwards.
      expect(await claimAdvancingClock(s.db, 'w1', WALL, wall(MINUTE))).toMatchObject({ id: clock.id });
      expect(await moveClock(s.db, clock.id, 'w1', at(DAY), true, null)).toBe(true);
      expect(await getTestClock(s.db, account.id, clock.id)).toMatchObject({ status: 'ready', frozen_time: at(DAY), claimed_by: null, lease_expires_at: null });
      expect((await rescueError(requestAdvance(s.db, account.id, clock.id, at(DAY - 1)))).code).toBe('test_clock_in_past');
      expect((await requestAdvance(s.db, account.id, clock.id, at(DAY))).status).toBe('advancing');
    });

    it('requestAdvance on another account\'s clock finds nothing', async () => {
      const clock = await makeClock(s.db, account.id, T0);
      const other = await makeAccount(s.db);
      expect((await rescueError(requestAdvance(s.db, other.id, clock.id, at(DAY)))).code).toBe('resource_missing');
      expect((await getTestClock(s.db, account.id, clock.id)).status).toBe('ready');
    });

    it('claimAdvancingClock: one worker holds a clock while its lease is live', async () => {
      const idle = await makeClock(s.db, account.id, T0);
      expect(await claimAdvancingClock(s.db, 'w1', WALL, wall(MINUTE))).toBeNull();

      const clock = await makeClock(s.db, account.id, T0);
      await requestAdvance(s.db, account.id, clock.id, at(DAY));
      const got = await claimAdvancingClock(s.db, 'w1', WALL, wall(MINUTE));
      expect(got).toMatchObject({ id: clock.id, claimed_by: 'w1', lease_expires_at: wall(MINUTE) });

      // Another worker gets nothing while w1's lease is live; w1 itself renews.
      expect(await claimAdvancingClock(s.db, 'w2', wall(30_000), wall(MINUTE + 30_000))).toBeNull();
      expect(await claimAdvancingClock(s.db, 'w1', wall(30_000), wall(90_000))).toMatchObject({ id: clock.id, claimed_by: 'w1', lease_expires_at: wall(90_000) });
      expect(await claimAdvancingClock(s.db, 'w2', wall(80_000), wall(140_000))).toBeNull();

      // w1 dies; after its lease runs out w2 takes over, and w1 cannot come back.
      expect(await claimAdvancingClock(s.db, 'w2', wall(2 * MINUTE), wall(3 * MINUTE))).toMatchObject({ id: clock.id, claimed_by: 'w2' });
      expect(await claimAdvancingClock(s.db, 'w1', wall(2 * MINUTE + 1), wall(4 * MINUTE))).toBeNull();

      // The stalled w1 cannot move the clock w2 now holds.
      expect(await moveClock(s.db, clock.id, 'w1', at(DAY), true, null)).toBe(false);
      expect(await getTestClock(s.db, account.id, clock.id)).toMatchObject({ status: 'advancing', claimed_by: 'w2', frozen_time: T0 });

      // Finished: nobody claims it any more.
      expect(await moveClock(s.db, clock.id, 'w2', at(DAY), true, null)).toBe(true);
      expect(await claimAdvancingClock(s.db, 'w2', wall(2 * MINUTE), wall(3 * MINUTE))).toBeNull();
      expect((await getTestClock(s.db, account.id, idle.id)).claimed_by).toBeNull();
    });

    if (engine === 'postgres') {
      it('claimAdvancingClock: of two workers racing for one clock, exactly one gets it; two clocks go one each', async () => {
        const other = await s.another();
        for (let i = 0; i < 5; i++) {
          const clock = await makeClock(s.db, account.id, T0);
          await requestAdvance(s.db, account.id, clock.id, at(DAY));
          const results = await Promise.all([claimAdvancingClock(s.db, 'wa', WALL, wall(MINUTE)), claimAdvancingClock(other, 'wb', WALL, wall(MINUTE))]);
          const winners = results.filter((r) => r !== null);
          expect(winners).toHaveLength(1);
          expect(winners[0]!.id).toBe(clock.id);
          expect((await getTestClock(s.db, account.id, clock.id)).claimed_by).toBe(winners[0]!.claimed_by);
          expect(await moveClock(s.db, clock.id, winners[0]!.claimed_by!, at(DAY), true, null)).toBe(true);
        }
        const c1 = await makeClock(s.db, account.id, T0);
        const c2 = await makeClock(s.db, account.id, T0);
        await requestAdvance(s.db, account.id, c1.id, at(DAY));
        await requestAdvance(s.db, account.id, c2.id, at(DAY));
        const [a, b] = await Promise.all([claimAdvancingClock(s.db, 'wa', WALL, wall(MINUTE)), claimAdvancingClock(other, 'wb', WALL, wall(MINUTE))]);
        expect([a?.id, b?.id].sort()).toEqual([c1.id, c2.id].sort());
      });

      it('requestAdvance: two requests racing for one clock, one starts it, the other is refused', async () => {
        const [first, second, holder] = [await s.another(), await s.another(), await s.another()];
        const clock = await makeClock(s.db, account.id, T0);
        // Hold the clock row so both requests are in flight at once, then let them go together.
        let racing!: Promise<PromiseSettledResult<TestClockRow>[]>;
        let finished = 0;
        const track = (p: Promise<TestClockRow>) => p.finally(() => finished++);
        await holder.transaction().execute(async (tx) => {
          await sql`select id from test_clocks where id = ${clock.id} for update`.execute(tx);
          racing = Promise.allSettled([track(requestAdvance(first, account.id, clock.id, at(DAY))), track(requestAdvance(second, account.id, clock.id, at(2 * DAY)))]);
          await waitForLockWaiters(s.db, 2);
          expect(finished).toBe(0);
        });
        const results = await racing;
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(refused?.reason).toMatchObject({ code: 'test_clock_advancing' });
        const row = await getTestClock(s.db, account.id, clock.id);
        const won = results.findIndex((r) => r.status === 'fulfilled');
        expect(row).toMatchObject({ status: 'advancing', target_time: won === 0 ? at(DAY) : at(2 * DAY) });
      });
    }
  });

  describe('sandbox gateway ledger', () => {
    let account: Awaited<ReturnType<typeof makeAccount>>;
    beforeAll(async () => {
      account = await makeAccount(s.db);
    });

    const ledger = (accountId: string, key: string) =>
      s.db.selectFrom('sandbox_charges').selectAll().where('account_id', '=', accountId).where('idempotency_key', '=', key).execute();

    it('a repeated idempotency key gets the first answer back and one ledger row', async () => {
      const gw = sandboxGateway(s.db);
      const [first] = await gw.charge([chargeRequest(account.id, 'key-1')]);
      expect(first).toMatchObject({ status: 'succeeded' });

      // The repeat would decline if decided afresh (another card, another day): the ledger answers instead.
      const [fresh] = await gw.charge([chargeRequest(account.id, 'never-seen', { paymentMethod: DECLINED })]);
      expect(fresh).toMatchObject({ status: 'failed', declineCode: 'insufficient_funds' });
      const [repeat] = await gw.charge([chargeRequest(account.id, 'key-1', { paymentMethod: DECLINED, attemptedAt: at(DAY), retryNumber: 1 })]);
      expect(repeat).toEqual(first);

      const rows = await ledger(account.id, 'key-1');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ payment_method: VISA, amount: 4999, outcome: first, created_at: T0 });
    });

    it('remembers a decline the same way', async () => {
      const gw = sandboxGateway(s.db);
      const [first] = await gw.charge([chargeRequest(account.id, 'key-2', { paymentMethod: DECLINED })]);
      expect(first).toMatchObject({ status: 'failed', declineCode: 'insufficient_funds' });
      const [repeat] = await gw.charge([chargeRequest(account.id, 'key-2', { paymentMethod: VISA })]);
      expect(repeat).toEqual(first);
      expect(await ledger(account.id, 'key-2')).toHaveLength(1);
    });

    it('answers a batch in request order, with a repeated key inside one batch answered once', async () => {
      const gw = sandboxGateway(s.db);
      const results = await gw.charge([
        chargeRequest(account.id, 'key-3a', { paymentMethod: DECLINED }),
        chargeRequest(account.id, 'key-3b', { paymentMethod: VISA }),
        chargeRequest(account.id, 'key-3a', { paymentMethod: VISA }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['failed', 'succeeded', 'failed']);
      expect(results[2]).toEqual(results[0]);
      expect(await ledger(account.id, 'key-3a')).toHaveLength(1);
      expect(await ledger(account.id, 'key-3b')).toHaveLength(1);
    });

    it('keys are per account: the same key under another account is its own charge', async () => {
      const other = await makeAccount(s.db);
      const gw = sandboxGateway(s.db);
      const [mine] = await gw.charge([chargeRequest(account.id, 'key-4', { paymentMethod: VISA })]);
      const [theirs] = await gw.charge([chargeRequest(other.id, 'key-4', { paymentMethod: DECLINED })]);
      expect(mine!.status).toBe('succeeded');
      expect(theirs!.status).toBe('failed');
      expect(await ledger(account.id, 'key-4')).toHaveLength(1);
      expect(await ledger(other.id, 'key-4')).toHaveLength(1);
    });

    if (engine === 'postgres') {
      it('two workers charging the same key at once get one answer and one ledger row', async () => {
        const a = sandboxGateway(s.db);
        const b = sandboxGateway(await s.another());
        for (let i = 0; i < 5; i++) {
          const key = `key-race-${i}`;
          const [[ra], [rb]] = await Promise.all([
            a.charge([chargeRequest(account.id, key, { paymentMethod: VISA })]),
            b.charge([chargeRequest(account.id, key, { paymentMethod: DECLINED })]),
          ]);
          expect(rb).toEqual(ra);
          expect(await ledger(account.id, key)).toHaveLength(1);
        }
      });
    }
  });
});
