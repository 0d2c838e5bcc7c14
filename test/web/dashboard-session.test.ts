import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_HOURS } from '../../src/api/dashboard-session.ts';
import { SIGN_IN_LIMITS } from '../../src/api/throttles.ts';
import { expectError } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { shiftedClock, type ShiftedClock } from '../support/webhook-receiver.ts';
import { asDashboard, cookieOf, newMerchant, PASSWORD, signedIn, signIn } from './dashboard-client.ts';

// Dashboard sign-in: a session cookie that authenticates the existing JSON API, with the
// dashboard's header as the CSRF defence, on both engines.

const DECLINED = { amount: 4999, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } };

describe.each(ENGINES)('dashboard session (%s)', (engine) => {
  let t: TestRescue;
  let clock: ShiftedClock;
  beforeAll(async () => {
    clock = shiftedClock();
    t = await startTestRescue({ engine, worker: false, clock });
  });
  afterAll(() => t?.close());

  it('signs in with email and password: an HttpOnly, SameSite=Strict cookie that reads the API in the chosen mode', async () => {
    const m = await newMerchant(t);
    const api = t.client(m.testKey);
    const live = t.client(m.liveKey);
    const testPay = (await api.post('/v2/payments', DECLINED)).body;
    const livePay = (await live.post('/v2/settings/gateway', { type: 'sandbox' })).status === 200 ? (await live.post('/v2/payments', { ...DECLINED, amount: 1234 })).body : null;

    const res = await signIn(t, m.email.toUpperCase(), PASSWORD);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({ object: 'dashboard_session', account: { id: m.accountId, email: m.email, business_name: 'Acme' }, expires_at: expect.any(String) });
    expect(Date.parse(res.body.expires_at) - clock.now().getTime()).toBeGreaterThan((SESSION_HOURS - 0.1) * 3_600_000);
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(/^rescue_session=rds_[A-Za-z0-9]{43}; /);
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    expect(set).toContain('Path=/');
    expect(set).not.toContain('Secure'); // plain http here; see the https case below
    expect(JSON.stringify(res.body)).not.toContain(cookieOf(res).split('=')[1]);

    const browser = asDashboard(t, cookieOf(res));
    expect((await browser.get('/dashboard/api/session')).body.account.id).toBe(m.accountId);
    const list = await browser.get('/v2/payments');
    expect(list.status).toBe(200);
    expect(list.body.data.map((p: any) => p.id)).toEqual([testPay.id]);
    // The mode header picks live mode, as a live key would.
    const liveList = await asDashboard(t, cookieOf(res), { mode: 'live' }).get('/v2/payments');
    expect(liveList.status).toBe(200);
    expect(liveList.body.data.map((p: any) => p.id)).toEqual(livePay?.id ? [livePay.id] : []);
    expect(liveList.body.data.every((p: any) => p.livemode === true)).toBe(true);
    // And it acts: cancel the rescue through the cookie.
    const cancelled = await browser.post(`/v2/payments/${testPay.id}/cancel_rescue`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('rescue_cancelled');
    expectError(await asDashboard(t, cookieOf(res), { mode: 'sandbox' }).get('/v2/payments'), 400, { code: 'mode_invalid', param: 'x-rescue-mode' });
  });

  it('refuses a wrong password and an unknown email alike: 401, the same message, no cookie', async () => {
    const m = await newMerchant(t);
    const wrong = await signIn(t, m.email, 'not the password');
    const unknown = await signIn(t, `nobody-${m.email}`, PASSWORD);
    for (const res of [wrong, unknown]) {
      expectError(res, 401, { type: 'authentication_error', code: 'sign_in_failed' });
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    expectError(await signIn(t, m.email, ''), 400, { param: 'password' });
  });

  it('CSRF: a request carrying only the cookie (no x-rescue-dashboard header) is refused and changes nothing', async () => {
    const m = await newMerchant(t);
    const pay = (await t.client(m.testKey).post('/v2/payments', DECLINED)).body;
    const cookie = await signedIn(t, m);
    const forged = asDashboard(t, cookie, { header: false });
    expectError(await forged.get('/v2/payments'), 403, { code: 'dashboard_header_missing' });
    expectError(await forged.post(`/v2/payments/${pay.id}/cancel_rescue`), 403, { code: 'dashboard_header_missing' });
    expectError(await forged.del('/dashboard/api/session'), 403, { code: 'dashboard_header_missing' });
    expect((await t.client(m.testKey).get(`/v2/payments/${pay.id}`)).body.status).toBe('requires_rescue');
    // A cross-site form cannot sign a browser in to an attacker's account either.
    expectError(await signIn(t, m.email, PASSWORD, {}), 403, { code: 'dashboard_header_missing' });
    // The session still works with the header.
    expect((await asDashboard(t, cookie).get('/v2/payments')).status).toBe(200);
  });

  it('signs out: the cookie is cleared and the old token no longer works', async () => {
    const m = await newMerchant(t);
    const cookie = await signedIn(t, m);
    const out = await asDashboard(t, cookie).del('/dashboard/api/session');
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ object: 'dashboard_session', deleted: true });
    expect(out.headers.get('set-cookie')).toMatch(/^rescue_session=; .*Max-Age=0/);
    expectError(await asDashboard(t, cookie).get('/v2/payments'), 401, { code: 'session_invalid' });
    // Asking is not an error: signed out answers 200 with no account.
    const after = await asDashboard(t, cookie).get('/dashboard/api/session');
    expect([after.status, after.body]).toEqual([200, { object: 'dashboard_session', account: null, expires_at: null }]);
    // Signing out again is harmless.
    expect((await asDashboard(t, cookie).del('/dashboard/api/session')).body.deleted).toBe(false);
    expectError(await asDashboard(t, 'rescue_session=rds_forged').get('/v2/payments'), 401, { code: 'session_invalid' });
  });

  it(`a session expires after ${SESSION_HOURS} hours`, async () => {
    const m = await newMerchant(t);
    const cookie = await signedIn(t, m);
    clock.advance((SESSION_HOURS - 1) * 3_600_000);
    expect((await asDashboard(t, cookie).get('/v2/payments')).status).toBe(200);
    clock.advance(2 * 3_600_000);
    expectError(await asDashboard(t, cookie).get('/v2/payments'), 401, { code: 'session_invalid' });
    // A new sign-in works (and drops the expired row).
    expect((await asDashboard(t, await signedIn(t, m)).get('/v2/payments')).status).toBe(200);
  });

  it('tenant isolation: a session sees and touches only its own account', async () => {
    const [a, b] = [await newMerchant(t, 'a'), await newMerchant(t, 'b')];
    const bPay = (await t.client(b.testKey).post('/v2/payments', DECLINED)).body;
    const aPay = (await t.client(a.testKey).post('/v2/payments', DECLINED)).body;
    const asA = asDashboard(t, await signedIn(t, a));
    expect((await asA.get('/v2/payments')).body.data.map((p: any) => p.id)).toEqual([aPay.id]);
    expectError(await asA.get(`/v2/payments/${bPay.id}`), 404, { code: 'resource_missing' });
    expectError(await asA.post(`/v2/payments/${bPay.id}/cancel_rescue`), 404, { code: 'resource_missing' });
    expect((await t.client(b.testKey).get(`/v2/payments/${bPay.id}`)).body.status).toBe('requires_rescue');
    // An API key always wins over a cookie: B's key with A's cookie is B.
    const both = await fetch(`${t.url}/v2/payments`, { headers: { cookie: (await signIn(t, a.email, PASSWORD)).headers.get('set-cookie')!.split(';')[0]!, authorization: `Bearer ${b.testKey}` } });
    expect(((await both.json()) as any).data.map((p: any) => p.id)).toEqual([bPay.id]);
  });

  // The concurrent race, the per-email limit and other addresses: test/api/throttles.test.ts.
  it(`throttles an address after ${SIGN_IN_LIMITS.address.max} tries: 429 with Retry-After even with the right password, until the window ends`, async () => {
    clock.advance(16 * 60_000); // past any window earlier tests in this file opened
    const m = await newMerchant(t, 'throttle');
    const other = await newMerchant(t, 'other');
    // A right password does not use up the address's tries.
    expect((await signIn(t, other.email, PASSWORD)).status).toBe(201);
    for (let i = 1; i <= SIGN_IN_LIMITS.address.max; i++) expectError(await signIn(t, m.email, `wrong ${i}`), 401, { code: 'sign_in_failed' });
    const locked = await signIn(t, m.email, PASSWORD);
    expectError(locked, 429, { code: 'sign_in_throttled', type: 'rate_limit_error' });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
    clock.advance(16 * 60_000);
    expect((await signIn(t, m.email, PASSWORD)).status).toBe(201);
  });
});

describe('dashboard session behind https', () => {
  let t: TestRescue;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    // Published publicly, so signup is closed by default; this test signs up through the real port.
    t = await startTestRescue({ worker: false, env: { PORT: String(port), RESCUE_PUBLIC_URL: 'https://rescue.example.com', RESCUE_SIGNUP: 'open' } });
  });
  afterAll(() => t?.close());

  it('marks the cookie Secure when Rescue is published over https', async () => {
    // t.url is the public https URL; talk to the real port behind it.
    const direct = { ...t, url: `http://127.0.0.1:${port}` };
    const m = await newMerchant(direct);
    const res = await signIn(direct, m.email, PASSWORD);
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
