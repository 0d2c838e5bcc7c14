import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRescue } from '../../src/engine/lifecycle.ts';
import { applyLifecycle, attemptsMade, claimPlannedNow } from '../../src/store/lifecycle-writes.ts';
import { ENGINES } from '../support/databases.ts';
import { DAY, T0, at, attemptById, attemptValues, makeAccount, makePayment, openStoreDb, paymentById, paymentValues, type StoreDb } from '../support/fixtures.ts';

// store/lifecycle-writes.ts: the one writer of payments, rescues and attempts applies a transition's
// change set — rows and events — all or nothing, and claims a planned attempt to run now.

describe.each(ENGINES)('store: lifecycle writes (%s)', (engine) => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openStoreDb(engine);
  });
  afterAll(() => s?.close());

  it('applies a cancel: payment, rescue, planned attempts and its event together', async () => {
    const a = await makeAccount(s.db);
    const { payment, attempts } = await makePayment(s.db, a.test, { retries: [{ planned_at: at(DAY) }], rescue: true });
    const made = await attemptsMade(s.db, a.test, [payment.id]);
    expect(made.get(payment.id)).toBe(1);
    await applyLifecycle(s.db, cancelRescue({ payment, attemptsMade: made.get(payment.id)! }, { by: 'merchant' }, at(DAY / 2)));
    expect((await paymentById(s.db, payment.id)).status).toBe('rescue_cancelled');
    expect(await attemptById(s.db, attempts[1]!.id)).toMatchObject({ status: 'cancelled', failure_message: 'rescue cancelled' });
    expect(await attemptById(s.db, attempts[0]!.id)).toMatchObject({ status: 'failed' });
    const rescue = await s.db.selectFrom('rescues').selectAll().where('payment_id', '=', payment.id).executeTakeFirstOrThrow();
    expect(rescue).toMatchObject({ status: 'cancelled', end_reason: 'cancelled', schedule: [] });
    const events = await s.db.selectFrom('events').select(['type', 'data']).where('object_id', '=', payment.id).execute();
    expect(events).toEqual([{ type: 'payment.rescue_cancelled', data: expect.objectContaining({ payment: payment.id, total_attempts: 1 }) }]);
  });

  it('is all or nothing: a failing row leaves no payment, attempt or event behind', async () => {
    const a = await makeAccount(s.db);
    const { payment } = await makePayment(s.db, a.test);
    const fresh = paymentValues(a.test);
    const shape = { id: fresh.id, account_id: fresh.account_id, livemode: fresh.livemode, test_clock: null };
    await expect(
      applyLifecycle(s.db, [
        { payments: [fresh], attempts: [attemptValues(shape)], events: [{ type: 'payment.rescue_started', objectId: fresh.id, data: {}, accountId: a.id, livemode: false, createdAt: T0 }] },
        // The same payment twice: the primary key refuses it, and the whole change set with it.
        { payments: [paymentValues(a.test, { id: payment.id })] },
      ]),
    ).rejects.toThrow();
    expect(await s.db.selectFrom('payments').select('id').where('id', '=', fresh.id).execute()).toEqual([]);
    expect(await s.db.selectFrom('attempts').select('id').where('payment_id', '=', fresh.id).execute()).toEqual([]);
    expect(await s.db.selectFrom('events').select('id').where('object_id', '=', fresh.id).execute()).toEqual([]);
  });

  it('inserts payments with their first attempts and returns the rows, in order', async () => {
    const a = await makeAccount(s.db);
    const p = [paymentValues(a.test), paymentValues(a.test)];
    const first = p.map((x) => attemptValues({ id: x.id, account_id: x.account_id, livemode: x.livemode, test_clock: null }, { status: 'processing', claimed_by: 'w1' }));
    const out = await applyLifecycle(s.db, { payments: p, attempts: first });
    expect(out.payments.map((x) => x.id)).toEqual(p.map((x) => x.id));
    expect(out.attempts.map((x) => x.id)).toEqual(first.map((x) => x.id));
    expect(out.attempts[0]!.gateway_errors).toBe(0);
  });

  it('claims the planned attempt to run now, only once, and only on the asked method', async () => {
    const a = await makeAccount(s.db);
    const { payment, attempts } = await makePayment(s.db, a.test, { retries: [{ planned_at: at(3 * DAY), payment_method_position: 1 }], rescue: true });
    const claim = { workerId: 'w_now', leaseUntil: at(DAY + 60_000), plannedAt: at(DAY) };
    expect(await claimPlannedNow(s.db, a.test, payment.id, { ...claim, position: 0 })).toEqual([]);
    const other = await makeAccount(s.db);
    expect(await claimPlannedNow(s.db, other.test, payment.id, claim)).toEqual([]);
    const claimed = await claimPlannedNow(s.db, a.test, payment.id, claim);
    expect(claimed).toMatchObject([{ id: attempts[1]!.id, status: 'processing', claimed_by: 'w_now', planned_at: at(DAY), lease_expires_at: at(DAY + 60_000) }]);
    expect(await claimPlannedNow(s.db, a.test, payment.id, claim)).toEqual([]);
  });
});
