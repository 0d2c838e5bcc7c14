import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { chargesFor, startMerchant, type ChargeCall, type Merchant } from '../support/merchant.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

// DESIGN.md invariant 2: a worker killed in the middle of a charge leaves an attempt that is
// reconciled — asked again of the gateway under the same idempotency key — never charged twice.
// The API runs in this process without a worker; workers are real `rescue worker` processes on
// Postgres, and the merchant is a real HTTP server that charges at most once per key (like Stripe).

const keyOf = (c: ChargeCall) => String(c.headers['idempotency-key']);

function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe('a worker killed mid-charge (postgres)', () => {
  let t: TestRescue;
  let api: Client;
  let db: pg.Client;
  let merchant: Merchant;
  const workers: WorkerProcess[] = [];

  // The merchant holds the first request for the retry open until the test lets it go.
  let arrived!: (call: ChargeCall) => void;
  const retryArrived = new Promise<ChargeCall>((resolve) => (arrived = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    merchant = await startMerchant(async (call) => {
      if (call.body.retry_number === 0) return { charge: { status: 'failed', decline_code: 'insufficient_funds' } };
      if (!call.replayed && merchant.callsFor(keyOf(call)).length === 1) {
        arrived(call);
        await released;
      }
      // The charge goes through; a repeated key gets this first result from the ledger.
      return { charge: { status: 'succeeded', transaction_id: `txn_${call.body.attempt_id}` } };
    });
    t = await startTestRescue({ engine: 'postgres', worker: false, env: { RESCUE_ATTEMPT_LEASE_SECONDS: '1' } });
    db = new pg.Client({ connectionString: t.databaseUrl! });
    await db.connect();
    api = t.client((await t.signup()).testKey);
    expect((await api.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret })).status).toBe(200);
  });

  afterAll(async () => {
    release?.();
    for (const w of workers) await w.kill();
    await db?.end();
    await t?.close();
    await merchant?.close();
  });

  it('reconciles the stuck attempt under the same key: the merchant charges once and the payment succeeds', async () => {
    const customer = await api.post('/v2/customers', { email: 'crash@example.com', name: 'Grace', timezone: 'Europe/London' });
    expect(customer.status).toBe(201);
    const created = await api.post('/v2/payments', {
      amount: 4200,
      currency: 'EUR',
      customer: customer.body.id,
      payment_method: 'pm_merchant_crash',
      off_session: true,
      auto_rescue: { enabled: true },
      metadata: { subscription_id: 'sub_crash' },
    });
    expect(created.status).toBe(201);
    const paymentId: string = created.body.id;
    expect(created.body.status).toBe('requires_rescue');
    expect(created.body.test_clock).toBeNull();

    // Test-only time travel: the next retry is due now.
    const moved = await db.query(`update attempts set planned_at = now() where payment_id = $1 and status = 'planned' returning id, idempotency_key`, [paymentId]);
    expect(moved.rowCount).toBe(1);
    const { id: attemptId, idempotency_key: key } = moved.rows[0] as { id: string; idempotency_key: string };

    const env = { RESCUE_ATTEMPT_LEASE_SECONDS: '1', RESCUE_WORKER_POLL_MS: '50' };
    const first = spawnWorker(t.databaseUrl!, env);
    workers.push(first);
    const firstId = await first.id;

    // The charge request reaches the merchant; the worker dies before any answer.
    const call = await within(retryArrived, 15_000, () => `the worker never charged the due retry; its output:\n${first.output()}`);
    expect(call.signatureError).toBeNull();
    expect(keyOf(call)).toBe(key);
    expect(call.body).toMatchObject({ attempt_id: attemptId, idempotency_key: key, payment: paymentId, retry_number: 1 });
    await first.kill();
    const stuck = await db.query(`select status, claimed_by from attempts where id = $1`, [attemptId]);
    expect(stuck.rows[0]).toEqual({ status: 'processing', claimed_by: firstId });
    // …and only then does the merchant's charge go through, as a real gateway's would have.
    release();
    await eventually(async () => (merchant.ledger.has(key) ? true : undefined), 5_000);

    const second = spawnWorker(t.databaseUrl!, env);
    workers.push(second);
    const secondId = await second.id;
    expect(secondId).not.toBe(firstId);

    const after = await eventually(async () => {
      const p = (await api.get(`/v2/payments/${paymentId}`)).body;
      return p.status === 'succeeded' ? p : undefined;
    }, 20_000).catch((err) => {
      throw new Error(`payment did not succeed (${(err as Error).message}); second worker's output:\n${second.output()}`);
    });

    // The merchant was asked twice under the same key and charged once.
    const asked = merchant.callsFor(key);
    expect(asked).toHaveLength(2);
    expect(asked.every((c) => c.signatureError === null && c.body.attempt_id === attemptId && c.body.idempotency_key === key)).toBe(true);
    expect(asked[1]!.replayed).toBe(true);
    // The re-ask describes the same charge (only attempted_at, the time of this call, differs).
    const { attempted_at: _firstAt, ...firstBody } = asked[0]!.body;
    const { attempted_at: _againAt, ...againBody } = asked[1]!.body;
    expect(againBody).toEqual(firstBody);
    const charges = chargesFor(merchant, paymentId);
    expect(charges.filter((c) => c.answer.status === 'succeeded')).toEqual([{ key, answer: { status: 'succeeded', transaction_id: `txn_${attemptId}` } }]);
    expect(merchant.calls.filter((c) => c.body?.payment === paymentId).map(keyOf)).toEqual([charges[0]!.key, key, key]);

    // One succeeded attempt, finished by the second worker; no attempt row duplicated or added.
    expect(after.auto_rescue.status).toBe('recovered');
    expect(after.rescue_history.map((h: any) => h.result)).toEqual(['failed', 'succeeded']);
    const rows = (
      await db.query(`select id, number, status, claimed_by, idempotency_key, transaction_id, lease_expires_at from attempts where payment_id = $1 order by number`, [paymentId])
    ).rows;
    expect(rows.map((r) => [r.number, r.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(rows[1]).toMatchObject({ id: attemptId, idempotency_key: key, claimed_by: secondId, transaction_id: `txn_${attemptId}`, lease_expires_at: null });
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(rows.length);
    expect(second.output()).toContain('reconciling attempts left processing by a stopped worker');
  });
});
