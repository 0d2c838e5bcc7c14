import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, expectError } from '../support/api-assertions.ts';
import { advanceClock, eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Dunning settings (defaults per mode, validation naming `param`, what they switch off), the
// outbox API (list, filters, cursor, tenant isolation), and the merchant's own update page
// reporting a new card through POST /v2/payments/:id/payment_method — which also reopens one retry
// on a payment a hard decline ended.

const T0 = Date.parse('2026-06-01T09:00:00Z');
const unix = (ms: number) => Math.floor(ms / 1000);

let t: TestRescue;
let api: Client;
let live: Client;
let customer: string;
beforeAll(async () => {
  t = await startTestRescue();
  const keys = await t.signup();
  api = t.client(keys.testKey);
  live = t.client(keys.liveKey);
  customer = (await api.post('/v2/customers', { email: 'kim@example.com', timezone: 'Asia/Seoul', locale: 'ko-KR' })).body.id;
});
afterAll(() => t.close());

const fail = async (c: Client, o: Record<string, unknown> = {}) =>
  (await c.post('/v2/payments', { amount: 50000, currency: 'KRW', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true }, ...o })).body;
const sentEmails = (c: Client, payment: string) =>
  eventually(async () => {
    const list = (await c.get(`/v2/emails?payment=${payment}`)).body.data;
    return list.length > 0 && list.every((e: any) => e.status !== 'queued') ? list : undefined;
  });

describe('dunning settings', () => {
  it('defaults: on in test mode, off in live mode, every email on, no own page', async () => {
    expect((await api.get('/v2/settings/dunning')).body).toEqual({
      object: 'dunning_settings',
      livemode: false,
      enabled: true,
      from_name: null,
      reply_to: null,
      emails: { payment_failed: true, retry_reminder: true, rescue_failed: true, payment_recovered: true, card_expiring: true },
      update_payment_url: null,
      logo_url: null,
      brand_color: null,
      default_locale: null,
    });
    expect((await live.get('/v2/settings/dunning')).body).toMatchObject({ livemode: true, enabled: false });
  });

  it.each([
    [{ enabled: 'yes' }, 'enabled'],
    [{ from_name: 'Evil\r\nBcc: all@example.com' }, 'from_name'],
    [{ from_name: '' }, 'from_name'],
    [{ reply_to: 'not an email' }, 'reply_to'],
    [{ emails: { payment_failed: 1 } }, 'emails[payment_failed]'],
    [{ emails: { weekly_digest: true } }, 'emails[weekly_digest]'],
    [{ update_payment_url: 'ftp://example.com/pay' }, 'update_payment_url'],
    [{ colour: 'blue' }, 'colour'],
    [{ logo_url: 'http://acme.example/logo.png' }, 'logo_url'],
    [{ brand_color: 'blue' }, 'brand_color'],
    [{ brand_color: '#12345g' }, 'brand_color'],
  ])('refuses %j with a 400 naming %s, and changes nothing', async (body, param) => {
    const before = (await api.get('/v2/settings/dunning')).body;
    expectError(await api.post('/v2/settings/dunning', body), 400, { type: 'invalid_request_error', param });
    expect((await api.get('/v2/settings/dunning')).body).toEqual(before);
  });

  it('live mode wants an https update page', async () => {
    expectError(await live.post('/v2/settings/dunning', { update_payment_url: 'http://billing.example.com/card' }), 400, { param: 'update_payment_url' });
    expect((await live.post('/v2/settings/dunning', { update_payment_url: 'https://billing.example.com/card' })).status).toBe(200);
  });

  it('merges partial updates; turned off, or with the kind off, or notify_customer false: no email', async () => {
    const res = await api.post('/v2/settings/dunning', { emails: { payment_failed: false } });
    expect(res.body.emails).toEqual({ payment_failed: false, retry_reminder: true, rescue_failed: true, payment_recovered: true, card_expiring: true });
    const off1 = await fail(api);
    await api.post('/v2/settings/dunning', { emails: { payment_failed: true }, enabled: false });
    const off2 = await fail(api);
    await api.post('/v2/settings/dunning', { enabled: true });
    const off3 = await fail(api, { auto_rescue: { enabled: true, notify_customer: false } });
    const on = await fail(api);
    await sentEmails(api, on.id);
    for (const p of [off1, off2, off3]) expect((await api.get(`/v2/emails?payment=${p.id}`)).body.data).toEqual([]);
  });
});

describe('GET /v2/emails', () => {
  it('lists newest first with a cursor, filters by payment and kind, and retrieves one', async () => {
    const c = t.client((await t.signup()).testKey);
    const cus = (await c.post('/v2/customers', { email: 'list@example.com', timezone: 'UTC' })).body.id;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = (await c.post('/v2/payments', { amount: 100 + i, currency: 'USD', customer: cus, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } })).body;
      ids.push((await sentEmails(c, p.id))[0].id);
    }
    const newest = [...ids].reverse();
    const p1 = (await c.get('/v2/emails?limit=2')).body;
    expect(p1).toMatchObject({ object: 'list', url: '/v2/emails', has_more: true });
    expect(p1.data.map((e: any) => e.id)).toEqual(newest.slice(0, 2));
    const p2 = (await c.get(`/v2/emails?limit=2&starting_after=${newest[1]}`)).body;
    expect(p2.data.map((e: any) => e.id)).toEqual(newest.slice(2));
    expect(p2.has_more).toBe(false);
    expect((await c.get('/v2/emails?kind=payment_recovered')).body.data).toEqual([]);
    expect((await c.get('/v2/emails?kind=payment_failed')).body.data.length).toBe(3);
    const one = (await c.get(`/v2/emails/${ids[0]}`)).body;
    expect(one).toEqual({
      id: ids[0],
      object: 'email',
      livemode: false,
      kind: 'payment_failed',
      status: 'sent',
      to: 'list@example.com',
      subject: "Your payment to Acme didn't go through",
      text: expect.stringContaining('$1.00'),
      html: expect.stringContaining('<!doctype html>'),
      payment: expect.stringMatching(/^pay_/),
      customer: cus,
      transport: 'outbox',
      attempts: 1,
      created_at: expect.any(String),
      sent_at: expect.any(String),
      error: null,
    });
    expectError(await c.get('/v2/emails?kind=newsletter'), 400, { param: 'kind' });
    expectError(await c.get('/v2/emails?starting_after=em_nope'), 400, { code: 'resource_missing', param: 'starting_after' });
    expectError(await c.get('/v2/emails?to=x'), 400, { param: 'to' });
    expectError(await c.get('/v2/emails/em_000000000000000000000000'), 404, { code: 'resource_missing' });
  });

  it("no account sees another's emails, nor its live or test twin", async () => {
    const mine = await fail(api);
    const [email] = await sentEmails(api, mine.id);
    const other = t.client((await t.signup()).testKey);
    expectError(await other.get(`/v2/emails/${email.id}`), 404, { code: 'resource_missing' });
    expect((await other.get(`/v2/emails?payment=${mine.id}`)).body.data).toEqual([]);
    expect((await other.get('/v2/emails')).body.data).toEqual([]);
    expectError(await other.get(`/v2/emails?starting_after=${email.id}`), 400, { param: 'starting_after' });
    expectError(await live.get(`/v2/emails/${email.id}`), 404, { code: 'resource_missing' });
    expectError(await other.post(`/v2/payments/${mine.id}/payment_method`, { payment_method: 'pm_card_visa' }), 404, { code: 'resource_missing' });
  });
});

describe('POST /v2/payments/:id/payment_method (the merchant reports a new card)', () => {
  it("links point at the merchant's own page with the payment and a token the endpoint checks", async () => {
    const c = t.client((await t.signup()).testKey);
    await c.post('/v2/settings/dunning', { update_payment_url: 'https://billing.example.com/card?src=email' });
    const cus = (await c.post('/v2/customers', { email: 'own@example.com', timezone: 'UTC' })).body.id;
    const p = (await c.post('/v2/payments', { amount: 900, currency: 'USD', customer: cus, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } })).body;
    const [email] = await sentEmails(c, p.id);
    const url = new URL(/(https:\/\/billing\.example\.com\/card\S+)/.exec(email.text)![1]!);
    expect(url.searchParams.get('src')).toBe('email');
    expect(url.searchParams.get('payment')).toBe(p.id);
    const token = url.searchParams.get('token')!;
    expectError(await c.post(`/v2/payments/${p.id}/payment_method`, { payment_method: 'pm_card_visa', link_token: `${token}x` }), 400, { param: 'link_token' });
    expectError(await c.post(`/v2/payments/${p.id}/payment_method`, {}), 400, { param: 'payment_method' });
    const ok = await c.post(`/v2/payments/${p.id}/payment_method`, { payment_method: 'pm_card_visa', link_token: token });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ object: 'payment_method_update', outcome: 'retry_moved', payment: { id: p.id, payment_method: 'pm_card_visa', status: 'requires_rescue' } });
    expect(ok.body.retry_at).toBe(ok.body.payment.rescue_schedule.next_retry_at);
  });

  it('a new card after a hard decline reopens exactly one retry, which succeeds; a paid payment refuses another', async () => {
    const clock = (await api.post('/v2/test_clocks', { frozen_time: unix(T0) })).body.id;
    const cus = (await api.post('/v2/customers', { email: 'hard@example.com', timezone: 'UTC', test_clock: clock })).body.id;
    const p = (await api.post('/v2/payments', { amount: 3000, currency: 'USD', customer: cus, payment_method: 'pm_card_visa_chargeDeclinedLostCard', off_session: true, auto_rescue: { enabled: true } })).body;
    expect(p.status).toBe('failed');
    const res = await api.post(`/v2/payments/${p.id}/payment_method`, { payment_method: 'pm_card_mastercard' });
    expect(res.body).toMatchObject({ outcome: 'reopened', retry_at: new Date(T0 + 10 * 60_000).toISOString().replace('.000Z', 'Z'), payment: { status: 'requires_rescue' } });
    expect(res.body.payment.auto_rescue).toMatchObject({ status: 'active', max_retries: 1 });
    // The reopen is an event (issue 10): the rescue begins again, with its one retry on the new card.
    const started = (await api.get(`/v2/events?object=${p.id}&type=payment.rescue_started`)).body.data;
    expect(started).toHaveLength(1);
    expect(started[0].data).toMatchObject({ payment: p.id, failure_code: 'lost_card', rescue_schedule: { max_retries: 1, first_retry_at: res.body.retry_at, final_retry_at: res.body.retry_at } });
    // Sent again: nothing new.
    const again = await api.post(`/v2/payments/${p.id}/payment_method`, { payment_method: 'pm_card_mastercard' });
    expect(again.body.outcome).toBe('retry_moved');
    await advanceClock(api, clock, new Date(T0 + DAY_MS));
    const done = (await api.get(`/v2/payments/${p.id}`)).body;
    expect(done.status).toBe('succeeded');
    expect(done.rescue_history.map((a: any) => a.result)).toEqual(['failed', 'succeeded']);
    const kinds = (await sentEmails(api, p.id)).map((e: any) => e.kind).reverse();
    expect(kinds).toEqual(['payment_failed', 'payment_recovered']);
    expectError(await api.post(`/v2/payments/${p.id}/payment_method`, { payment_method: 'pm_card_visa' }), 409, { code: 'payment_not_updatable' });
  });
});
