import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startRescue, type Rescue } from '../../src/server.ts';
import { SIGN_IN_LIMITS } from '../../src/api/throttles.ts';
import { expectError } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { fromAddress } from '../support/from-address.ts';
import { NODE } from '../support/workers.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { shiftedClock } from '../support/webhook-receiver.ts';

// Throttles that hold, on both engines, against the real server over HTTP. Clients are different
// loopback addresses (127.0.0.x), so "another address" is a real other source address.

const PASSWORD = 'correct horse battery';
const DASHBOARD = { 'x-rescue-dashboard': '1' };

const signUp = async (t: TestRescue, address: string, tag: string) => {
  const email = `${tag}-${Math.random().toString(36).slice(2, 10)}@example.com`;
  const res = await fromAddress(address, t.url, 'POST', '/signup', { body: { email, password: PASSWORD, business_name: 'Acme' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { email, testKey: res.body.api_keys.test as string };
};
const signIn = (t: TestRescue, address: string, email: string, password: string) => fromAddress(address, t.url, 'POST', '/dashboard/api/session', { headers: DASHBOARD, body: { email, password } });

function expectRateLimited(res: { status: number; body: any; headers: Headers }, code = 'rate_limit') {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body).toEqual({ error: { type: 'rate_limit_error', code, message: expect.any(String), param: null } });
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
}

describe.each(ENGINES)('sign-in throttle (%s)', (engine) => {
  let t: TestRescue;
  beforeAll(async () => {
    t = await startTestRescue({ engine, worker: false });
  });
  afterAll(() => t?.close());

  it('counts each try before the password check: of 100 concurrent guesses at most the limit are checked, then the right password is refused there and accepted from another address', async () => {
    for (const [round, attacker, owner] of [[1, '127.0.0.11', '127.0.0.12'], [2, '127.0.0.13', '127.0.0.14'], [3, '127.0.0.15', '127.0.0.16']] as const) {
      const m = await signUp(t, '127.0.0.2', `race${round}`);
      // The right password is one of the hundred, at a random place.
      const right = Math.floor(Math.random() * 100);
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => signIn(t, attacker, m.email, i === right ? PASSWORD : `guess ${i}`)));
      const checked = answers.filter((a) => a.status !== 429);
      // At most the limit's worth of wrong passwords is ever checked. The right one, when it is among
      // them, gives its try back (the owner's try does not count), so one more guess may be checked.
      expect(answers.filter((a) => a.status === 401).length, `round ${round}`).toBeLessThanOrEqual(SIGN_IN_LIMITS.address.max);
      expect(checked.length, `round ${round}`).toBeLessThanOrEqual(SIGN_IN_LIMITS.address.max + (checked.some((a) => a.status === 201) ? 1 : 0));
      expect(checked.every((a) => a.status === 401 || a.status === 201)).toBe(true);
      for (const refused of answers.filter((a) => a.status === 429)) expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // Once locked, the right password from the attacker's address is refused without a check…
      expectError(await signIn(t, attacker, m.email, PASSWORD), 429, { code: 'sign_in_throttled' });
      // …and the owner, from anywhere else, still gets in.
      expect((await signIn(t, owner, m.email, PASSWORD)).status).toBe(201);
    }
  });

  it('limits an email across addresses, but never locks out an address the owner signed in from', async () => {
    const m = await signUp(t, '127.0.0.2', 'spread');
    expect((await signIn(t, '127.0.0.20', m.email, PASSWORD)).status).toBe(201); // the owner's usual address
    // Guesses from several addresses, each under its own limit, add up to the email's.
    const guessers = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
    const perAddress = Math.ceil(SIGN_IN_LIMITS.email.max / guessers.length);
    let sent = 0;
    for (const address of guessers) {
      for (let i = 0; i < perAddress && sent < SIGN_IN_LIMITS.email.max; i++, sent++) expectError(await signIn(t, address, m.email, `guess ${sent}`), 401, { code: 'sign_in_failed' });
    }
    const elsewhere = await signIn(t, '127.0.0.24', m.email, PASSWORD);
    expectError(elsewhere, 429, { code: 'sign_in_throttled' });
    expect(elsewhere.body.error.message).toMatch(/for this email/);
    // The owner's known address is not held by the email's limit.
    expect((await signIn(t, '127.0.0.20', m.email, PASSWORD)).status).toBe(201);
  });
});

describe.each(ENGINES)('API key rate limits (%s)', (engine) => {
  let t: TestRescue;
  const clock = shiftedClock();
  beforeAll(async () => {
    t = await startTestRescue({ engine, worker: false, clock, env: { RESCUE_RATE_LIMIT_PER_KEY: '6', RESCUE_RATE_LIMIT_WINDOW_MS: '60000', RESCUE_RATE_LIMIT_INVALID_KEYS: '5' } });
  });
  afterAll(() => t?.close());

  it('answers 429 with Retry-After and a rate_limit_error past the per-key limit, per key, until the window ends', async () => {
    const a = await signUp(t, '127.0.0.2', 'keya');
    const b = await signUp(t, '127.0.0.2', 'keyb');
    const get = (key: string) => fromAddress('127.0.0.30', t.url, 'GET', '/v2/customers', { headers: { authorization: `Bearer ${key}` } });
    for (let i = 0; i < 6; i++) expect((await get(a.testKey)).status).toBe(200);
    const limited = await get(a.testKey);
    expectRateLimited(limited);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Another key is counted on its own.
    expect((await get(b.testKey)).status).toBe(200);
    clock.advance(61_000);
    expect((await get(a.testKey)).status).toBe(200);
  });

  it('answers 429 to an address that keeps sending unknown keys, whatever key it sends, and not to other addresses', async () => {
    const m = await signUp(t, '127.0.0.2', 'badkeys');
    clock.advance(61_000);
    const get = (address: string, key: string) => fromAddress(address, t.url, 'GET', '/v2/customers', { headers: { authorization: `Bearer ${key}` } });
    for (let i = 0; i < 5; i++) expectError(await get('127.0.0.31', `sk_test_guess${i}`), 401, { code: 'api_key_invalid' });
    expectRateLimited(await get('127.0.0.31', 'sk_test_guess6'));
    // From that address even a real key waits: a guess cannot be told from a hit by its answer.
    expectRateLimited(await get('127.0.0.31', m.testKey));
    expect((await get('127.0.0.32', m.testKey)).status).toBe(200);
  });
});

describe('API key rate limit across API processes (postgres)', () => {
  let t: TestRescue;
  const clock = shiftedClock();
  beforeAll(async () => {
    t = await startTestRescue({ engine: 'postgres', worker: false, clock, env: { RESCUE_RATE_LIMIT_PER_KEY: '6', RESCUE_RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  afterAll(() => t?.close());

  it('shares one count between API processes on the same database', async () => {
    const m = await signUp(t, '127.0.0.2', 'shared');
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: t.databaseUrl!, RESCUE_RATE_LIMIT_PER_KEY: '6', RESCUE_RATE_LIMIT_WINDOW_MS: '60000' } as NodeJS.ProcessEnv);
    const second: Rescue = await startRescue(config, { api: true, worker: false, clock });
    try {
      const get = (url: string) => fromAddress('127.0.0.33', url, 'GET', '/v2/customers', { headers: { authorization: `Bearer ${m.testKey}` } });
      for (let i = 0; i < 3; i++) expect((await get(t.url)).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await get(second.url!)).status).toBe(200);
      expectRateLimited(await get(second.url!));
      expectRateLimited(await get(t.url));
    } finally {
      await second.close();
    }
  });
});

describe('signup', () => {
  it('is open on loopback and closed by default beyond it or behind a public URL; test mode reaches private addresses only where signup is open by default', () => {
    expect(loadConfig({ HOST: '127.0.0.1' } as NodeJS.ProcessEnv)).toMatchObject({ RESCUE_SIGNUP: 'open', RESCUE_TEST_PRIVATE_ADDRESSES: true });
    expect(loadConfig({ HOST: '::1' } as NodeJS.ProcessEnv)).toMatchObject({ RESCUE_SIGNUP: 'open', RESCUE_TEST_PRIVATE_ADDRESSES: true });
    expect(loadConfig({ HOST: '0.0.0.0' } as NodeJS.ProcessEnv)).toMatchObject({ RESCUE_SIGNUP: 'closed', RESCUE_TEST_PRIVATE_ADDRESSES: false });
    expect(loadConfig({ HOST: '0.0.0.0', RESCUE_SIGNUP: 'open', RESCUE_TEST_PRIVATE_ADDRESSES: 'true' } as NodeJS.ProcessEnv)).toMatchObject({ RESCUE_SIGNUP: 'open', RESCUE_TEST_PRIVATE_ADDRESSES: true });
    // Behind a reverse proxy on the same machine, or a worker told where the public API is: not local.
    expect(loadConfig({ HOST: '127.0.0.1', RESCUE_PUBLIC_URL: 'https://rescue.example.com' } as NodeJS.ProcessEnv)).toMatchObject({ RESCUE_SIGNUP: 'closed', RESCUE_TEST_PRIVATE_ADDRESSES: false });
    expect(loadConfig({ RESCUE_PUBLIC_URL: 'http://localhost:4000' } as NodeJS.ProcessEnv)).toMatchObject({ RESCUE_SIGNUP: 'open', RESCUE_TEST_PRIVATE_ADDRESSES: true });
  });

  describe('closed (a server listening beyond loopback)', () => {
    let t: TestRescue;
    beforeAll(async () => {
      t = await startTestRescue({ engine: 'postgres', worker: false, env: { HOST: '0.0.0.0' } });
    });
    afterAll(() => t?.close());

    it('refuses self-service signup with 403 signup_closed and creates nothing', async () => {
      const url = t.url.replace('0.0.0.0', '127.0.0.1');
      const res = await fromAddress('127.0.0.2', url, 'POST', '/signup', { body: { email: 'x@example.com', password: PASSWORD, business_name: 'Acme' } });
      expectError(res, 403, { code: 'signup_closed' });
      expect(await t.rescue.db.selectFrom('accounts').select('id').execute()).toEqual([]);
    });

    it('creates accounts with the operator\'s command instead, whose keys work at once', async () => {
      const out = execFileSync(NODE, ['src/cli.ts', 'create-account', 'ops@example.com', 'Acme', 'Ltd'], { env: { ...process.env, DATABASE_URL: t.databaseUrl!, LOG_LEVEL: 'warn' }, encoding: 'utf8' });
      const key = /test API key: +(sk_test_\S+)/.exec(out)?.[1];
      expect(key, out).toBeDefined();
      const url = t.url.replace('0.0.0.0', '127.0.0.1');
      expect((await fromAddress('127.0.0.2', url, 'GET', '/v2/customers', { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    });
  });

  describe.each(ENGINES)('limited per address (%s)', (engine) => {
    let t: TestRescue;
    beforeAll(async () => {
      t = await startTestRescue({ engine, worker: false, env: { RESCUE_SIGNUP_PER_HOUR: '3' } });
    });
    afterAll(() => t?.close());

    it('takes the limit of concurrent signups from one address, 429 for the rest, and other addresses still sign up', async () => {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => fromAddress('127.0.0.40', t.url, 'POST', '/signup', { body: { email: `burst${i}@example.com`, password: PASSWORD, business_name: 'Acme' } })));
      expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
      for (const refused of answers.filter((a) => a.status !== 201)) expectRateLimited(refused);
      expect(await t.rescue.db.selectFrom('accounts').select('id').execute()).toHaveLength(3);
      await signUp(t, '127.0.0.41', 'elsewhere');
    });
  });
});
