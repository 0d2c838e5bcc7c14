import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSettings, updateSettings, type NamedGateway } from '../../src/store/settings.ts';
import { ENGINES } from '../support/databases.ts';
import { T0, makeAccount, openStoreDb, waitForLockWaiters, type StoreDb } from '../support/fixtures.ts';

// Settings are saved by section under the row's lock (store/settings.ts): a Stripe OAuth callback
// adding its gateway and a dunning save at the same moment both survive (issue 10).

const named = (name: string): NamedGateway => ({ name, gateway: { type: 'sandbox' }, tokenPrefixes: [`${name}_`] });

describe.each(ENGINES)('store: settings saved atomically (%s)', (engine) => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openStoreDb(engine);
  });
  afterAll(() => s?.close());

  it('two concurrent partial saves of different sections both survive', async () => {
    const a = await makeAccount(s.db);
    const [dunning, gateways] = await Promise.all([
      updateSettings(s.db, a.id, false, T0, (cur) => ({ dunning: { ...cur.dunning, from_name: 'Acme billing' } })),
      updateSettings(s.db, a.id, false, T0, (cur) => ({ gateways: [...cur.gateways, named('stripe')] })),
    ]);
    expect(dunning.dunning.from_name).toBe('Acme billing');
    expect(gateways.gateways.map((g) => g.name)).toEqual(['stripe']);
    const saved = await getSettings(s.db, a.id, false);
    expect(saved.dunning.from_name).toBe('Acme billing');
    expect(saved.gateways.map((g) => g.name)).toEqual(['stripe']);
    expect(saved.gateway).toEqual({ type: 'sandbox' });
  });

  it('concurrent read-modify-writes of one section lose nothing', async () => {
    const a = await makeAccount(s.db);
    const names = Array.from({ length: 8 }, (_, i) => `gw${i}`);
    await Promise.all(names.map((n) => updateSettings(s.db, a.id, true, T0, (cur) => ({ gateways: [...cur.gateways, named(n)] }))));
    expect((await getSettings(s.db, a.id, true)).gateways.map((g) => g.name).sort()).toEqual(names);
  });

  it('a refused change writes nothing', async () => {
    const a = await makeAccount(s.db);
    await updateSettings(s.db, a.id, false, T0, (cur) => ({ recovery: { ...cur.recovery, controlGroupPercent: 10 } }));
    await expect(
      updateSettings(s.db, a.id, false, T0, () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect((await getSettings(s.db, a.id, false)).recovery.controlGroupPercent).toBe(10);
  });

  if (engine === 'postgres') {
    it('a save waits for the row lock, then reads what the other save wrote (Postgres)', async () => {
      const a = await makeAccount(s.db);
      await updateSettings(s.db, a.id, false, T0, (cur) => ({ dunning: { ...cur.dunning, reply_to: 'help@acme.test' } }));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      // Another writer holds the row, as a slow dunning save would. The saves start once it has the
      // lock: started together, a save could take the row first, and then the holder kept it from the
      // other save, one session waiting where the test waits for two (CI, 2026-12-05).
      const holder = s.db.transaction().execute(async (tx) => {
        await tx.selectFrom('account_settings').select('account_id').where('account_id', '=', a.id).where('livemode', '=', false).forUpdate().execute();
        locked();
        await held;
      });
      await lockTaken;
      const dunningSave = updateSettings(s.db, a.id, false, T0, (cur) => ({ dunning: { ...cur.dunning, from_name: 'Acme' } }));
      const stripeCallback = updateSettings(s.db, a.id, false, T0, (cur) => ({ gateways: [...cur.gateways, named('stripe')] }));
      await waitForLockWaiters(s.db, 2);
      release();
      await Promise.all([holder, dunningSave, stripeCallback]);
      const saved = await getSettings(s.db, a.id, false);
      expect(saved.dunning.from_name).toBe('Acme');
      expect(saved.dunning.reply_to).toBe('help@acme.test');
      expect(saved.gateways.map((g) => g.name)).toEqual(['stripe']);
    });
  }
});
