import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmailReceiver, type EmailReceiver } from '../support/email-receiver.ts';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

// A customer never gets the same email twice: two real `rescue worker` processes on one Postgres
// send a batch of emails through a real SMTP server, each exactly once; and a worker SIGKILLed
// while SMTP holds its message leaves that email failed ("interrupted"), never sent again.

describe('dunning emails across worker processes (postgres)', () => {
  let smtp: EmailReceiver;
  let t: TestRescue;
  let api: Client;
  let db: pg.Client;
  let customer: string;
  const workers: WorkerProcess[] = [];
  const workerEnv = () => ({ RESCUE_SMTP_URL: smtp.url, RESCUE_PUBLIC_URL: t.url, RESCUE_SMTP_TIMEOUT_MS: '1000', RESCUE_ATTEMPT_LEASE_SECONDS: '1', RESCUE_EMAIL_FROM: 'billing@rescue.example' });

  beforeAll(async () => {
    smtp = await startEmailReceiver();
    // The API alone: only the worker processes send.
    t = await startTestRescue({ engine: 'postgres', worker: false });
    db = new pg.Client({ connectionString: t.databaseUrl! });
    await db.connect();
    api = t.client((await t.signup()).testKey);
    customer = (await api.post('/v2/customers', { email: 'many@example.com', timezone: 'UTC' })).body.id;
  }, 60_000);
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await db?.end();
    await t?.close();
    await smtp?.close();
  });

  const fail = async (amount: number) =>
    (await api.post('/v2/payments', { amount, currency: 'USD', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } })).body.id as string;

  it('two workers send 40 emails: each exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await fail(1000 + i));
    const queued = await db.query(`select count(*)::int as n from emails where status = 'queued'`);
    expect(queued.rows[0].n).toBe(40);
    workers.push(spawnWorker(t.databaseUrl!, workerEnv()), spawnWorker(t.databaseUrl!, workerEnv()));
    await Promise.all(workers.map((w) => w.id));
    await eventually(async () => ((await db.query(`select count(*)::int as n from emails where status = 'sent'`)).rows[0].n === 40 ? true : undefined), 60_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received.length).toBe(40);
    const messageIds = new Set(smtp.received.map((m) => m.messageId));
    expect(messageIds.size).toBe(40);
    const payments = new Set(smtp.received.map((m) => m.headers.get('x-rescue-payment')));
    expect([...payments].sort()).toEqual([...ids].sort());
    const rows = await db.query(`select count(distinct message_id)::int as n, max(attempts)::int as tries from emails where status = 'sent' and transport = 'smtp'`);
    expect(rows.rows[0]).toEqual({ n: 40, tries: 1 });
    for (const w of workers.splice(0)) await w.kill();
  }, 120_000);

  it('a worker killed while SMTP holds its message: that email is failed as interrupted, never resent', async () => {
    const before = smtp.received.length;
    const held = smtp.hold();
    const id = await fail(7777);
    const a = spawnWorker(t.databaseUrl!, workerEnv());
    workers.push(a);
    await held.arrived;
    await a.kill();
    held.release();
    expect(smtp.received.length).toBe(before + 1);
    const row = (await db.query(`select status, handed_off_at from emails where payment_id = $1`, [id])).rows[0];
    expect(row.status).toBe('queued');
    expect(row.handed_off_at).not.toBeNull();

    const b = spawnWorker(t.databaseUrl!, workerEnv());
    workers.push(b);
    const email = await eventually(async () => {
      const e = (await api.get(`/v2/emails?payment=${id}`)).body.data[0];
      return e.status === 'failed' ? e : undefined;
    }, 60_000);
    expect(email.error).toMatch(/^interrupted/);
    // B is alive and sends new mail, but never that one again.
    const next = await fail(8888);
    await eventually(async () => ((await api.get(`/v2/emails?payment=${next}`)).body.data[0]?.status === 'sent' ? true : undefined), 30_000);
    expect(smtp.received.filter((m) => m.headers.get('x-rescue-payment') === id).length).toBe(1);
    expect(smtp.received.length).toBe(before + 2);
  }, 120_000);
});
