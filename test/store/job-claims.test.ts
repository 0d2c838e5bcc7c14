import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { workerJobs } from '../../src/engine/jobs.ts';
import { egressGuard } from '../../src/egress/egress-guard.ts';
import type { Db } from '../../src/store/db.ts';
import { claimDue, type ClaimSpec } from '../../src/store/job-claims.ts';
import { ENGINES } from '../support/databases.ts';
import { MINUTE, T0, at, openEmptyDb, type StoreDb } from '../support/fixtures.ts';

// The one claim/lease implementation behind every worker job (store/job-claims.ts), on a queue table
// of its own: due rows in due order, SKIP LOCKED, leases that hold while live and are taken over once
// expired, and the due time used as the lease. On both engines.

interface QueueRow {
  id: string;
  due_at: Date;
  status: string;
  claimed_by: string | null;
  lease_expires_at: Date | null;
}

const queue = (o: { reentrant?: boolean } = {}): ClaimSpec<QueueRow> => ({
  table: 'job_queue',
  key: ['id'],
  due: (c) => sql`t.status = 'waiting' and t.due_at <= ${c.now}`,
  order: sql`t.due_at, t.id`,
  lease: { kind: 'holder', claimedBy: 'claimed_by', expiresAt: 'lease_expires_at', reentrant: o.reentrant ?? false },
  mark: () => sql`attempts = attempts + 1`,
  shape: (rows) => (rows as unknown as QueueRow[]).sort((a, b) => a.id.localeCompare(b.id)),
});

/** Due rows whose due time is their lease (like model_retraining.check_after). */
const postponed: ClaimSpec<{ id: string; due_at: Date }> = {
  table: 'job_queue',
  key: ['id'],
  due: () => sql`t.status = 'checks'`,
  order: sql`t.due_at`,
  lease: { kind: 'postpone', column: 'due_at' },
};

const ids = (rows: readonly { id: string }[]) => rows.map((r) => r.id).sort();
const LEASE = at(5 * MINUTE);

function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not return within ${ms} ms (blocked on a lock?)`)), ms))]);
}

describe.each(ENGINES)('claimDue on %s', (engine) => {
  let s: StoreDb;
  beforeAll(async () => {
    s = await openEmptyDb(engine);
    await sql`create table job_queue (
      id text primary key, due_at timestamptz not null, status text not null default 'waiting',
      claimed_by text, lease_expires_at timestamptz, attempts int not null default 0)`.execute(s.db);
  });
  afterAll(() => s.close());
  beforeEach(async () => {
    await sql`delete from job_queue`.execute(s.db);
  });

  async function row(id: string, dueAt: Date, o: { status?: string; claimedBy?: string | null; lease?: Date | null } = {}) {
    await sql`insert into job_queue (id, due_at, status, claimed_by, lease_expires_at)
      values (${id}, ${dueAt}, ${o.status ?? 'waiting'}, ${o.claimedBy ?? null}, ${o.lease ?? null})`.execute(s.db);
  }
  const get = async (id: string) => (await sql<QueueRow & { attempts: number }>`select * from job_queue where id = ${id}`.execute(s.db)).rows[0]!;

  it('claims due rows in due order up to the limit, marking them with the worker and the lease', async () => {
    await row('c', at(-MINUTE));
    await row('a', at(-3 * MINUTE));
    await row('b', at(-2 * MINUTE));
    await row('due-exactly', T0);
    await row('future', at(MINUTE));
    await row('done', at(-MINUTE), { status: 'done' });
    const first = await claimDue(s.db, queue(), { workerId: 'w1', now: T0, leaseUntil: LEASE, limit: 2 });
    expect(ids(first)).toEqual(['a', 'b']);
    for (const r of first) expect(r).toMatchObject({ claimed_by: 'w1', lease_expires_at: LEASE });
    expect(await get('a')).toMatchObject({ claimed_by: 'w1', lease_expires_at: LEASE, attempts: 1 });
    expect(ids(await claimDue(s.db, queue(), { workerId: 'w2', now: T0, leaseUntil: LEASE, limit: 10 }))).toEqual(['c', 'due-exactly']);
    expect(await claimDue(s.db, queue(), { workerId: 'w3', now: T0, leaseUntil: LEASE, limit: 10 })).toEqual([]);
    expect(await get('future')).toMatchObject({ claimed_by: null, lease_expires_at: null, attempts: 0 });
    expect(await get('done')).toMatchObject({ claimed_by: null, attempts: 0 });
  });

  it('a live lease is not taken; an expired one is, by another worker; reentrant lets the holder renew', async () => {
    await row('live', at(-MINUTE), { claimedBy: 'w1', lease: at(MINUTE) });
    await row('expired', at(-MINUTE), { claimedBy: 'dead', lease: at(-1) });
    await row('ends-now', at(-MINUTE), { claimedBy: 'w1', lease: T0 }); // expires after T0, not at it
    const got = await claimDue(s.db, queue(), { workerId: 'w2', now: T0, leaseUntil: LEASE, limit: 10 });
    expect(ids(got)).toEqual(['expired']);
    expect(await get('expired')).toMatchObject({ claimed_by: 'w2', lease_expires_at: LEASE, attempts: 1 });
    expect(await get('live')).toMatchObject({ claimed_by: 'w1', lease_expires_at: at(MINUTE), attempts: 0 });
    // Not reentrant: the holder itself does not claim its live row again.
    expect(await claimDue(s.db, queue(), { workerId: 'w1', now: T0, leaseUntil: LEASE, limit: 10 })).toEqual([]);
    // Reentrant (a test clock's advance): the holder renews; another worker still cannot.
    expect(await claimDue(s.db, queue({ reentrant: true }), { workerId: 'w4', now: T0, leaseUntil: LEASE, limit: 10 })).toEqual([]);
    expect(ids(await claimDue(s.db, queue({ reentrant: true }), { workerId: 'w1', now: T0, leaseUntil: LEASE, limit: 10 }))).toEqual(['ends-now', 'live']);
    expect(await get('live')).toMatchObject({ claimed_by: 'w1', lease_expires_at: LEASE });
    // Once w1's lease runs out, w3 takes both over.
    expect(ids(await claimDue(s.db, queue(), { workerId: 'w3', now: at(6 * MINUTE), leaseUntil: at(10 * MINUTE), limit: 10 }))).toEqual(['ends-now', 'expired', 'live']);
    expect(await get('live')).toMatchObject({ claimed_by: 'w3', lease_expires_at: at(10 * MINUTE), attempts: 2 });
  });

  it('two workers claiming at once get disjoint rows that together cover every due row', async () => {
    const due = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const id = `r${String(i).padStart(2, '0')}`;
      await row(id, at(-i * 1000));
      due.add(id);
    }
    await row('later', at(MINUTE));
    const pools: Db[] = [s.db, await s.another(), await s.another()];
    const drain = async (db: Db, workerId: string) => {
      const got: string[] = [];
      for (;;) {
        const batch = await claimDue(db, queue(), { workerId, now: T0, leaseUntil: LEASE, limit: 3 });
        if (batch.length === 0) return got;
        got.push(...ids(batch));
      }
    };
    const results = await Promise.all(pools.map((db, i) => drain(db, `w${i}`)));
    const all = results.flat();
    expect(all.length).toBe(due.size);
    expect(new Set(all)).toEqual(due);
    for (const [i, got] of results.entries()) for (const id of got) expect((await get(id)).claimed_by).toBe(`w${i}`);
  });

  if (engine === 'postgres') {
    it('skips rows another transaction holds locked instead of waiting for them (SKIP LOCKED)', async () => {
      await row('locked', at(-2 * MINUTE));
      await row('free', at(-MINUTE));
      const other = await s.another();
      await other.transaction().execute(async (tx) => {
        await sql`select id from job_queue where id = 'locked' for update`.execute(tx);
        const got = await within(5_000, claimDue(s.db, queue(), { workerId: 'w1', now: T0, leaseUntil: LEASE, limit: 10 }), 'claimDue');
        expect(ids(got)).toEqual(['free']);
      });
      expect(ids(await claimDue(s.db, queue(), { workerId: 'w2', now: T0, leaseUntil: LEASE, limit: 10 }))).toEqual(['locked']);
    });
  }

  it('postpone: the claim moves the due time to the lease end; the row is due again once it passes', async () => {
    await row('check', T0, { status: 'checks' });
    const [got] = await claimDue(s.db, postponed, { workerId: 'w1', now: T0, leaseUntil: at(10 * MINUTE), limit: 1 });
    expect(got).toMatchObject({ id: 'check', due_at: at(10 * MINUTE) });
    expect(await claimDue(s.db, postponed, { workerId: 'w2', now: at(9 * MINUTE), leaseUntil: at(20 * MINUTE), limit: 1 })).toEqual([]);
    expect(ids(await claimDue(s.db, postponed, { workerId: 'w2', now: at(10 * MINUTE), leaseUntil: at(20 * MINUTE), limit: 1 }))).toEqual(['check']);
  });
});

describe('the worker job catalog', () => {
  it('lists every job in round order; retraining, backfill and emails only when configured', () => {
    const base = {
      db: {} as Db,
      clock: systemClock,
      gatewayFor: async () => {
        throw new Error('unused');
      },
      log: pino({ level: 'silent' }),
      batchSize: 200,
      clockBatchSize: 500,
      leaseMs: 120_000,
      webhooks: { timeoutMs: 10_000, concurrency: 16, signingClock: systemClock, random: Math.random, egress: egressGuard({ allowPrivate: { test: true, live: true } }) },
    };
    expect(workerJobs(base).map((j) => j.name)).toEqual(['attempts.reconcile', 'attempts', 'test-clocks', 'webhook-deliveries']);
    const all = workerJobs({
      ...base,
      retrain: { periodMs: 86_400_000, minNewRetries: 10 },
      backfill: { ring: {} as never, stripe: {} as never },
      emails: { transport: { kind: 'outbox' }, fromAddress: 'a@b.c', links: async () => ({}) as never },
    });
    expect(all.map((j) => [j.name, j.claim.table])).toEqual([
      ['attempts.reconcile', 'attempts'],
      ['attempts', 'card_leases'],
      ['retraining', 'model_retraining'],
      ['test-clocks', 'test_clocks'],
      ['webhook-deliveries', 'webhook_deliveries'],
      ['stripe-backfill', 'stripe_backfills'],
      // Hands invoices back to Stripe (auto_advance restored) once Rescue lets go of them.
      ['stripe-handbacks', 'stripe_handbacks'],
      ['emails', 'emails'],
    ]);
    // A webhook claim's lease covers every request of the claim timing out.
    expect(all.find((j) => j.name === 'webhook-deliveries')).toMatchObject({ batch: 64, perRound: 200, leaseMs: 120_000 });
    expect(workerJobs({ ...base, retrain: { periodMs: 0, minNewRetries: 10 } }).map((j) => j.name)).not.toContain('retraining');
  });
});
