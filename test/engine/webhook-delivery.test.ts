import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISABLE_AFTER_FAILED_DELIVERIES } from '../../src/domain/webhook-retry.ts';
import { ENGINES } from '../support/databases.ts';
import { advanceClock, eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { shiftedClock, startReceiver, verifies, type Delivery, type Receiver, type ShiftedClock } from '../support/webhook-receiver.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

// Webhook delivery end to end: the real server and worker, a real HTTP receiver that verifies every
// request with the standardwebhooks library. The engine's clock is the wall clock shifted by hand,
// so retry backoff and the secret overlap are driven by moving it, not by sleeping; jitter is fixed
// at its midpoint (random = 0.5), so every retry time is known.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Short, yet far above a loopback round trip, so only the deliberately slow receiver times out.
const TIMEOUT_MS = 1000;

const hardDecline = { amount: 100, currency: 'USD', payment_method: 'pm_card_chargeDeclinedLostCard', auto_rescue: { enabled: true } };

async function deliveriesOf(api: Client, endpointId: string): Promise<any[]> {
  const res = await api.get(`/v2/webhook_endpoints/${endpointId}/deliveries?limit=100`);
  expect(res.status).toBe(200);
  return res.body.data;
}

/** Waits until every delivery of the endpoint has been tried and none is due at the clock's time. */
async function settled(api: Client, endpointId: string, count: number, clock: ShiftedClock): Promise<any[]> {
  return eventually(async () => {
    const list = await deliveriesOf(api, endpointId);
    const done = list.length === count && list.every((d) => d.attempts > 0 && (d.status !== 'pending' || Date.parse(d.next_retry_at) > clock.now().getTime()));
    return done ? list : undefined;
  }, 15_000);
}

async function endpoint(api: Client, receiver: Receiver, path: string, enabledEvents: string[]) {
  const res = await api.post('/v2/webhook_endpoints', { url: receiver.url(path), enabled_events: enabledEvents });
  expect(res.status).toBe(201);
  receiver.secrets(path, [res.body.secret]);
  return res.body as { id: string; secret: string };
}

function expectSigned(d: Delivery, secret: string) {
  expect(d.verifiedBy, `${d.path} ${d.body?.type}`).toEqual([secret]);
  expect(d.headers['webhook-id']).toBe(d.body.id);
  expect(d.headers['content-type']).toBe('application/json');
}

describe.each(ENGINES)('webhook delivery (%s)', (engine) => {
  let t: TestRescue;
  let receiver: Receiver;
  const clock = shiftedClock();

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestRescue({ engine, clock, random: () => 0.5, env: { RESCUE_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) } });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('delivers every event type a rescue emits, signed, in real time, each as GET /v2/events/:id shows it', async () => {
    const api = t.client((await t.signup()).testKey);
    const all = await endpoint(api, receiver, '/all', ['*']);
    const some = await endpoint(api, receiver, '/recoveries', ['recovery.success', 'recovery.failed']);

    const start = new Date('2026-03-25T10:30:00Z');
    const testClock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body;
    const customer = (await api.post('/v2/customers', { email: 'hooks@example.com', timezone: 'UTC', test_clock: testClock.id })).body;
    const pay = async (payment_method: string, auto_rescue: object = { enabled: true }) =>
      (await api.post('/v2/payments', { amount: 4999, currency: 'USD', customer: customer.id, payment_method, auto_rescue })).body;
    const until = start.getTime() / 1000 + 6 * 86400;
    await pay(`pm_card_insufficientFunds_until_${until}`, { enabled: true, max_retries: 4, retry_window_days: 14 }); // recovered
    await pay('pm_card_chargeDeclinedInsufficientFunds', { enabled: true, max_retries: 2 }); // exhausted
    await pay('pm_card_chargeDeclinedLostCard'); // blocked
    const cancelled = await pay('pm_card_chargeDeclined');
    expect((await api.post(`/v2/payments/${cancelled.id}/cancel_rescue`)).status).toBe(200);
    await advanceClock(api, testClock.id, new Date(start.getTime() + 30 * DAY));

    const events = (await api.get('/v2/events?limit=100')).body.data as any[];
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set([
        'payment.rescue_started', 'payment.rescue_retry', 'payment.rescue_succeeded', 'recovery.success', 'recovery_event',
        'payment.rescue_failed', 'recovery.failed', 'recovery.blocked', 'payment.rescue_cancelled',
      ]),
    );
    // Every event reaches the "*" endpoint; the other gets only the two types it asked for.
    await eventually(async () => (receiver.at('/all').length >= events.length ? true : undefined));
    const received = receiver.at('/all');
    expect(received.map((d) => d.headers['webhook-id']).sort()).toEqual(events.map((e) => e.id).sort());
    for (const d of received) {
      expectSigned(d, all.secret);
      expect(d.body).toEqual(events.find((e) => e.id === d.body.id));
      // Signed now, though the event happened at the test clock's time (months ago).
      expect(Math.abs(Number(d.headers['webhook-timestamp']) * 1000 - Date.now())).toBeLessThan(5 * MINUTE);
    }
    expect(received.some((d) => Date.parse(d.body.created_at) < Date.parse('2026-05-01T00:00:00Z'))).toBe(true);
    const wanted = events.filter((e) => e.type === 'recovery.success' || e.type === 'recovery.failed');
    await eventually(async () => (receiver.at('/recoveries').length >= wanted.length ? true : undefined));
    expect(receiver.at('/recoveries').map((d) => d.body.type).sort()).toEqual(['recovery.failed', 'recovery.success']);
    receiver.at('/recoveries').forEach((d) => expectSigned(d, some.secret));

    const log = await eventually(async () => {
      const list = await deliveriesOf(api, all.id);
      return list.length === events.length && list.every((d) => d.status === 'succeeded') ? list : undefined;
    });
    for (const d of log) expect(d).toMatchObject({ attempts: 1, response_status: 200, error: null, next_retry_at: null, latency_ms: expect.any(Number) });
  });

  it('retries a receiver that fails three times with growing delays, and records exactly one success', async () => {
    const api = t.client((await t.signup()).testKey);
    const answers = [500, 502, 503];
    receiver.on('/flaky', () => answers.shift() ?? 200);
    const ep = await endpoint(api, receiver, '/flaky', ['recovery.blocked']);
    await api.post('/v2/payments', hardDecline);
    const calls = () => receiver.at('/flaky');

    let [d] = await settled(api, ep.id, 1, clock);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, response_status: 500, error: 'HTTP 500', event_type: 'recovery.blocked' });
    expect(d.latency_ms).toEqual(expect.any(Number));
    // Retries at 1, 2 and 4 minutes after each failure (the jitter is pinned to its midpoint).
    for (const [i, delay] of [1 * MINUTE, 2 * MINUTE, 4 * MINUTE].entries()) {
      expect(Date.parse(d.next_retry_at) - Date.parse(d.last_attempt_at)).toBe(delay);
      // Not a moment before it is due: a minute short of the delay, the worker sends nothing.
      clock.advance(delay - 30 * SECOND);
      await new Promise((r) => setTimeout(r, 300));
      expect(calls()).toHaveLength(i + 1);
      clock.advance(30 * SECOND);
      [d] = await settled(api, ep.id, 1, clock);
      expect(calls()).toHaveLength(i + 2);
    }
    expect(d).toMatchObject({ status: 'succeeded', attempts: 4, response_status: 200, error: null, next_retry_at: null });
    // Nothing more is sent once it succeeded, however far time moves.
    clock.advance(DAY);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls().map((c) => c.answered)).toEqual([500, 502, 503, 200]);
    expect(new Set(calls().map((c) => c.headers['webhook-id'])).size).toBe(1);
    calls().forEach((c) => expectSigned(c, ep.secret));
    expect(await deliveriesOf(api, ep.id)).toEqual([d]);
  });

  it('counts an answer later than the timeout, or a redirect, as a failure, and never follows the redirect', async () => {
    const api = t.client((await t.signup()).testKey);
    receiver.on('/slow', () => new Promise((resolve) => setTimeout(() => resolve(200), TIMEOUT_MS + 500)));
    receiver.on('/moved', () => ({ status: 307, headers: { location: receiver.url('/elsewhere') } }));
    const slow = await endpoint(api, receiver, '/slow', ['recovery.blocked']);
    const moved = await endpoint(api, receiver, '/moved', ['recovery.blocked']);
    await api.post('/v2/payments', hardDecline);
    const [late] = await settled(api, slow.id, 1, clock);
    expect(late).toMatchObject({ status: 'pending', attempts: 1, response_status: null, latency_ms: null, error: `no answer within ${TIMEOUT_MS} ms` });
    expect(receiver.at('/slow')).toHaveLength(1);
    const [redirected] = await settled(api, moved.id, 1, clock);
    expect(redirected).toMatchObject({ status: 'pending', attempts: 1, error: 'the endpoint answered with a redirect, which is not followed' });
    expect(receiver.at('/moved')).toHaveLength(1);
    expect(receiver.at('/elsewhere')).toEqual([]);
    for (const ep of [slow, moved]) await api.post(`/v2/webhook_endpoints/${ep.id}`, { disabled: true });
  });

  it('gives up on a receiver that stays down after 3 days, and disables the endpoint with an event', async () => {
    const api = t.client((await t.signup()).testKey);
    receiver.on('/down', () => 503);
    const down = await endpoint(api, receiver, '/down', ['recovery.blocked']);
    const watcher = await endpoint(api, receiver, '/watcher', ['webhook_endpoint.disabled']);
    for (let i = 0; i < DISABLE_AFTER_FAILED_DELIVERIES; i++) await api.post('/v2/payments', hardDecline);

    let log = await settled(api, down.id, DISABLE_AFTER_FAILED_DELIVERIES, clock);
    for (let step = 0; step < 6; step++) {
      expect(log.every((d) => d.status === 'pending')).toBe(true);
      clock.advance(12 * HOUR);
      log = await settled(api, down.id, DISABLE_AFTER_FAILED_DELIVERIES, clock);
    }
    // Tried on its first request and every 12 hours for 3 days (each retry was due by then), then failed.
    for (const d of log) expect(d).toMatchObject({ status: 'failed', attempts: 7, response_status: 503, error: 'HTTP 503', next_retry_at: null });
    expect(receiver.at('/down')).toHaveLength(7 * DISABLE_AFTER_FAILED_DELIVERIES);

    const disabled = (await api.get(`/v2/webhook_endpoints/${down.id}`)).body;
    expect(disabled).toMatchObject({ status: 'disabled', disabled_reason: 'failing' });
    const events = (await api.get('/v2/events?type=webhook_endpoint.disabled')).body.data;
    expect(events).toHaveLength(1);
    expect(events[0].data).toEqual({ webhook_endpoint: down.id, url: receiver.url('/down'), reason: 'failing', failed_deliveries: DISABLE_AFTER_FAILED_DELIVERIES });
    // The event itself is delivered to the endpoint that subscribed to it.
    await eventually(async () => (receiver.at('/watcher').length === 1 ? true : undefined));
    expectSigned(receiver.at('/watcher')[0]!, watcher.secret);
    expect(receiver.at('/watcher')[0]!.body).toEqual(events[0]);

    // A disabled endpoint is queued nothing new; enabled again, it receives the next event.
    await api.post('/v2/payments', hardDecline);
    expect(await deliveriesOf(api, down.id)).toHaveLength(DISABLE_AFTER_FAILED_DELIVERIES);
    receiver.on('/down', () => 200);
    const enabled = await api.post(`/v2/webhook_endpoints/${down.id}`, { disabled: false });
    expect(enabled.body).toMatchObject({ status: 'enabled', disabled_reason: null });
    await api.post('/v2/payments', hardDecline);
    await eventually(async () => ((await deliveriesOf(api, down.id)).some((d) => d.status === 'succeeded') ? true : undefined));
  });

  it('signs with the old and the new secret for 24 hours after a rotation, then with the new one only', async () => {
    const api = t.client((await t.signup()).testKey);
    const ep = await endpoint(api, receiver, '/rotated', ['recovery.blocked']);
    const rotated = await api.post(`/v2/webhook_endpoints/${ep.id}/rotate_secret`);
    expect(rotated.status).toBe(200);
    const fresh: string = rotated.body.secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(ep.secret);
    expect(Date.parse(rotated.body.previous_secret_expires_at) - Date.parse(rotated.body.updated_at)).toBe(DAY);
    expect((await api.get(`/v2/webhook_endpoints/${ep.id}`)).body.secret).toBeNull();
    receiver.secrets('/rotated', [ep.secret, fresh]);

    await api.post('/v2/payments', hardDecline);
    await eventually(async () => (receiver.at('/rotated').length === 1 ? true : undefined));
    const during = receiver.at('/rotated')[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(during.verifiedBy).toEqual([ep.secret, fresh]);

    clock.advance(DAY + MINUTE);
    await api.post('/v2/payments', hardDecline);
    await eventually(async () => (receiver.at('/rotated').length === 2 ? true : undefined));
    const after = receiver.at('/rotated')[1]!;
    expect(verifies(after, fresh)).toBe(true);
    expect(verifies(after, ep.secret)).toBe(false);
    expect((await api.get(`/v2/webhook_endpoints/${ep.id}`)).body.previous_secret_expires_at).toBeNull();
  });
});

describe('a worker killed while a delivery is in flight (postgres)', () => {
  let t: TestRescue;
  let receiver: Receiver;
  let db: pg.Client;
  const workers: WorkerProcess[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestRescue({ engine: 'postgres', worker: false });
    db = new pg.Client({ connectionString: t.databaseUrl! });
    await db.connect();
  });
  afterAll(async () => {
    release?.();
    for (const w of workers) await w.kill();
    await db?.end();
    await t?.close();
    await receiver?.close();
  });

  it('another worker delivers every event after the lease runs out; webhook-id lets the receiver drop the repeat', async () => {
    const api = t.client((await t.signup()).testKey);
    const ep = await endpoint(api, receiver, '/crash', ['*']);
    for (let i = 0; i < 3; i++) await api.post('/v2/payments', hardDecline);
    await api.post('/v2/payments', { amount: 100, currency: 'USD', payment_method: 'pm_card_chargeDeclined', auto_rescue: { enabled: true } });
    const events = (await api.get('/v2/events?limit=100')).body.data as any[];
    expect(events).toHaveLength(4);
    const { rows: queued } = await db.query(`select event_id, status from webhook_deliveries where endpoint_id = $1`, [ep.id]);
    expect(queued.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.id).sort());

    // The receiver holds the first request open; the worker is killed while it waits for the answer.
    let arrived!: (d: Delivery) => void;
    const first = new Promise<Delivery>((resolve) => (arrived = resolve));
    receiver.on('/crash', async (d) => {
      if (d.seq === receiver.at('/crash')[0]!.seq) {
        arrived(d);
        await released;
      }
      return 200;
    });
    // A claim's lease is 4 timeouts + 2 s (webhook-delivery.ts): 4 s here.
    const env = { RESCUE_ATTEMPT_LEASE_SECONDS: '1', RESCUE_WEBHOOK_TIMEOUT_MS: '500' };
    const one = spawnWorker(t.databaseUrl!, env);
    workers.push(one);
    const oneId = await one.id;
    const held = await first;
    await one.kill();
    release();
    const { rows: stuck } = await db.query(`select status, claimed_by from webhook_deliveries where endpoint_id = $1 and event_id = $2`, [ep.id, held.body.id]);
    expect(stuck).toEqual([{ status: 'pending', claimed_by: oneId }]);

    const two = spawnWorker(t.databaseUrl!, env);
    workers.push(two);
    await two.id;
    const log = await eventually(async () => {
      const list = await deliveriesOf(api, ep.id);
      return list.every((d) => d.status === 'succeeded') ? list : undefined;
    }, 20_000);
    expect(log).toHaveLength(events.length);
    const got = receiver.at('/crash');
    got.forEach((d) => expectSigned(d, ep.secret));
    expect(new Set(got.map((d) => d.headers['webhook-id']))).toEqual(new Set(events.map((e) => e.id)));
    // The one in flight at the kill arrived twice, under the same webhook-id.
    expect(got.filter((d) => d.headers['webhook-id'] === held.body.id).length).toBeGreaterThanOrEqual(2);
    const { rows } = await db.query(`select claimed_by, lease_expires_at from webhook_deliveries where endpoint_id = $1`, [ep.id]);
    expect(rows.every((r) => r.claimed_by === null && r.lease_expires_at === null)).toBe(true);
  });
});
