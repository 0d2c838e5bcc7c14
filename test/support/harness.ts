import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import type { Clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import type { Resolver } from '../../src/egress/egress-guard.ts';
import { startRescue, type Rescue } from '../../src/server.ts';
import { createPostgresDatabase, type Engine } from './databases.ts';

// Starts the real Rescue (API + worker) on a free port over a fresh database, and talks HTTP to it.
// Every answer is checked against the OpenAPI document's schema for it (validateResponses): an
// undocumented field or status is a 500 that fails the test that met it.

export interface TestRescue {
  url: string;
  rescue: Rescue;
  /** The Postgres database this server runs on (for worker child processes); null on PGlite. */
  databaseUrl: string | null;
  signup(): Promise<{ accountId: string; testKey: string; liveKey: string }>;
  client(key: string): Client;
  close(): Promise<void>;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Client {
  get<T = any>(path: string): Promise<Reply<T>>;
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  del<T = any>(path: string): Promise<Reply<T>>;
}

/**
 * `clock` and `random` replace the engine's wall clock and webhook retry jitter (see startRescue);
 * `logDestination` receives every log line the server writes.
 */
export async function startTestRescue(
  o: { engine?: Engine; env?: Record<string, string>; worker?: boolean; clock?: Clock; random?: () => number; resolveHost?: Resolver; logDestination?: DestinationStream } = {},
): Promise<TestRescue> {
  const engine = o.engine ?? 'pglite';
  const pgdb = engine === 'postgres' ? await createPostgresDatabase() : null;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RESCUE_WORKER_POLL_MS: '50',
    // Tests sign up their fixtures' accounts from one address, far more than a person would; the
    // signup limit itself is tested with its own setting (test/api/throttles.test.ts).
    RESCUE_SIGNUP_PER_HOUR: '0',
    ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
    ...o.env,
  } as NodeJS.ProcessEnv);
  // Each PGlite test server gets its own data folder, removed on close.
  const dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'rescue-test-')) : null;
  if (dataDir) config.RESCUE_DATA_DIR = dataDir;
  const rescue = await startRescue(config, { api: true, worker: o.worker ?? true, clock: o.clock, random: o.random, resolveHost: o.resolveHost, logDestination: o.logDestination, validateResponses: true });
  const url = rescue.url!;
  let n = 0;
  return {
    url,
    rescue,
    databaseUrl: pgdb?.url ?? null,
    async signup() {
      const email = `merchant${++n}-${Math.random().toString(36).slice(2, 8)}@example.com`;
      const res = await request(url, 'POST', '/signup', undefined, { email, password: 'correct horse battery', business_name: 'Acme' });
      if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
      return { accountId: res.body.account.id, testKey: res.body.api_keys.test, liveKey: res.body.api_keys.live };
    },
    client(key: string): Client {
      return {
        get: (path) => request(url, 'GET', path, key),
        post: (path, body, headers) => request(url, 'POST', path, key, body, headers),
        del: (path) => request(url, 'DELETE', path, key),
      };
    },
    async close() {
      await rescue.close();
      await pgdb?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function request(base: string, method: string, path: string, key?: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function advanceClock(client: Client, clockId: string, to: Date): Promise<any> {
  const res = await client.post(`/v2/test_clocks/${clockId}/advance`, { frozen_time: Math.floor(to.getTime() / 1000) });
  if (res.status !== 200) throw new Error(`advance failed: ${res.status} ${JSON.stringify(res.body)}`);
  return eventually(async () => {
    const c = await client.get(`/v2/test_clocks/${clockId}`);
    return c.body.status === 'ready' ? c.body : undefined;
  }, 60_000);
}
