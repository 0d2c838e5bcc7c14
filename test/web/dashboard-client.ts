import { rawRequest } from '../support/api-assertions.ts';
import { request, type Reply, type TestRescue } from '../support/harness.ts';

// A merchant's account with a known email and password, and the browser's side of the dashboard
// session as plain HTTP: the cookie Rescue sets, sent back with the dashboard's header.

export const PASSWORD = 'correct horse battery';

export interface Merchant {
  accountId: string;
  email: string;
  testKey: string;
  liveKey: string;
}

export async function newMerchant(t: TestRescue, tag = 'dash'): Promise<Merchant> {
  const email = `${tag}-${Math.random().toString(36).slice(2, 10)}@example.com`;
  const res = await request(t.url, 'POST', '/signup', undefined, { email, password: PASSWORD, business_name: 'Acme' });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { accountId: res.body.account.id, email, testKey: res.body.api_keys.test, liveKey: res.body.api_keys.live };
}

export function signIn(t: TestRescue, email: string, password: string, headers: Record<string, string> = { 'x-rescue-dashboard': '1' }): Promise<Reply> {
  return rawRequest(t.url, 'POST', '/dashboard/api/session', { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ email, password }) });
}

/** The `name=value` part of the session cookie a sign-in set. */
export function cookieOf(reply: Reply): string {
  const set = reply.headers.get('set-cookie');
  if (!set) throw new Error(`no set-cookie: ${reply.status} ${JSON.stringify(reply.body)}`);
  return set.split(';')[0]!;
}

export async function signedIn(t: TestRescue, m: Merchant): Promise<string> {
  const res = await signIn(t, m.email, PASSWORD);
  if (res.status !== 201) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(res.body)}`);
  return cookieOf(res);
}

/** A request as the dashboard makes it: cookie, `x-rescue-dashboard: 1` (unless header: false), the mode. */
export function asDashboard(t: TestRescue, cookie: string, o: { header?: boolean; mode?: string } = {}) {
  const headers = (body: boolean): Record<string, string> => ({
    cookie,
    ...(o.header === false ? {} : { 'x-rescue-dashboard': '1' }),
    ...(o.mode ? { 'x-rescue-mode': o.mode } : {}),
    ...(body ? { 'content-type': 'application/json' } : {}),
  });
  return {
    get: (path: string) => rawRequest(t.url, 'GET', path, { headers: headers(false) }),
    post: (path: string, body: unknown = {}) => rawRequest(t.url, 'POST', path, { headers: headers(true), body: JSON.stringify(body) }),
    del: (path: string) => rawRequest(t.url, 'DELETE', path, { headers: headers(false) }),
  };
}
