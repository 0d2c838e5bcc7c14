import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Stripe from 'stripe';

// A local stand-in for the Stripe endpoints Rescue calls, reached by pointing the SDK's host, port
// and protocol at it (RESCUE_STRIPE_API_BASE). Its objects are shaped from Stripe's own fixtures
// (test/fixtures/stripe). Every request is recorded with its headers (Idempotency-Key, Stripe-Account,
// Authorization) and its form body, so tests can assert what Rescue sent.

const FIXTURES = join(import.meta.dirname, '../fixtures/stripe');
export const fixture = <T = any>(path: string): T => JSON.parse(readFileSync(join(FIXTURES, path), 'utf8'));

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  body: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Wall time the request arrived (ms). */
  at: number;
}

export interface OAuthGrant {
  stripe_user_id: string;
  scope: 'read_only' | 'read_write';
  livemode?: boolean;
}

export interface FakeStripe {
  url: string;
  requests: Recorded[];
  /** Authorization codes the fake's /oauth/token accepts. */
  codes: Map<string, OAuthGrant>;
  /** Refresh tokens the fake's refresh grant accepts → the grant they renew (filled by each code exchange). */
  refreshTokens: Map<string, OAuthGrant>;
  /** Access tokens Stripe no longer accepts (401, "expired"); expire one to make Rescue refresh it. */
  expiredTokens: Set<string>;
  /**
   * Restricted keys (rk_…) → the permissions granted, as `resource:read` / `resource:write` (write
   * includes read) over invoices, invoice_payments, payment_intents, charges, subscriptions. A key not
   * listed may do everything (a secret key). A call beyond its permissions is Stripe's 403.
   */
  restrictedKeys: Map<string, Set<string>>;
  /** Stripe test clocks (GET /v1/test_helpers/test_clocks/:id): id → frozen time (Unix seconds). */
  testClocks: Map<string, number>;
  /** OAuth access tokens → their scope: a read_only token's writes are refused as Stripe refuses them (403). */
  tokenScopes: Map<string, OAuthGrant['scope']>;
  /** The Stripe account its authorize page connects (GET /oauth/authorize, for browser tests). */
  authorizeAs: string;
  deauthorized: string[];
  invoices: any[];
  charges: any[];
  subscriptions: any[];
  paymentIntents: Map<string, any>;
  /** Invoice id → the payment intents paid for it (GET /v1/invoice_payments). */
  invoicePayments: Map<string, string[]>;
  /** Payment method → the decline code confirming a payment intent with it gives (else it succeeds). */
  declinePaymentMethods: Map<string, string>;
  /** Invoice id → what POST /v1/invoices/:id/pay does: pay it, or decline with a 402 card error. */
  payOutcome: Map<string, { decline: string } | 'pay'>;
  /** The next `times` requests whose path (with its query string, if any) matches answer `status` with `body`. */
  failNext(match: RegExp, status: number, body: unknown, times?: number): void;
  requestsTo(method: string, path: RegExp): Recorded[];
  close(): Promise<void>;
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const failures: { match: RegExp; status: number; body: unknown; times: number }[] = [];
  const fake: Omit<FakeStripe, 'url' | 'close'> = {
    requests: [],
    codes: new Map(),
    refreshTokens: new Map(),
    expiredTokens: new Set(),
    restrictedKeys: new Map(),
    tokenScopes: new Map(),
    testClocks: new Map(),
    authorizeAs: 'acct_browser',
    deauthorized: [],
    invoices: [],
    charges: [],
    subscriptions: [],
    paymentIntents: new Map(),
    invoicePayments: new Map(),
    declinePaymentMethods: new Map(),
    payOutcome: new Map(),
    failNext(match, status, body, times = 1) {
      failures.push({ match, status, body, times });
    },
    requestsTo(method, path) {
      return this.requests.filter((r) => r.method === method && path.test(r.path));
    },
  };
  // Stripe's idempotency: the same key answers the same response, without doing it again.
  const replies = new Map<string, { status: number; body: unknown }>();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const rec: Recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body: new URLSearchParams(Buffer.concat(chunks).toString('utf8')), headers: req.headers, at: Date.now() };
    fake.requests.push(rec);
    const target = url.search ? `${rec.path}${url.search}` : rec.path;
    const failure = failures.find((f) => f.times > 0 && f.match.test(target));
    if (failure) {
      failure.times--;
      return send(res, failure.status, failure.body);
    }
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string' && replies.has(key)) {
      const r = replies.get(key)!;
      return send(res, r.status, r.body, { 'idempotent-replayed': 'true' });
    }
    const answer = route(fake, rec);
    if ('html' in answer) {
      res.writeHead(answer.status, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(answer.html);
    }
    // Like Stripe, a request refused before it ran (a rejected key) leaves no result to replay.
    if (typeof key === 'string' && rec.method === 'POST' && answer.status !== 401) replies.set(key, answer);
    send(res, answer.status, answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake${Math.random().toString(36).slice(2, 10)}`, ...headers });
  res.end(JSON.stringify(body));
}

const notFound = (what: string) => ({ status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}` } } });

function route(fake: Omit<FakeStripe, 'url' | 'close'>, r: Recorded): { status: number; body: unknown } | { status: number; html: string } {
  if (r.method === 'GET' && r.path === '/oauth/authorize') return authorizePage(fake, r);
  const auth = r.headers.authorization;
  if (!auth || !/^Bearer (sk|rk)_/.test(auth)) return { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } } };
  if (fake.expiredTokens.has(auth.slice('Bearer '.length))) return { status: 401, body: { error: { type: 'invalid_request_error', message: 'Expired API Key provided: sk_test_***' } } };
  const m = (re: RegExp) => r.path.match(re);
  if (r.method === 'POST' && r.path === '/oauth/token' && r.body.get('grant_type') === 'refresh_token') {
    // Stripe's refresh grant (platform key): a new access token, the same refresh token.
    const refreshToken = r.body.get('refresh_token') ?? '';
    const grant = fake.refreshTokens.get(refreshToken);
    if (!grant) return { status: 400, body: { error: 'invalid_grant', error_description: `Refresh token does not exist: ${refreshToken}` } };
    const access = `sk_test_access${grant.stripe_user_id}_r${fake.requestsTo('POST', /^\/oauth\/token$/).length}`;
    fake.tokenScopes.set(access, grant.scope);
    return { status: 200, body: { access_token: access, refresh_token: refreshToken, token_type: 'bearer', stripe_publishable_key: 'pk_test_x', stripe_user_id: grant.stripe_user_id, scope: grant.scope, livemode: grant.livemode ?? false } };
  }
  if (r.method === 'POST' && r.path === '/oauth/token') {
    const grant = fake.codes.get(r.body.get('code') ?? '');
    if (!grant) return { status: 400, body: { error: 'invalid_grant', error_description: `Authorization code does not exist: ${r.body.get('code')}` } };
    fake.codes.delete(r.body.get('code')!);
    fake.refreshTokens.set(`rt_refresh${grant.stripe_user_id}`, grant);
    fake.tokenScopes.set(`sk_test_access${grant.stripe_user_id}`, grant.scope);
    // A new grant's token is one Stripe accepts (the fake names it after the account, so one expired
    // by an earlier test of the same account is fresh again).
    fake.expiredTokens.delete(`sk_test_access${grant.stripe_user_id}`);
    return {
      status: 200,
      body: { access_token: `sk_test_access${grant.stripe_user_id}`, refresh_token: `rt_refresh${grant.stripe_user_id}`, token_type: 'bearer', stripe_publishable_key: 'pk_test_x', stripe_user_id: grant.stripe_user_id, scope: grant.scope, livemode: grant.livemode ?? false },
    };
  }
  if (r.method === 'POST' && r.path === '/oauth/deauthorize') {
    const id = r.body.get('stripe_user_id') ?? '';
    fake.deauthorized.push(id);
    return { status: 200, body: { stripe_user_id: id } };
  }
  const refused = permissionRefusal(fake, auth.slice('Bearer '.length), r);
  if (refused) return refused;
  if (r.method === 'GET' && r.path === '/v1/invoices') return list(fake.invoices, r, '/v1/invoices');
  if (r.method === 'GET' && r.path === '/v1/payment_intents') return list([...fake.paymentIntents.values()], r, '/v1/payment_intents');
  if (r.method === 'GET' && r.path === '/v1/charges') return list(fake.charges, r, '/v1/charges');
  if (r.method === 'GET' && r.path === '/v1/subscriptions') return list(fake.subscriptions, r, '/v1/subscriptions');
  if (r.method === 'GET' && r.path === '/v1/invoice_payments') {
    // By invoice, or by payment (`payment[type]=payment_intent&payment[payment_intent]=pi_…`).
    const byPayment = r.query.get('payment[payment_intent]');
    const invoices = byPayment ? [...fake.invoicePayments].filter(([, pis]) => pis.includes(byPayment)).map(([inv]) => inv) : [r.query.get('invoice') ?? ''];
    const data = invoices.flatMap((invoice) => (fake.invoicePayments.get(invoice) ?? []).map((pi, i) => ({
      object: 'invoice_payment', id: `inpay_${invoice}_${i}`, invoice, is_default: i === 0, livemode: false, created: 1785003600 + i, status: 'canceled', amount_paid: null, amount_requested: 1000, currency: 'usd',
      payment: { type: 'payment_intent', payment_intent: pi }, status_transitions: { canceled_at: null, paid_at: null },
    }))).filter((p) => !byPayment || p.payment.payment_intent === byPayment);
    return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/invoice_payments' } };
  }
  let hit = m(/^\/v1\/test_helpers\/test_clocks\/([^/]+)$/);
  if (r.method === 'GET' && hit) {
    const frozen = fake.testClocks.get(hit[1]!);
    if (frozen === undefined) return notFound('test_clock');
    return { status: 200, body: { id: hit[1], object: 'test_helpers.test_clock', created: frozen, deletes_after: frozen + 30 * 86400, frozen_time: frozen, livemode: false, name: null, status: 'ready', status_details: {} } };
  }
  hit = m(/^\/v1\/payment_intents\/([^/]+)$/);
  if (r.method === 'GET' && hit) {
    const pi = fake.paymentIntents.get(hit[1]!);
    if (!pi) return notFound('payment_intent');
    const expand = r.query.getAll('expand[]').concat(r.query.getAll('expand[0]'));
    const charge = expand.includes('latest_charge') ? (fake.charges.find((c) => c.id === pi.latest_charge) ?? pi.latest_charge) : pi.latest_charge;
    return { status: 200, body: { ...pi, latest_charge: charge } };
  }
  hit = m(/^\/v1\/payment_intents\/([^/]+)$/);
  if (r.method === 'POST' && hit) {
    const pi = fake.paymentIntents.get(hit[1]!);
    return pi ? { status: 200, body: pi } : notFound('payment_intent');
  }
  hit = m(/^\/v1\/payment_intents\/([^/]+)\/confirm$/);
  if (r.method === 'POST' && hit) {
    const pi = fake.paymentIntents.get(hit[1]!);
    if (!pi) return notFound('payment_intent');
    if (pi.status === 'succeeded' || pi.status === 'canceled') {
      return { status: 400, body: { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: `This PaymentIntent's status is ${pi.status}, so it cannot be confirmed.`, payment_intent: pi } } };
    }
    return confirmed(fake, pi, r.body.get('payment_method'));
  }
  if (r.method === 'POST' && r.path === '/v1/payment_intents') {
    const pi = { ...fixture('objects/payment_intent.json'), id: `pi_created${fake.paymentIntents.size}`, amount: Number(r.body.get('amount')), currency: r.body.get('currency'), customer: r.body.get('customer'), last_payment_error: null, next_action: null };
    fake.paymentIntents.set(pi.id, pi);
    return confirmed(fake, pi, r.body.get('payment_method'));
  }
  hit = m(/^\/v1\/invoices\/([^/]+)\/pay$/);
  if (r.method === 'POST' && hit) {
    const inv = fake.invoices.find((i) => i.id === hit![1]);
    if (!inv) return notFound('invoice');
    const outcome = fake.payOutcome.get(inv.id) ?? 'pay';
    if (outcome !== 'pay') {
      const err = fixture('errors/402_card_declined_insufficient_funds.json');
      err.error.decline_code = outcome.decline;
      return { status: 402, body: err };
    }
    Object.assign(inv, { status: 'paid', paid: true, amount_paid: inv.amount_due, amount_remaining: 0 });
    return { status: 200, body: inv };
  }
  hit = m(/^\/v1\/invoices\/([^/]+)$/);
  if (hit) {
    const inv = fake.invoices.find((i) => i.id === hit![1]);
    if (!inv) return notFound('invoice');
    if (r.method === 'POST' && r.body.has('auto_advance')) inv.auto_advance = r.body.get('auto_advance') === 'true';
    return { status: 200, body: inv };
  }
  return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${r.method}: ${r.path})` } } };
}

/** The resource and access a /v1 request needs, as a restricted key's permissions name them. */
function permissionOf(r: Recorded): { resource: string; access: 'read' | 'write' } | null {
  const resource = r.path.match(/^\/v1\/(invoices|invoice_payments|payment_intents|charges|subscriptions)(\/|$)/)?.[1];
  if (!resource) return null;
  return { resource, access: r.method === 'GET' ? 'read' : 'write' };
}

/**
 * Stripe's answer to a key calling beyond its permissions: a 403 invalid_request_error naming the
 * redacted key, the account and the permission that would allow it (Stripe's wording).
 */
function permissionRefusal(fake: Omit<FakeStripe, 'url' | 'close'>, key: string, r: Recorded): { status: number; body: unknown } | null {
  const need = permissionOf(r);
  if (!need) return null;
  const granted = fake.restrictedKeys.get(key);
  const scope = fake.tokenScopes.get(key);
  const allowed = granted ? granted.has(`${need.resource}:write`) || (need.access === 'read' && granted.has(`${need.resource}:read`)) : !(scope === 'read_only' && need.access === 'write');
  if (allowed) return null;
  const redacted = `${key.slice(0, 8)}${'*'.repeat(Math.max(4, key.length - 12))}${key.slice(-4)}`;
  const singular = need.resource.replace(/s$/, '');
  return {
    status: 403,
    body: {
      error: {
        type: 'invalid_request_error',
        message: `The provided key '${redacted}' does not have the required permissions for this endpoint on account 'acct_fake'. Having the 'rak_${singular}_${need.access}' permission would allow this request to continue.`,
      },
    },
  };
}

/**
 * Stripe's authorize page, reduced to its two choices: "Connect" sends the browser back to the
 * redirect_uri with a fresh code for `fake.authorizeAs` (and the requested scope), "Deny" with
 * error=access_denied; both carry the state unchanged, as Stripe does.
 */
function authorizePage(fake: Omit<FakeStripe, 'url' | 'close'>, r: Recorded) {
  const redirect = r.query.get('redirect_uri') ?? '';
  const state = r.query.get('state') ?? '';
  const scope = (r.query.get('scope') ?? 'read_only') as OAuthGrant['scope'];
  const code = `ac_browser${Math.random().toString(36).slice(2, 10)}`;
  fake.codes.set(code, { stripe_user_id: fake.authorizeAs, scope });
  const back = (params: Record<string, string>) => `${redirect}?${new URLSearchParams({ ...params, state })}`.replace(/"/g, '&quot;').replace(/&(?!quot;)/g, '&amp;');
  return {
    status: 200,
    html: `<!doctype html><title>Stripe</title><h1>Connect to Rescue (${scope})</h1>
<a id="connect" href="${back({ code, scope })}">Connect my Stripe account</a>
<a id="deny" href="${back({ error: 'access_denied', error_description: 'The user denied your request' })}">Deny</a>`,
  };
}

/** Confirms off-session: declines with a 402 card error for a payment method listed in `declinePaymentMethods`. */
function confirmed(fake: Omit<FakeStripe, 'url' | 'close'>, pi: any, paymentMethod: string | null) {
  const decline = paymentMethod ? fake.declinePaymentMethods.get(paymentMethod) : undefined;
  if (decline) {
    const err = fixture('errors/402_card_declined_insufficient_funds.json');
    err.error.decline_code = decline;
    err.error.payment_intent.id = pi.id;
    return { status: 402, body: err };
  }
  Object.assign(pi, { status: 'succeeded', payment_method: paymentMethod ?? pi.payment_method, amount_received: pi.amount, last_payment_error: null });
  return { status: 200, body: pi };
}

/** Stripe's list semantics: newest first, `starting_after` an id, `created[gte]`, `limit`. */
function list(items: any[], r: Recorded, url: string) {
  const gte = Number(r.query.get('created[gte]') ?? 0);
  const limit = Number(r.query.get('limit') ?? 10);
  let rows = items.filter((i) => i.created >= gte).sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
  const after = r.query.get('starting_after');
  if (after) {
    const at = rows.findIndex((i) => i.id === after);
    rows = at >= 0 ? rows.slice(at + 1) : [];
  }
  return { status: 200, body: { object: 'list', data: rows.slice(0, limit), has_more: rows.length > limit, url } };
}

// ── Payloads ───────────────────────────────────────────────────────────────────────────────────

/** A webhook event from the fixtures' envelope, with another object, id or connected account. */
export function stripeEvent(type: string, object: any, o: { id?: string; account?: string; created?: number; livemode?: boolean } = {}): any {
  const base = fixture('events/invoice.paid.json');
  return {
    ...base,
    id: o.id ?? `evt_${Math.random().toString(36).slice(2, 14)}`,
    type,
    created: o.created ?? Math.floor(Date.now() / 1000),
    livemode: o.livemode ?? false,
    data: { object },
    ...(o.account ? { account: o.account } : {}),
  };
}

/** The fixture invoice with its own id, customer and subscription. */
export function invoiceObject(o: { id: string; customer?: string; subscription?: string; status?: string; amount?: number; created?: number; paid?: boolean }): any {
  const inv = structuredClone(fixture(`events/${o.paid ? 'invoice.paid' : 'invoice.payment_failed'}.json`).data.object);
  const amount = o.amount ?? inv.amount_due;
  Object.assign(inv, {
    id: o.id,
    customer: o.customer ?? inv.customer,
    status: o.status ?? inv.status,
    amount_due: amount,
    amount_remaining: o.paid ? 0 : amount,
    amount_paid: o.paid ? amount : 0,
    created: o.created ?? inv.created,
  });
  if (o.subscription) inv.parent.subscription_details.subscription = o.subscription;
  return inv;
}

/** A declined payment intent (the 402 fixture's) and its failed charge (the charge fixture with the card). */
export function declinedPaymentIntent(o: { id: string; charge: string; decline: string; networkAdviceCode?: string | null; brand?: string; country?: string; funding?: string; wallet?: string | null; fingerprint?: string }) {
  const pi = structuredClone(fixture('errors/402_card_declined_insufficient_funds.json').error.payment_intent);
  pi.id = o.id;
  pi.latest_charge = o.charge;
  pi.last_payment_error.decline_code = o.decline;
  pi.last_payment_error.charge = o.charge;
  if (o.networkAdviceCode !== undefined) pi.last_payment_error.network_advice_code = o.networkAdviceCode;
  const charge = structuredClone(fixture('objects/charge.json'));
  Object.assign(charge, { id: o.charge, payment_intent: o.id, status: 'failed', paid: false, failure_code: 'card_declined', customer: 'cus_QXg1o8vcGmoR32' });
  Object.assign(charge.payment_method_details.card, {
    brand: o.brand ?? 'visa',
    country: o.country ?? 'US',
    funding: o.funding ?? 'credit',
    fingerprint: o.fingerprint ?? 'AOB934RVNwzk6xtn',
    wallet: o.wallet ? { dynamic_last4: null, type: o.wallet } : null,
  });
  return { pi, charge };
}

/** Signs a payload as Stripe does, with the SDK's own test helper. */
export function signedHeaders(payload: string, secret: string, timestamp?: number): Record<string, string> {
  const header = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({ payload, secret, ...(timestamp !== undefined ? { timestamp } : {}) });
  return { 'stripe-signature': header, 'content-type': 'application/json; charset=utf-8' };
}
