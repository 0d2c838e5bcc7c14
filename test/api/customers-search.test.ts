import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Finding a customer (GET /v2/customers?q=) and naming a payment's card (payment_method_details), as
// the dashboard's customers and payments pages use them, on both engines.

describe.each(ENGINES)('customer search and card details (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  let live: Client;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestRescue({ engine, worker: false });
    const keys = await t.signup();
    api = t.client(keys.testKey);
    live = t.client(keys.liveKey);
    for (const [k, email, name] of [['ada', 'ada@example.com', 'Ada Lovelace'], ['grace', 'grace@navy.mil', 'Grace Hopper'], ['pct', 'deals@example.com', '100%_off Deals'], ['anon', null, null]] as const) {
      ids[k] = (await api.post('/v2/customers', { email, name })).body.id;
    }
    await live.post('/v2/customers', { email: 'ada.live@example.com', name: 'Ada Live' });
  });
  afterAll(() => t?.close());

  const found = async (q: string) => {
    const res = await api.get(`/v2/customers?q=${encodeURIComponent(q)}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data.map((c: any) => c.id).sort();
  };

  it('finds by part of the email or the name, in any case, within the mode', async () => {
    expect(await found('ADA')).toEqual([ids.ada]);
    expect(await found('hopper')).toEqual([ids.grace]);
    expect(await found('example.com')).toEqual([ids.ada, ids.pct].sort());
    expect(await found('nobody')).toEqual([]);
  });

  it('finds by the whole id only', async () => {
    expect(await found(ids.anon!)).toEqual([ids.anon]);
    expect(await found(ids.anon!.slice(0, -2))).toEqual([]);
  });

  it('takes % and _ literally', async () => {
    expect(await found('%')).toEqual([ids.pct]);
    expect(await found('0_o')).toEqual([]);
    expect(await found('%_off')).toEqual([ids.pct]);
  });

  it('pages the matches; an empty q is a 400 naming q', async () => {
    const first = (await api.get('/v2/customers?q=example&limit=1')).body;
    expect(first.data).toHaveLength(1);
    expect(first.has_more).toBe(true);
    const second = (await api.get(`/v2/customers?q=example&limit=1&starting_after=${first.data[0].id}`)).body;
    expect(second.has_more).toBe(false);
    expect([first.data[0].id, second.data[0].id].sort()).toEqual([ids.ada, ids.pct].sort());
    expectError(await api.get('/v2/customers?q='), 400, { param: 'q' });
  });

  it('a payment names its card by brand and last 4', async () => {
    const paid = (await api.post('/v2/payments', { amount: 1200, currency: 'USD', customer: ids.ada, payment_method: 'pm_card_mastercard' })).body;
    expect(paid.payment_method_details).toEqual({ type: 'card', card: { brand: 'mastercard', last4: '4444' } });
    const declined = (await api.post('/v2/payments', { amount: 1200, currency: 'USD', payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true } })).body;
    expect((await api.get(`/v2/payments/${declined.id}`)).body.payment_method_details).toEqual({ type: 'card', card: { brand: 'visa', last4: '9995' } });
  });
});
