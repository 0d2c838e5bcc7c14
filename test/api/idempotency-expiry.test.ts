import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { claimIdempotencyKey, IDEMPOTENCY_KEY_TTL_MS } from '../../src/store/idempotency.ts';
import { expectError } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Idempotency keys are remembered for 24 hours, as Stripe's are: within them a repeat is replayed,
// after them the same key is a new request, and the worker prunes the old rows. Time is the
// engine's clock, moved by the test.

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 25, 10, 0, 0);

describe.each(ENGINES)('Idempotency keys expire after 24 hours (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  let accountId: string;
  let nowMs = T0;
  const clock: Clock = { now: () => new Date(nowMs) };
  const withKey = (key: string) => ({ 'Idempotency-Key': key });
  const payment = (amount: number) => ({ amount, currency: 'USD', payment_method: 'pm_card_visa' });
  const keysOf = async () =>
    (await t.rescue.db.selectFrom('idempotency_keys').select('key').where('account_id', '=', accountId).orderBy('key').execute()).map((r) => r.key);

  beforeAll(async () => {
    t = await startTestRescue({ engine, clock });
    const account = await t.signup();
    accountId = account.accountId;
    api = t.client(account.testKey);
  });
  afterAll(async () => {
    await t.close();
  });

  it('replays within 24 h, is a new request after them, and the worker prunes the old row', async () => {
    nowMs = T0;
    const first = await api.post('/v2/payments', payment(1000), withKey('renewal-7'));
    expect(first.status).toBe(201);

    nowMs = T0 + 23 * HOUR;
    const replay = await api.post('/v2/payments', payment(1000), withKey('renewal-7'));
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expectError(await api.post('/v2/payments', payment(2000), withKey('renewal-7')), 409, { code: 'idempotency_key_reused' });
    expect(await keysOf()).toEqual(['renewal-7']);

    // A day later the key is forgotten: the worker's upkeep removes its row...
    nowMs = T0 + 24 * HOUR + 1000;
    await api.post('/v2/customers', { name: 'wakes the worker' });
    await eventually(async () => ((await keysOf()).length === 0 ? true : undefined));

    // ...and the same key, even with another body, is a new payment; the first one is untouched.
    const again = await api.post('/v2/payments', payment(2000), withKey('renewal-7'));
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.id).not.toBe(first.body.id);
    expect(again.body.amount).toBe(2000);
    expect((await api.get(`/v2/payments/${first.body.id}`)).body.amount).toBe(1000);
    const replayOfNew = await api.post('/v2/payments', payment(2000), withKey('renewal-7'));
    expect(replayOfNew.headers.get('idempotent-replayed')).toBe('true');
    expect(replayOfNew.body.id).toBe(again.body.id);
    expect((await api.get('/v2/payments?limit=100')).body.data.map((p: any) => p.id).sort()).toEqual([first.body.id, again.body.id].sort());
  });

  it('a key found expired when it is claimed (before any prune) counts as new', async () => {
    const scope = { accountId, livemode: false };
    const r = { key: 'claim-expiry', method: 'POST', path: '/v2/customers', hash: 'h1' };
    const at = new Date(T0 + 100 * HOUR);
    expect(await claimIdempotencyKey(t.rescue.db, scope, { ...r, now: at })).toEqual({ kind: 'new' });
    const justBefore = new Date(at.getTime() + IDEMPOTENCY_KEY_TTL_MS - 1000);
    expect(await claimIdempotencyKey(t.rescue.db, scope, { ...r, hash: 'h2', now: justBefore })).toEqual({ kind: 'mismatch' });
    const after = new Date(at.getTime() + IDEMPOTENCY_KEY_TTL_MS);
    expect(await claimIdempotencyKey(t.rescue.db, scope, { ...r, hash: 'h2', now: after })).toEqual({ kind: 'new' });
  });
});
