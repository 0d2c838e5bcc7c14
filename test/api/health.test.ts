import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { POSTGRES_ADMIN_URL } from '../support/databases.ts';
import { expectError } from '../support/api-assertions.ts';
import { eventually, request, startTestRescue, type TestRescue } from '../support/harness.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

// GET /health (the process answers) and GET /ready (the database answers within 2 s and has every
// migration), on the API and on a worker's own health port, with the database really taken away:
// PGlite closed under the app; a Postgres database that refuses connections and whose sessions were
// terminated, then let back in.

const servers: TestRescue[] = [];
const workers: WorkerProcess[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await w.kill();
  for (const t of servers.splice(0)) await t.close().catch(() => {});
});

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Takes a Postgres database away from its clients (no new connections, open ones terminated), or gives it back. */
async function databaseReachable(url: string, reachable: boolean): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin(async (c) => {
    await c.query(`alter database ${name} allow_connections ${reachable}`);
    if (!reachable) await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [name]);
  });
}

describe('GET /health and /ready (pglite)', () => {
  it('/ready is 200 with the database open and 503 with a JSON error once it is closed; /health stays 200', async () => {
    const t = await startTestRescue({ engine: 'pglite', worker: false });
    servers.push(t);
    const health = await request(t.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await request(t.url, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', database: 'ok', migrations: 'current' });

    // The embedded database closed under the running app.
    await t.rescue.db.destroy();
    const down = await request(t.url, 'GET', '/ready');
    expectError(down, 503, { type: 'api_error', code: 'not_ready' });
    expect(down.body.error.message).toMatch(/database is unreachable/);
    expect((await request(t.url, 'GET', '/health')).status).toBe(200);
  }, 120_000);
});

describe('GET /ready (postgres)', () => {
  it('503 while the database refuses connections, 200 once it is back; 503 naming a migration that is missing', async () => {
    const t = await startTestRescue({ engine: 'postgres', worker: false });
    servers.push(t);
    expect((await request(t.url, 'GET', '/ready')).status).toBe(200);

    await databaseReachable(t.databaseUrl!, false);
    const down = await request(t.url, 'GET', '/ready');
    expectError(down, 503, { type: 'api_error', code: 'not_ready' });
    expect(down.body.error.message).toMatch(/database is unreachable/);
    expect((await request(t.url, 'GET', '/health')).status).toBe(200);

    await databaseReachable(t.databaseUrl!, true);
    await eventually(async () => ((await request(t.url, 'GET', '/ready')).status === 200 ? true : undefined), 10_000);

    // Reachable, but not migrated to what this code expects.
    const c = new pg.Client({ connectionString: t.databaseUrl! });
    await c.connect();
    try {
      const [last] = (await c.query(`delete from schema_migrations where version = (select max(version) from schema_migrations) returning version`)).rows;
      const behind = await request(t.url, 'GET', '/ready');
      expectError(behind, 503, { type: 'api_error', code: 'not_ready' });
      expect(behind.body.error.message).toContain(`migrations not applied: ${last.version}`);
      await c.query(`insert into schema_migrations (version) values ($1)`, [last.version]);
    } finally {
      await c.end();
    }
    expect((await request(t.url, 'GET', '/ready')).status).toBe(200);
  }, 90_000);

  it('a worker with --health-port answers /health and /ready, 503 while its database is away, and stops on SIGTERM', async () => {
    const t = await startTestRescue({ engine: 'postgres', worker: false });
    servers.push(t);
    const worker = spawnWorker(t.databaseUrl!, { LOG_LEVEL: 'warn' }, ['--health-port', '0']);
    workers.push(worker);
    const { healthUrl } = await worker.up;
    expect(healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    const base = healthUrl!.replace(/\/$/, '');
    expect((await request(base, 'GET', '/health')).body).toEqual({ status: 'ok' });
    expect((await request(base, 'GET', '/ready')).body).toEqual({ status: 'ready', database: 'ok', migrations: 'current' });
    expectError(await request(base, 'GET', '/v2/payments'), 404, { type: 'invalid_request_error', code: 'route_not_found' });

    await databaseReachable(t.databaseUrl!, false);
    const down = await request(base, 'GET', '/ready').catch((err) => {
      throw new Error(`${(err as Error).message}; worker output:\n${worker.output()}`);
    });
    expectError(down, 503, { type: 'api_error', code: 'not_ready' });
    expect((await request(base, 'GET', '/health')).status).toBe(200);
    await databaseReachable(t.databaseUrl!, true);
    await eventually(async () => ((await request(base, 'GET', '/ready')).status === 200 ? true : undefined), 10_000).catch((err) => {
      throw new Error(`${(err as Error).message}; worker output:\n${worker.output()}`);
    });

    worker.signal('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  }, 90_000);

  it('RESCUE_WORKER_HEALTH_PORT does the same as --health-port', async () => {
    const t = await startTestRescue({ engine: 'postgres', worker: false });
    servers.push(t);
    const worker = spawnWorker(t.databaseUrl!, { LOG_LEVEL: 'warn', RESCUE_WORKER_HEALTH_PORT: '0' });
    workers.push(worker);
    const { healthUrl } = await worker.up;
    expect((await request(healthUrl!.replace(/\/$/, ''), 'GET', '/ready')).status).toBe(200);
  }, 90_000);
});
