import { AuthenticationError, CardError, InvalidRequestError, Rescue, RescueConnectionError, RescueError, WebhookSignatureError } from '@rescue/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestRescue, type TestRescue } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';

// @rescue/client against the real server: pages walked by `for await`, an Idempotency-Key on every
// POST (kept across its own retries, so a lost answer never charges twice), typed errors, and
// webhooks.verify on deliveries a real receiver got.

let t: TestRescue;
let receiver: Receiver;
let key: string;
let rescue: Rescue;

beforeAll(async () => {
  [t, receiver] = await Promise.all([startTestRescue(), startReceiver()]);
  key = (await t.signup()).testKey;
  rescue = new Rescue({ apiKey: key, baseUrl: t.url });
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

/** A fetch that records each request's method and headers, and can lose the next answers (sent, served, never received). */
function recordingFetch() {
  const sent: { method: string; url: string; headers: Headers }[] = [];
  let lose = 0;
  const impl: typeof fetch = async (input, init) => {
    sent.push({ method: init?.method ?? 'GET', url: String(input), headers: new Headers(init?.headers) });
    const res = await fetch(input, init);
    if (lose > 0) {
      lose--;
      await res.body?.cancel();
      throw new TypeError('fetch failed (socket hang up)');
    }
    return res;
  };
  return { impl, sent, loseNextAnswers: (n: number) => (lose = n) };
}

describe('requests', () => {
  it('sends the key as a bearer token and a fresh Idempotency-Key on each POST, none on GET', async () => {
    const f = recordingFetch();
    const client = new Rescue({ apiKey: key, baseUrl: `${t.url}/`, fetch: f.impl });
    const a = await client.customers.create({ email: 'a@example.com' });
    const b = await client.customers.create({ email: 'a@example.com' });
    expect(a.id).not.toBe(b.id);
    await client.customers.retrieve(a.id);
    expect(f.sent.map((s) => [s.method, s.headers.get('authorization')])).toEqual([
      ['POST', `Bearer ${key}`],
      ['POST', `Bearer ${key}`],
      ['GET', `Bearer ${key}`],
    ]);
    const [k1, k2, k3] = f.sent.map((s) => s.headers.get('idempotency-key'));
    expect(k1).toMatch(/^[0-9a-f-]{36}$/);
    expect(k2).toMatch(/^[0-9a-f-]{36}$/);
    expect(k1).not.toBe(k2);
    expect(k3).toBeNull();
  });

  it('a given idempotencyKey replays the first answer: one payment, one charge', async () => {
    const params = { amount: 777, currency: 'USD', payment_method: 'pm_card_visa' } as const;
    const first = await rescue.payments.create(params, { idempotencyKey: 'order-42' });
    const again = await rescue.payments.create(params, { idempotencyKey: 'order-42' });
    expect(again).toEqual(first);
    const mine = (await rescue.payments.list({ limit: 100 })).data.filter((p) => p.amount === 777);
    expect(mine).toHaveLength(1);
  });

  it('an answer lost on the way back is asked for again under the same key: one payment, charged once', async () => {
    const f = recordingFetch();
    const client = new Rescue({ apiKey: key, baseUrl: t.url, fetch: f.impl });
    f.loseNextAnswers(2);
    const payment = await client.payments.create({ amount: 778, currency: 'USD', payment_method: 'pm_card_visa' });
    expect(payment.status).toBe('succeeded');
    // Three sends, the key it chose itself on all three; the server charged on the first and replayed it.
    expect(f.sent).toHaveLength(3);
    expect(new Set(f.sent.map((s) => s.headers.get('idempotency-key'))).size).toBe(1);
    const all = (await rescue.payments.list({ limit: 100 })).data.filter((p) => p.amount === 778);
    expect(all.map((p) => p.id)).toEqual([payment.id]);
  });

  it('walks every page with for await, and one page with await', async () => {
    const own = new Rescue({ apiKey: (await t.signup()).testKey, baseUrl: t.url });
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await own.customers.create({ id: `user-${i}`, name: `User ${i}` })).id);
    const page = await own.customers.list({ limit: 2 });
    expect(page).toMatchObject({ object: 'list', has_more: true });
    expect(page.data.map((c) => c.id)).toEqual(['user-4', 'user-3']);
    const all: string[] = [];
    for await (const c of own.customers.list({ limit: 2 })) all.push(c.id);
    expect(all).toEqual([...created].reverse());
  });
});

describe('errors', () => {
  it('a missing object is an InvalidRequestError with status, type, code and param', async () => {
    const err = await rescue.payments.retrieve('pay_nope').catch((e) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err).toBeInstanceOf(RescueError);
    expect(err).toMatchObject({ status: 404, type: 'invalid_request_error', code: 'resource_missing', param: null });
    const bad = await rescue.payments.create({ amount: -5, currency: 'USD', payment_method: 'pm_card_visa' }).catch((e) => e);
    expect(bad).toMatchObject({ status: 400, code: 'parameter_invalid', param: 'amount' });
    const taken = await rescue.customers.create({ id: 'cus_twice' }).then(() => rescue.customers.create({ id: 'cus_twice' })).catch((e) => e);
    expect(taken).toMatchObject({ status: 409, code: 'resource_already_exists', param: 'id' });
  });

  it('a wrong key is an AuthenticationError; a blocked hand-off a CardError with the answer\'s fields', async () => {
    const wrong = await new Rescue({ apiKey: 'sk_test_nope', baseUrl: t.url }).customers.list().catch((e) => e);
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect(wrong.status).toBe(401);
    const blocked = await rescue.recovery.execute({ paymentMethodToken: 'pm_card_visa_chargeDeclinedStolenCard', amount: 1000, currency: 'USD', originalDeclineCode: 'stolen_card' }).catch((e) => e);
    expect(blocked).toBeInstanceOf(CardError);
    expect(blocked).toMatchObject({ status: 403, code: 'recovery_blocked' });
    expect(blocked.body).toMatchObject({ success: false, blocked: true, recoveryId: expect.stringMatching(/^rec_/) });
    expect((await rescue.recovery.retrieve(blocked.body.recoveryId)).status).toBe('blocked');
  });

  it('an unreachable Rescue is a RescueConnectionError after the retries', async () => {
    const gone = new Rescue({ apiKey: key, baseUrl: 'http://127.0.0.1:9', maxNetworkRetries: 1 });
    const err = await gone.customers.list().catch((e) => e);
    expect(err).toBeInstanceOf(RescueConnectionError);
    expect(err).toMatchObject({ status: 0, type: 'connection_error' });
  });
});

describe('webhooks.verify', () => {
  it('accepts a delivery as received and refuses a tampered or re-signed one', async () => {
    const endpoint = await rescue.webhookEndpoints.create({ url: receiver.url('/client-hooks'), enabled_events: ['payment.rescue_started'] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const payment = await rescue.payments.create({ amount: 4321, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true } });
    const delivery = await eventually(async () => receiver.at('/client-hooks').find((d) => d.body?.data?.payment === payment.id));

    const event = await rescue.webhooks.verify(delivery.raw, delivery.headers as Record<string, string>, endpoint.secret!);
    expect(event).toEqual(await rescue.events.retrieve(delivery.body.id));
    expect(event).toMatchObject({ type: 'payment.rescue_started', data: { payment: payment.id, amount: 4321 } });
    // The Fetch API's Headers work too (a service worker, Deno, Bun).
    await expect(rescue.webhooks.verify(delivery.raw, new Headers(delivery.headers as Record<string, string>), endpoint.secret!)).resolves.toEqual(event);

    const tampered = delivery.raw.replace('4321', '1');
    await expect(rescue.webhooks.verify(tampered, delivery.headers as Record<string, string>, endpoint.secret!)).rejects.toBeInstanceOf(WebhookSignatureError);
    const other = await rescue.webhookEndpoints.rotateSecret(endpoint.id);
    await expect(rescue.webhooks.verify(delivery.raw, delivery.headers as Record<string, string>, `whsec_${Buffer.from('x'.repeat(24)).toString('base64')}`)).rejects.toThrow(/No signature matches/);
    expect(other.secret).not.toBe(endpoint.secret);
    const late = new Date(Date.now() + 10 * 60_000);
    await expect(rescue.webhooks.verify(delivery.raw, delivery.headers as Record<string, string>, endpoint.secret!, late)).rejects.toThrow(/too old/);
  });
});
