import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../src/domain/events.ts';
import { expectError } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';

// The webhook endpoints API: CRUD, validation, tenant isolation, the live-mode address check, the
// delivery log and resending an event. Delivery itself runs in the server's worker against a real
// receiver on 127.0.0.1 (test mode may use loopback addresses).

const hardDecline = { amount: 100, currency: 'USD', payment_method: 'pm_card_chargeDeclinedLostCard', auto_rescue: { enabled: true } };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe.each(ENGINES)('webhook endpoints API (%s)', (engine) => {
  let t: TestRescue;
  let receiver: Receiver;
  let api: Client;
  let live: Client;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestRescue({ engine });
    const keys = await t.signup();
    api = t.client(keys.testKey);
    live = t.client(keys.liveKey);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const create = (client: Client, body: object) => client.post('/v2/webhook_endpoints', body);

  describe('create, read, update, delete', () => {
    it('creates an endpoint and shows its secret once', async () => {
      const res = await create(api, { url: receiver.url('/crud'), enabled_events: ['payment.rescue_started', 'recovery.success', 'recovery.success'], description: 'CRM' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^we_/),
        object: 'webhook_endpoint',
        url: receiver.url('/crud'),
        description: 'CRM',
        enabled_events: ['payment.rescue_started', 'recovery.success'],
        status: 'enabled',
        disabled_reason: null,
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32}$/),
        previous_secret_expires_at: null,
        livemode: false,
        created_at: expect.stringMatching(ISO),
        updated_at: expect.stringMatching(ISO),
      });
      const read = await api.get(`/v2/webhook_endpoints/${res.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ ...res.body, secret: null });
      // Every type the API names is accepted, and "*" stands for all of them.
      expect((await create(api, { url: receiver.url('/x'), enabled_events: [...EVENT_TYPES] })).status).toBe(201);
      expect((await create(api, { url: receiver.url('/x'), enabled_events: ['recovery.failed', '*'] })).body.enabled_events).toEqual(['*']);
    });

    it('lists newest first with limit, starting_after and has_more', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await create(api, { url: receiver.url(`/list${i}`), enabled_events: ['*'] })).body.id);
      const page1 = await api.get('/v2/webhook_endpoints?limit=2');
      expect(page1.status).toBe(200);
      expect(page1.body).toMatchObject({ object: 'list', url: '/v2/webhook_endpoints', has_more: true });
      expect(page1.body.data.map((e: any) => e.id)).toEqual([ids[2], ids[1]]);
      expect(page1.body.data.every((e: any) => e.secret === null)).toBe(true);
      const page2 = await api.get(`/v2/webhook_endpoints?limit=2&starting_after=${ids[1]}`);
      expect(page2.body.data[0].id).toBe(ids[0]);
      expectError(await api.get('/v2/webhook_endpoints?starting_after=we_nope'), 400, { code: 'resource_missing', param: 'starting_after' });
    });

    it('updates url, events and description, and disables and enables again', async () => {
      const id = (await create(api, { url: receiver.url('/before'), enabled_events: ['*'] })).body.id;
      const updated = await api.post(`/v2/webhook_endpoints/${id}`, { url: receiver.url('/after'), enabled_events: ['recovery.failed'], description: 'ops' });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ id, url: receiver.url('/after'), enabled_events: ['recovery.failed'], description: 'ops', status: 'enabled', secret: null });
      const off = await api.post(`/v2/webhook_endpoints/${id}`, { disabled: true });
      expect(off.body).toMatchObject({ status: 'disabled', disabled_reason: 'requested', url: receiver.url('/after') });
      expect((await api.get(`/v2/webhook_endpoints/${id}`)).body.status).toBe('disabled');
      const on = await api.post(`/v2/webhook_endpoints/${id}`, { disabled: false, description: null });
      expect(on.body).toMatchObject({ status: 'enabled', disabled_reason: null, description: null });
    });

    it('deletes an endpoint', async () => {
      const id = (await create(api, { url: receiver.url('/gone'), enabled_events: ['*'] })).body.id;
      const res = await api.del(`/v2/webhook_endpoints/${id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id, object: 'webhook_endpoint', deleted: true });
      expectError(await api.get(`/v2/webhook_endpoints/${id}`), 404, { code: 'resource_missing' });
      expectError(await api.del(`/v2/webhook_endpoints/${id}`), 404, { code: 'resource_missing' });
      expect((await api.get('/v2/webhook_endpoints?limit=100')).body.data.map((e: any) => e.id)).not.toContain(id);
    });

    it('rotates the secret: the new one is shown once, the old one overlaps for 24 hours', async () => {
      const created = (await create(api, { url: receiver.url('/rot'), enabled_events: ['*'] })).body;
      const res = await api.post(`/v2/webhook_endpoints/${created.id}/rotate_secret`);
      expect(res.status).toBe(200);
      expect(res.body.secret).toMatch(/^whsec_/);
      expect(res.body.secret).not.toBe(created.secret);
      expect(Date.parse(res.body.previous_secret_expires_at) - Date.parse(res.body.updated_at)).toBe(86_400_000);
      expect((await api.get(`/v2/webhook_endpoints/${created.id}`)).body).toMatchObject({ secret: null, previous_secret_expires_at: res.body.previous_secret_expires_at });
      expectError(await api.post('/v2/webhook_endpoints/we_nope/rotate_secret'), 404, { code: 'resource_missing' });
    });
  });

  describe('validation', () => {
    it.each([
      [{ enabled_events: ['*'] }, 'url', 'parameter_missing'],
      [{ url: 'ftp://example.com/hook', enabled_events: ['*'] }, 'url', 'parameter_invalid'],
      [{ url: 'not a url', enabled_events: ['*'] }, 'url', 'parameter_invalid'],
      [{ url: 'https://example.com/hook' }, 'enabled_events', 'parameter_missing'],
      [{ url: 'https://example.com/hook', enabled_events: [] }, 'enabled_events', 'parameter_invalid'],
      [{ url: 'https://example.com/hook', enabled_events: 'payment.rescue_started' }, 'enabled_events', 'parameter_invalid'],
      [{ url: 'https://example.com/hook', enabled_events: ['payment.rescue_started', 'payment.refunded'] }, 'enabled_events[1]', 'parameter_invalid'],
      [{ url: 'https://example.com/hook', enabled_events: ['payment.*'] }, 'enabled_events[0]', 'parameter_invalid'],
      [{ url: 'https://example.com/hook', enabled_events: ['*'], description: 'x'.repeat(5001) }, 'description', 'parameter_invalid'],
      [{ url: 'https://example.com/hook', enabled_events: ['*'], secret: 'whsec_abc' }, 'secret', 'parameter_invalid'],
    ])('refuses %j naming %s', async (body, param, code) => {
      expectError(await create(api, body), 400, { type: 'invalid_request_error', code, param });
    });

    it('refuses bad updates and unknown endpoints', async () => {
      const id = (await create(api, { url: receiver.url('/v'), enabled_events: ['*'] })).body.id;
      expectError(await api.post(`/v2/webhook_endpoints/${id}`, { url: 'gopher://x' }), 400, { param: 'url' });
      expectError(await api.post(`/v2/webhook_endpoints/${id}`, { enabled_events: ['nope'] }), 400, { param: 'enabled_events[0]' });
      expectError(await api.post(`/v2/webhook_endpoints/${id}`, { disabled: 'yes' }), 400, { param: 'disabled' });
      expectError(await api.post(`/v2/webhook_endpoints/${id}`, { status: 'disabled' }), 400, { param: 'status' });
      expectError(await api.post(`/v2/webhook_endpoints/${id}/rotate_secret`, { secret: 'whsec_mine' }), 400, { param: 'secret' });
      expectError(await api.post('/v2/webhook_endpoints/we_nope', { description: 'x' }), 404, { code: 'resource_missing' });
      expectError(await api.get('/v2/webhook_endpoints/we_nope'), 404, { code: 'resource_missing' });
      expectError(await api.get('/v2/webhook_endpoints/we_nope/deliveries'), 404, { code: 'resource_missing' });
      expectError(await api.get(`/v2/webhook_endpoints/${id}/deliveries?status=lost`), 400, { param: 'status' });
    });
  });

  describe('live mode', () => {
    it.each([
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[fe80::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
    ])('refuses the private or loopback address %s', async (url) => {
      expectError(await create(live, { url, enabled_events: ['*'] }), 400, { code: 'url_not_allowed', param: 'url' });
    });

    it('refuses moving an endpoint onto a private address, and keeps test and live endpoints apart', async () => {
      const liveId = (await create(live, { url: 'https://93.184.215.14/hook', enabled_events: ['*'] })).body.id;
      expect(liveId).toMatch(/^we_/);
      expectError(await live.post(`/v2/webhook_endpoints/${liveId}`, { url: 'http://10.0.0.1/hook' }), 400, { code: 'url_not_allowed', param: 'url' });
      expect((await live.get(`/v2/webhook_endpoints/${liveId}`)).body).toMatchObject({ livemode: true, url: 'https://93.184.215.14/hook' });
      expectError(await api.get(`/v2/webhook_endpoints/${liveId}`), 404);
      expect((await api.get('/v2/webhook_endpoints?limit=100')).body.data.map((e: any) => e.id)).not.toContain(liveId);
      // Test mode may point anywhere, loopback included.
      expect((await create(api, { url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] })).status).toBe(201);
    });
  });

  it('keeps each account\'s endpoints, deliveries and events to itself', async () => {
    const mine = (await create(api, { url: receiver.url('/mine'), enabled_events: ['recovery.blocked'] })).body;
    const other = t.client((await t.signup()).testKey);
    const theirs = (await create(other, { url: receiver.url('/theirs'), enabled_events: ['*'] })).body;
    const paid = (await api.post('/v2/payments', hardDecline)).body;
    const event = (await api.get(`/v2/events?object=${paid.id}`)).body.data[0];
    await eventually(async () => (receiver.at('/mine').some((d) => d.body.id === event.id) ? true : undefined));

    expect((await other.get('/v2/webhook_endpoints')).body.data.map((e: any) => e.id)).toEqual([theirs.id]);
    for (const res of [
      await other.get(`/v2/webhook_endpoints/${mine.id}`),
      await other.post(`/v2/webhook_endpoints/${mine.id}`, { url: receiver.url('/stolen') }),
      await other.post(`/v2/webhook_endpoints/${mine.id}/rotate_secret`),
      await other.get(`/v2/webhook_endpoints/${mine.id}/deliveries`),
      await other.del(`/v2/webhook_endpoints/${mine.id}`),
      await other.post(`/v2/events/${event.id}/resend`),
    ]) expectError(res, 404, { code: 'resource_missing' });
    expectError(await api.post(`/v2/events/${event.id}/resend`, { endpoint: theirs.id }), 400, { code: 'resource_missing', param: 'endpoint' });
    // The other account's "*" endpoint never received this account's event.
    expect(receiver.at('/theirs')).toEqual([]);
    expect((await api.get(`/v2/webhook_endpoints/${mine.id}`)).body.url).toBe(receiver.url('/mine'));
  });

  it('logs each delivery: status, attempts, response code, latency, next retry, event; pages and filters', async () => {
    const ok = (await create(api, { url: receiver.url('/log-ok'), enabled_events: ['recovery.blocked'] })).body;
    receiver.on('/log-down', () => 500);
    const down = (await create(api, { url: receiver.url('/log-down'), enabled_events: ['recovery.blocked'] })).body;
    const events: any[] = [];
    for (let i = 0; i < 3; i++) {
      const paid = (await api.post('/v2/payments', hardDecline)).body;
      events.push((await api.get(`/v2/events?object=${paid.id}`)).body.data[0]);
    }
    const log = await eventually(async () => {
      const list = (await api.get(`/v2/webhook_endpoints/${ok.id}/deliveries`)).body.data;
      return list.length === 3 && list.every((d: any) => d.status === 'succeeded') ? list : undefined;
    });
    expect(log.map((d: any) => d.event)).toEqual(events.map((e) => e.id).reverse());
    for (const d of log) {
      expect(d).toEqual({
        id: expect.stringMatching(/^whd_/),
        object: 'webhook_delivery',
        endpoint: ok.id,
        event: expect.stringMatching(/^evt_/),
        event_type: 'recovery.blocked',
        status: 'succeeded',
        attempts: 1,
        response_status: 200,
        latency_ms: expect.any(Number),
        error: null,
        next_retry_at: null,
        last_attempt_at: expect.stringMatching(ISO),
        created_at: expect.stringMatching(ISO),
        livemode: false,
      });
      expect(d.latency_ms).toBeGreaterThanOrEqual(0);
      expect(d.latency_ms).toBeLessThan(15_000);
    }
    const failing = await eventually(async () => {
      const list = (await api.get(`/v2/webhook_endpoints/${down.id}/deliveries`)).body.data;
      return list.length === 3 && list.every((d: any) => d.attempts === 1) ? list : undefined;
    });
    for (const d of failing) {
      expect(d).toMatchObject({ status: 'pending', attempts: 1, response_status: 500, error: 'HTTP 500' });
      // The first retry a minute later, give or take the 20% jitter.
      const wait = Date.parse(d.next_retry_at) - Date.parse(d.last_attempt_at);
      expect(wait).toBeGreaterThanOrEqual(47_000);
      expect(wait).toBeLessThanOrEqual(73_000);
    }
    const page = (await api.get(`/v2/webhook_endpoints/${ok.id}/deliveries?limit=2`)).body;
    expect(page.has_more).toBe(true);
    const rest = (await api.get(`/v2/webhook_endpoints/${ok.id}/deliveries?limit=2&starting_after=${page.data[1].id}`)).body;
    expect([...page.data, ...rest.data].map((d: any) => d.id)).toEqual(log.map((d: any) => d.id));
    expect(rest.has_more).toBe(false);
    expect((await api.get(`/v2/webhook_endpoints/${down.id}/deliveries?status=succeeded`)).body.data).toEqual([]);
    expect((await api.get(`/v2/webhook_endpoints/${down.id}/deliveries?status=pending`)).body.data).toHaveLength(3);
    expect((await api.get(`/v2/webhook_endpoints/${ok.id}/deliveries?event=${events[0].id}`)).body.data.map((d: any) => d.event)).toEqual([events[0].id]);
    expectError(await api.get(`/v2/webhook_endpoints/${ok.id}/deliveries?starting_after=whd_nope`), 400, { code: 'resource_missing', param: 'starting_after' });
    await api.post(`/v2/webhook_endpoints/${down.id}`, { disabled: true });
  });

  it('resends an event to every subscribed enabled endpoint, or to one', async () => {
    const a = (await create(api, { url: receiver.url('/resend-a'), enabled_events: ['recovery.blocked'] })).body;
    const b = (await create(api, { url: receiver.url('/resend-b'), enabled_events: ['*'] })).body;
    const elsewhere = (await create(api, { url: receiver.url('/resend-c'), enabled_events: ['recovery.success'] })).body;
    const paid = (await api.post('/v2/payments', hardDecline)).body;
    const event = (await api.get(`/v2/events?object=${paid.id}`)).body.data[0];
    await eventually(async () => (receiver.at('/resend-a').length === 1 && receiver.at('/resend-b').length === 1 ? true : undefined));
    // Other endpoints of this account that take the type get it too; the list names only the new deliveries.
    const subscribed = ((await api.get('/v2/webhook_endpoints?limit=100')).body.data as any[]).filter(
      (e) => e.status === 'enabled' && (e.enabled_events.includes('*') || e.enabled_events.includes('recovery.blocked')),
    );

    const all = await api.post(`/v2/events/${event.id}/resend`);
    expect(all.status).toBe(200);
    expect(all.body.object).toBe('list');
    expect(all.body.data.map((d: any) => d.endpoint).sort()).toEqual(subscribed.map((e) => e.id).sort());
    expect(all.body.data.map((d: any) => d.endpoint)).not.toContain(elsewhere.id);
    for (const d of all.body.data) expect(d).toMatchObject({ event: event.id, event_type: 'recovery.blocked', status: 'pending', attempts: 0 });
    await eventually(async () => (receiver.at('/resend-a').length === 2 && receiver.at('/resend-b').length === 2 ? true : undefined));
    // The same event under the same webhook-id, so a receiver that already has it can drop it.
    expect(receiver.at('/resend-a').map((d) => d.headers['webhook-id'])).toEqual([event.id, event.id]);
    expect(receiver.at('/resend-a')[1]!.body).toEqual(event);

    const one = await api.post(`/v2/events/${event.id}/resend`, { endpoint: a.id });
    expect(one.body.data.map((d: any) => d.endpoint)).toEqual([a.id]);
    await eventually(async () => (receiver.at('/resend-a').length === 3 ? true : undefined));
    expect(receiver.at('/resend-b')).toHaveLength(2);
    const logA = (await api.get(`/v2/webhook_endpoints/${a.id}/deliveries?event=${event.id}`)).body.data;
    expect(logA).toHaveLength(3);

    expectError(await api.post(`/v2/events/${event.id}/resend`, { endpoint: elsewhere.id }), 400, { code: 'parameter_invalid', param: 'endpoint' });
    await api.post(`/v2/webhook_endpoints/${b.id}`, { disabled: true });
    expectError(await api.post(`/v2/events/${event.id}/resend`, { endpoint: b.id }), 409, { code: 'webhook_endpoint_disabled', param: 'endpoint' });
    expectError(await api.post(`/v2/events/${event.id}/resend`, { endpoint: 'we_nope' }), 400, { code: 'resource_missing', param: 'endpoint' });
    expectError(await api.post('/v2/events/evt_nope/resend'), 404, { code: 'resource_missing' });
    expectError(await api.post(`/v2/events/${event.id}/resend`, { endpoints: [a.id] }), 400, { param: 'endpoints' });
    await api.post(`/v2/webhook_endpoints/${a.id}`, { disabled: true });
  });
});

describe('live mode with RESCUE_LIVE_GATEWAY_PRIVATE_ADDRESSES=true', () => {
  let t: TestRescue;
  beforeAll(async () => {
    t = await startTestRescue({ worker: false, env: { RESCUE_LIVE_GATEWAY_PRIVATE_ADDRESSES: 'true' } });
  });
  afterAll(() => t.close());

  it('accepts an endpoint inside the private network', async () => {
    const live = t.client((await t.signup()).liveKey);
    const res = await live.post('/v2/webhook_endpoints', { url: 'http://10.0.0.5:8080/hooks', enabled_events: ['*'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ livemode: true, url: 'http://10.0.0.5:8080/hooks' });
  });
});
