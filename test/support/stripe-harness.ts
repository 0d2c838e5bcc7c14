import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { declinedPaymentIntent, invoiceObject, signedHeaders, startFakeStripe, type FakeStripe, type OAuthGrant } from './fake-stripe.ts';
import type { Engine } from './databases.ts';
import { startTestRescue, type Client, type TestRescue } from './harness.ts';

// Rescue wired to the fake Stripe: the SDK's host points at it, OAuth redirects name a fake
// connect base, and the platform's keys and Connect webhook secret are test values.

export const CONNECT_WEBHOOK_SECRET = 'whsec_connectplatformsecret0001';
export const CONNECT_BASE = 'https://connect.stripe.test';

export const encryptionKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

export interface StripeRescue {
  t: TestRescue;
  fake: FakeStripe;
  close(): Promise<void>;
}

/**
 * `engine`: PGlite (default) or the local Postgres. `fakeConnect`: send browsers to the fake's own
 * authorize page instead of an unreachable host.
 */
export async function startStripeRescue(o: { engine?: Engine; env?: Record<string, string>; worker?: boolean; fakeConnect?: boolean } = {}): Promise<StripeRescue> {
  const fake = await startFakeStripe();
  const t = await startTestRescue({
    engine: o.engine,
    worker: o.worker,
    env: {
      RESCUE_ENCRYPTION_KEY: encryptionKey('k1'),
      RESCUE_STRIPE_SECRET_KEY: 'sk_test_platform',
      RESCUE_STRIPE_CLIENT_ID: 'ca_testplatform',
      RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_WEBHOOK_SECRET,
      RESCUE_STRIPE_API_BASE: fake.url,
      RESCUE_STRIPE_CONNECT_BASE: o.fakeConnect ? fake.url : CONNECT_BASE,
      RESCUE_STRIPE_MAX_NETWORK_RETRIES: '0',
      ...o.env,
    },
  });
  return { t, fake, close: async () => (await t.close(), await fake.close()) };
}

/** The browser's side of Connect OAuth: the link, the redirect to Stripe, Stripe's redirect back. */
export async function startOAuth(t: TestRescue, api: Client, mode: 'observe' | 'active' = 'observe') {
  const link = await api.post('/v2/stripe/connect_links', { mode });
  expect(link.status).toBe(200);
  const res = await fetch(link.body.url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return { link: link.body, location, cookie, state: location.searchParams.get('state')! };
}

export async function callback(t: TestRescue, params: Record<string, string>, cookie?: string) {
  const res = await fetch(`${t.url}/api/stripe/oauth/callback?${new URLSearchParams(params)}`, { headers: cookie ? { cookie } : {} });
  return { status: res.status, html: await res.text(), contentType: res.headers.get('content-type') };
}

/** A complete OAuth connection of a new account; returns its client and the Stripe account id. */
export async function connectedAccount(s: StripeRescue, grant: Partial<OAuthGrant> & { mode?: 'observe' | 'active' } = {}) {
  const api = s.t.client((await s.t.signup()).testKey);
  const stripeAccount = grant.stripe_user_id ?? `acct_${randomBytes(8).toString('hex')}`;
  const code = `ac_${randomBytes(8).toString('hex')}`;
  s.fake.codes.set(code, { stripe_user_id: stripeAccount, scope: grant.scope ?? (grant.mode === 'active' ? 'read_write' : 'read_only') });
  const flow = await startOAuth(s.t, api, grant.mode ?? 'observe');
  const done = await callback(s.t, { code, state: flow.state, scope: grant.scope ?? 'read_only' }, flow.cookie);
  expect(done.status, done.html).toBe(200);
  return { api, stripeAccount };
}

/** Posts an event to a Stripe webhook endpoint, signed with the SDK's test helper (or not, or altered). */
export async function sendEvent(s: StripeRescue, event: unknown, o: { path?: string; secret?: string; timestamp?: number; tamper?: (payload: string) => string; unsigned?: boolean } = {}) {
  const payload = JSON.stringify(event, null, 2);
  const headers = o.unsigned ? { 'content-type': 'application/json' } : signedHeaders(payload, o.secret ?? CONNECT_WEBHOOK_SECRET, o.timestamp);
  const res = await fetch(`${s.t.url}${o.path ?? '/api/stripe/webhook'}`, { method: 'POST', headers, body: o.tamper ? o.tamper(payload) : payload });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The Rescue account id behind a connected Stripe account. */
export async function accountOf(s: StripeRescue, stripeAccount: string): Promise<string> {
  const row = await s.t.rescue.db.selectFrom('stripe_connections').select('account_id').where('stripe_account_id', '=', stripeAccount).executeTakeFirstOrThrow();
  return row.account_id;
}

let uniq = 0;
const uniqueId = (p: string) => `${p}_${Date.now().toString(36)}${(++uniq).toString(36)}`;

/** A failed invoice the fake Stripe knows: its invoice payment, declined payment intent and charge. */
export function knownFailedInvoice(fake: FakeStripe, o: { decline?: string } = {}) {
  const inv = invoiceObject({ id: uniqueId('in'), subscription: uniqueId('sub'), customer: uniqueId('cus') });
  const { pi, charge } = declinedPaymentIntent({ id: uniqueId('pi'), charge: uniqueId('ch'), decline: o.decline ?? 'insufficient_funds', fingerprint: uniqueId('fp') });
  fake.invoices.push(inv);
  fake.paymentIntents.set(pi.id, pi);
  fake.charges.push(charge);
  fake.invoicePayments.set(inv.id, [pi.id]);
  return inv;
}
