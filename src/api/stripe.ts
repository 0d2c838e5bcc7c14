import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Stripe from 'stripe';
import { z } from 'zod';
import { systemClock } from '../clock.ts';
import { defaultTokenPrefixes } from '../domain/gateway-routing.ts';
import { RescueError } from '../errors.ts';
import type { Scope } from '../store/payments.ts';
import type { StripeHandbackRow, StripeMode } from '../store/schema.ts';
import { getSettings, updateSettings } from '../store/settings.ts';
import { customerEmailsNotice } from '../stripe/customer-emails.ts';
import {
  findConnectionByStripeAccount,
  getStripeConnection,
  listBackfills,
  lastDisconnectedScope,
  saveStripeConnection,
  startBackfill,
  stripeEventSeen,
  updateStripeConnection,
  type StripeConnection,
} from '../store/stripe.ts';
import { BACKFILL_MONTHS } from '../stripe/backfill.ts';
import { stripeClient, stripeWebhooks } from '../stripe/client.ts';
import { keyringFrom, signToken, verifyToken, type Keyring } from '../stripe/crypto.ts';
import { DISCONNECTED } from '../stripe/connection-events.ts';
import { changeMode, disconnect, ensurePermissions } from '../stripe/connection-service.ts';
import { missingPermissions, missingPermissionsMessage } from '../stripe/permissions.ts';
import { listHandbacks } from '../store/stripe-handbacks.ts';
import { handleStripeEvent, STRIPE_GATEWAY, type StripeEventDeps } from '../stripe/events.ts';
import { authenticate, keyFromHeaders } from './auth.ts';
import type { AppContext } from './context.ts';
import { cookieValue } from './dashboard-cookie.ts';
import { handleError } from './error-handler.ts';
import { storableCopy } from './storable-input.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import { connectedPage, failurePage, type ConnectFailure } from './stripe-pages.ts';
import * as R from './responses.ts';

// Stripe: Connect OAuth (start, callback, disconnect), a pasted restricted key, observe/active mode,
// and the two webhook endpoints. docs/stripe.md tells the merchant's side.

const LINK_MINUTES = 10;
const STATE_MINUTES = 30;
const STATE_COOKIE = 'rescue_stripe_oauth';
/** Stripe's default tolerance: a signature older than 5 minutes is refused. */
const SIGNATURE_TOLERANCE_S = 300;

const Mode = z.enum(['observe', 'active']);
const scopeFor = (mode: StripeMode) => (mode === 'active' ? 'read_write' : 'read_only');

export const ConnectLinkBody = z.strictObject({ mode: Mode.default('observe') });
export const ConnectionBody = z.strictObject({
  mode: Mode.optional(),
  /** A restricted key (rk_…) or secret key of the merchant's own account, instead of OAuth. */
  api_key: z.string().regex(/^(rk|sk)_(test|live)_[A-Za-z0-9]{8,}$/, 'api_key must be a Stripe restricted key (rk_test_… / rk_live_…) or secret key').optional(),
  /** The signing secret of the merchant's own webhook endpoint pointing at /api/stripe/billing-webhook. */
  webhook_secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{8,}$/, 'webhook_secret must be a Stripe signing secret (whsec_…)').nullable().optional(),
});

export function registerStripe(app: FastifyInstance, ctx: AppContext) {
  const ring = keyringFrom(ctx.config.RESCUE_ENCRYPTION_KEY, ctx.config.RESCUE_ENCRYPTION_OLD_KEYS);
  const needRing = (): Keyring => {
    if (!ring) throw new RescueError('stripe_not_configured', 'Stripe needs RESCUE_ENCRYPTION_KEY on this Rescue (secrets are encrypted at rest).');
    return ring;
  };
  const platform = () => {
    const { RESCUE_STRIPE_SECRET_KEY: key, RESCUE_STRIPE_CLIENT_ID: clientId } = ctx.config;
    if (!key || !clientId || !ring) return null;
    return { stripe: stripeClient(ctx.config, key), clientId, ring };
  };
  const publicBase = (request: FastifyRequest) => (ctx.config.RESCUE_PUBLIC_URL ?? `${request.protocol}://${request.headers.host}`).replace(/\/$/, '');
  const eventDeps: StripeEventDeps = { db: ctx.db, clock: ctx.clock, stripe: ctx.config, ring, workerId: ctx.processId, leaseMs: ctx.config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000 };

  // ── API (documented in /openapi.json) ───────────────────────────────────────────────────────

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/stripe/connect_links', response: R.StripeConnectLink, summary: 'A short-lived link that starts Stripe Connect OAuth for this account and mode (read_only for observe, read_write for active)', tag: 'Stripe', auth: true, body: ConnectLinkBody },
    async ({ body, principal, request }) => {
      const r = needRing();
      if (!platform()) throw new RescueError('stripe_not_configured', 'Stripe Connect is not configured on this Rescue (RESCUE_STRIPE_CLIENT_ID, RESCUE_STRIPE_SECRET_KEY).');
      const expiresAt = new Date(ctx.clock.now().getTime() + LINK_MINUTES * 60_000);
      const token = signToken(r, 'connect-link', { a: principal.accountId, l: principal.livemode, m: body.mode }, expiresAt);
      return { object: 'stripe_connect_link', livemode: principal.livemode, mode: body.mode, scope: scopeFor(body.mode), url: `${publicBase(request)}/api/stripe/connect?token=${encodeURIComponent(token)}`, expires_at: iso(expiresAt) };
    },
  );

  defineRoute(app, ctx, { method: 'GET', url: '/v2/stripe/connection', response: R.StripeConnection, summary: 'The Stripe connection of this account and mode, its mode and the import progress', tag: 'Stripe', auth: true }, async ({ principal, request }) => {
    const conn = ring ? await getStripeConnection(ctx.db, ring, principal) : null;
    return connectionJson(conn, principal, await listBackfills(ctx.db, principal), await listHandbacks(ctx.db, principal), `${publicBase(request)}/api/stripe/billing-webhook?account=${principal.accountId}`, (await getSettings(ctx.db, principal.accountId, principal.livemode)).dunning.enabled);
  });

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/stripe/connection', response: R.StripeConnection, summary: 'Connect with a pasted restricted key, switch between observe and active mode, or set the billing webhook secret', tag: 'Stripe', auth: true, body: ConnectionBody },
    async ({ body, principal, request }) => {
      const r = needRing();
      const now = ctx.clock.now();
      const deps = { db: ctx.db, ring: r, stripe: ctx.config };
      let checked = false;
      if (body.api_key) {
        if (body.api_key.includes('_live_') !== principal.livemode) throw new RescueError('parameter_invalid', `api_key is a ${principal.livemode ? 'test' : 'live'}-mode key; use a key of the same mode as your Rescue key.`, 'api_key');
        const existing = await getStripeConnection(ctx.db, r, principal);
        const mode = body.mode ?? existing?.mode ?? 'observe';
        // Every permission the mode needs, each with a harmless call: refused here rather than on every webhook.
        await ensurePermissions(deps, { key: body.api_key }, mode, 'api_key', now);
        checked = true;
        if (existing?.status === 'connected' && existing.mode === 'active' && mode === 'observe') await changeMode(deps, principal, existing, 'observe', now);
        await connect(principal, { kind: 'api_key', stripeAccountId: null, scope: null, mode, apiKey: body.api_key, at: now });
      }
      const conn = await getStripeConnection(ctx.db, r, principal);
      if (!conn || conn.status !== 'connected') throw new RescueError('stripe_not_connected', 'Stripe is not connected in this mode: connect with POST /v2/stripe/connect_links or paste a restricted key (api_key).');
      if (body.mode === 'active' && conn.kind === 'oauth' && conn.scope !== 'read_write') {
        throw new RescueError('parameter_invalid', 'The connection is read-only: active mode needs read_write. Reconnect with POST /v2/stripe/connect_links {"mode": "active"}.', 'mode');
      }
      if (body.mode && !checked) {
        // Every mode change checks again (and clears a needs_attention once the key can do it all).
        await ensurePermissions(deps, { conn }, body.mode, 'mode', now);
        await changeMode(deps, principal, conn, body.mode, now);
        ctx.wakeWorker();
      }
      if (body.webhook_secret !== undefined) await updateStripeConnection(ctx.db, r, principal, { webhookSecret: body.webhook_secret, at: now });
      return connectionJson(await getStripeConnection(ctx.db, r, principal), principal, await listBackfills(ctx.db, principal), await listHandbacks(ctx.db, principal), `${publicBase(request)}/api/stripe/billing-webhook?account=${principal.accountId}`, (await getSettings(ctx.db, principal.accountId, principal.livemode)).dunning.enabled);
    },
  );

  defineRoute(app, ctx, { method: 'DELETE', url: '/v2/stripe/connection', response: R.StripeConnection, summary: 'Disconnect Stripe: revokes the OAuth connection and forgets every token', tag: 'Stripe', auth: true }, async ({ principal }) => {
    const r = needRing();
    const conn = await getStripeConnection(ctx.db, r, principal);
    if (!conn || conn.status === 'disconnected') throw new RescueError('stripe_not_connected', 'Stripe is not connected in this mode.');
    const revoke = async () => {
      if (conn.kind !== 'oauth' || !conn.stripeAccountId) return;
      const p = platform();
      if (!p) throw new RescueError('stripe_not_configured', 'Stripe Connect is not configured on this Rescue, so the connection cannot be revoked.');
      try {
        await p.stripe.oauth.deauthorize({ client_id: p.clientId, stripe_user_id: conn.stripeAccountId });
      } catch (err) {
        // Already revoked from the Stripe dashboard: there is nothing left to revoke.
        if (!(err instanceof Stripe.errors.StripeError && /not connected|invalid_client|does not exist/i.test(`${err.message} ${err.code ?? ''}`))) {
          throw new RescueError('stripe_error', `Stripe did not revoke the connection: ${(err as Error).message}`);
        }
      }
    };
    // Invoices Rescue took over are handed back first, while it still has a key (connection-service.ts).
    await disconnect({ db: ctx.db, ring: r, stripe: ctx.config }, principal, DISCONNECTED, revoke, () => ctx.clock.now());
    return connectionJson(await getStripeConnection(ctx.db, r, principal), principal, await listBackfills(ctx.db, principal), await listHandbacks(ctx.db, principal), null);
  });

  /** Saves the connection, routes Stripe tokens to it, and starts the 12-month import. */
  async function connect(scope: Scope, c: Parameters<typeof saveStripeConnection>[3]): Promise<void> {
    const r = needRing();
    const since = new Date(c.at.getTime());
    since.setUTCMonth(since.getUTCMonth() - BACKFILL_MONTHS);
    await ctx.db.transaction().execute(async (tx) => {
      await saveStripeConnection(tx, r, scope, c);
      await startBackfill(tx, scope, since, c.at);
    });
    // The named gateway `stripe` claims Stripe's token shapes (pm_, card_, src_): gateway-routing.ts.
    // Only the gateways section changes, under the row's lock: a dunning save at the same moment survives.
    await updateSettings(ctx.db, scope.accountId, scope.livemode, c.at, (settings) => ({
      gateways: [...settings.gateways.filter((g) => g.name !== STRIPE_GATEWAY), { name: STRIPE_GATEWAY, gateway: { type: 'stripe' as const }, tokenPrefixes: defaultTokenPrefixes('stripe') }],
    }));
    ctx.wakeWorker();
  }

  // ── Browser: OAuth start and callback (HTML, not in /openapi.json) ──────────────────────────

  const html = (reply: FastifyReply, status: number, body: string) => reply.status(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
  const fail = (reply: FastifyReply, kind: ConnectFailure, detail?: string | null) => {
    const p = failurePage(kind, detail);
    return html(reply, p.status, p.html);
  };

  app.get('/api/stripe/connect', async (request, reply) => {
    const p = platform();
    if (!p) return fail(reply, 'not_configured');
    const query = request.query as Record<string, string | undefined>;
    let who: { a: string; l: boolean; m: StripeMode };
    if (query.token) {
      const checked = verifyToken<{ a: string; l: boolean; m: StripeMode }>(p.ring, 'connect-link', query.token, ctx.clock.now());
      if (!checked.ok) return fail(reply, checked.reason === 'expired' ? 'expired_link' : 'bad_state');
      who = checked.payload;
    } else if (keyFromHeaders(request.headers)) {
      // A script may start the flow with its API key instead of a link.
      const principal = await authenticate(ctx, request).catch(() => null);
      if (!principal) return fail(reply, 'bad_state');
      const mode = Mode.safeParse(query.mode ?? 'observe');
      who = { a: principal.accountId, l: principal.livemode, m: mode.success ? mode.data : 'observe' };
    } else {
      return fail(reply, 'bad_state');
    }
    // The state names the account and carries a nonce that must come back in this browser's cookie,
    // so a callback cannot be replayed into somebody else's browser (CSRF).
    const nonce = randomBytes(16).toString('base64url');
    const state = signToken(p.ring, 'oauth-state', { ...who, n: nonce }, new Date(ctx.clock.now().getTime() + STATE_MINUTES * 60_000));
    const authorize = new URL(
      p.stripe.oauth.authorizeUrl({ response_type: 'code', client_id: p.clientId, scope: scopeFor(who.m), state, redirect_uri: `${publicBase(request)}/api/stripe/oauth/callback` }),
    );
    const target = new URL(authorize.pathname + authorize.search, ctx.config.RESCUE_STRIPE_CONNECT_BASE);
    const secure = publicBase(request).startsWith('https:') ? '; Secure' : '';
    reply.header('set-cookie', `${STATE_COOKIE}=${nonce}; Path=/api/stripe; HttpOnly; SameSite=Lax; Max-Age=${STATE_MINUTES * 60}${secure}`);
    return reply.redirect(target.toString(), 302);
  });

  app.get('/api/stripe/oauth/callback', async (request, reply) => {
    const p = platform();
    if (!p) return fail(reply, 'not_configured');
    const query = request.query as Record<string, string | undefined>;
    const checked = query.state ? verifyToken<{ a: string; l: boolean; m: StripeMode; n: string }>(p.ring, 'oauth-state', query.state, ctx.clock.now()) : null;
    if (!checked) return fail(reply, 'bad_state');
    if (!checked.ok) return fail(reply, checked.reason === 'expired' ? 'expired_link' : 'bad_state');
    const state = checked.payload;
    if (cookieValue(request, STATE_COOKIE) !== state.n) return fail(reply, 'bad_state');
    if (query.error) return fail(reply, query.error === 'access_denied' ? 'denied' : 'invalid_code', query.error_description ?? query.error);
    if (!query.code) return fail(reply, 'invalid_code');
    let token: Stripe.OAuthToken;
    try {
      token = await p.stripe.oauth.token({ grant_type: 'authorization_code', code: query.code });
    } catch (err) {
      if (err instanceof Stripe.errors.StripeError && (err.type === 'StripeInvalidGrantError' || (err.statusCode ?? 0) < 500)) return fail(reply, 'invalid_code', err.message);
      request.log.warn({ err }, 'Stripe OAuth token exchange failed');
      return fail(reply, 'stripe_unavailable');
    }
    if (token.livemode !== state.l) return fail(reply, 'mode_mismatch');
    const scope = { accountId: state.a, livemode: state.l };
    const other = await findConnectionByStripeAccount(ctx.db, p.ring, token.stripe_user_id!, state.l);
    if (other && other.accountId !== state.a) return fail(reply, 'account_in_use');
    const granted = token.scope ?? scopeFor(state.m);
    // Asked for active but granted read-only (the merchant changed it): observe until reconnected.
    const mode: StripeMode = state.m === 'active' && granted === 'read_write' ? 'active' : 'observe';
    // The token must do what the mode needs, like a pasted key; refused, the useless grant is revoked.
    let missing: string[];
    try {
      missing = await missingPermissions(stripeClient(ctx.config, token.access_token!), mode);
    } catch (err) {
      request.log.warn({ err }, 'Stripe permissions check failed');
      return fail(reply, 'stripe_unavailable', (err as Error).message);
    }
    if (missing.length > 0) {
      await p.stripe.oauth.deauthorize({ client_id: p.clientId, stripe_user_id: token.stripe_user_id! }).catch((err: unknown) => request.log.warn({ err }, 'Stripe deauthorize after a refused connection failed'));
      return fail(reply, 'missing_permissions', missingPermissionsMessage(mode, missing));
    }
    await connect(scope, { kind: 'oauth', stripeAccountId: token.stripe_user_id!, scope: granted, mode, accessToken: token.access_token!, refreshToken: token.refresh_token ?? null, at: ctx.clock.now() });
    reply.header('set-cookie', `${STATE_COOKIE}=; Path=/api/stripe; HttpOnly; SameSite=Lax; Max-Age=0`);
    return html(reply, 200, connectedPage({ stripeAccountId: token.stripe_user_id!, mode, livemode: state.l, scope: granted }));
  });

  // ── Webhooks in: the raw body is what Stripe signed, so these routes parse nothing ───────────

  app.register(async (raw) => {
    raw.removeContentTypeParser('application/json');
    raw.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    raw.setErrorHandler(handleError);

    raw.post('/api/stripe/webhook', async (request, reply) => {
      const secret = ctx.config.RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET;
      if (!secret || !ring) throw new RescueError('stripe_not_configured', 'Connected-account webhooks are not configured on this Rescue (RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET).');
      const event = verify(request, [secret])?.event;
      if (!event) throw badSignature();
      if (!event.account) return reply.send({ received: true, outcome: 'ignored' });
      const conn = await findConnectionByStripeAccount(ctx.db, ring, event.account, event.livemode);
      // Not (or no longer) connected: accept, so Stripe stops redelivering, and store nothing. A
      // deauthorization redelivered after it disconnected the account was processed already.
      if (!conn) {
        // Known in the other mode only: a test event for a live connection (or the other way round) is refused.
        if (await findConnectionByStripeAccount(ctx.db, ring, event.account, !event.livemode)) throw livemodeMismatch(event.livemode);
        return reply.send({ received: true, outcome: await redeliveredDeauthorization(event) ? 'duplicate' : 'ignored' });
      }
      return reply.send({ received: true, outcome: await handleStripeEvent(eventDeps, conn, event, 'connect') });
    });

    const redeliveredDeauthorization = async (event: Stripe.Event): Promise<boolean> => {
      if (event.type !== 'account.application.deauthorized' || !event.account) return false;
      const last = await lastDisconnectedScope(ctx.db, event.account, event.livemode);
      return last !== null && (await stripeEventSeen(ctx.db, last, event.id));
    };

    raw.post('/api/stripe/billing-webhook', async (request, reply) => {
      const accountId = (request.query as Record<string, string | undefined>).account;
      if (!ring || !accountId) throw badSignature();
      const conns = (await Promise.all([false, true].map((livemode) => getStripeConnection(ctx.db, ring, { accountId, livemode })))).filter(
        (c): c is StripeConnection => c !== null && c.status !== 'disconnected' && c.webhookSecret !== null,
      );
      const verified = verify(request, conns.map((c) => c.webhookSecret!));
      if (!verified) throw badSignature();
      const conn = conns[verified.index]!;
      // The secret names the connection; an event of the other mode is never its own.
      if (verified.event.livemode !== conn.livemode) throw livemodeMismatch(verified.event.livemode);
      return reply.send({ received: true, outcome: await handleStripeEvent(eventDeps, conn, verified.event, 'billing') });
    });
  });
}

const livemodeMismatch = (livemode: boolean) =>
  new RescueError('parameter_invalid', `This is a ${livemode ? 'live' : 'test'}-mode event, but the Stripe connection it was sent to is in ${livemode ? 'test' : 'live'} mode: nothing was stored.`, 'livemode');

const badSignature = () => new RescueError('parameter_invalid', 'No valid Stripe-Signature for this payload (wrong secret, altered body, or older than 5 minutes).', 'stripe-signature');

/** The SDK's signature check on the raw body, against each candidate secret; null when none verifies. */
function verify(request: FastifyRequest, secrets: string[]): { event: Stripe.Event; index: number } | null {
  const header = request.headers['stripe-signature'];
  const body = request.body;
  if (typeof header !== 'string' || !Buffer.isBuffer(body)) return null;
  for (const [index, secret] of secrets.entries()) {
    try {
      // Signatures are checked against the wall clock: Stripe signed them with its own.
      return { event: storableCopy(stripeWebhooks.constructEvent(body, header, secret, SIGNATURE_TOLERANCE_S, undefined, systemClock.now().getTime())), index };
    } catch {
      // the next secret
    }
  }
  return null;
}

function connectionJson(conn: StripeConnection | null, scope: Scope, backfills: Awaited<ReturnType<typeof listBackfills>>, handbacks: readonly (StripeHandbackRow & { rescue_status: string | null })[], billingWebhookUrl: string | null, rescueEmails = false) {
  const connected = conn?.status === 'connected';
  // Working, but Stripe refused a lookup a webhook needed: the merchant must fix the key.
  const attention = connected && conn.attentionReason ? conn.attentionReason : null;
  return {
    object: 'stripe_connection',
    livemode: scope.livemode,
    status: conn ? (attention ? 'needs_attention' : conn.status) : 'not_connected',
    /** Why it needs attention, is disconnected or needs reconnecting (a refused lookup, deauthorized in Stripe, a refused token refresh…). */
    status_reason: attention ?? (conn?.status === 'connected' ? null : (conn?.statusReason ?? null)),
    kind: conn?.kind ?? null,
    stripe_account: conn?.stripeAccountId ?? null,
    scope: conn?.scope ?? null,
    mode: conn?.mode ?? null,
    connected_at: conn ? iso(conn.connectedAt) : null,
    token_refreshed_at: conn?.tokenRefreshedAt ? iso(conn.tokenRefreshedAt) : null,
    disconnected_at: conn?.disconnectedAt ? iso(conn.disconnectedAt) : null,
    billing_webhook: { url: billingWebhookUrl, secret_set: conn?.webhookSecret != null },
    /** What the merchant must do in Stripe so that two retry engines never fight. */
    notice: attention
      ? `Stripe refused a lookup Rescue needs, so those events are refused and Stripe delivers them again: ${attention} Grant the key what it lacks, then confirm the mode (POST /v2/stripe/connection {"mode": "${conn!.mode}"}) to check it again.`
      : conn?.status === 'needs_reconnect'
      ? `Rescue can no longer reach your Stripe account (${conn.statusReason ?? 'its key was refused'}); nothing is charged until you reconnect: POST /v2/stripe/connect_links, or paste a new restricted key.`
      : !connected
      ? null
      : conn.mode === 'observe'
        ? "Observe mode: Rescue never charges. Keep Stripe's Smart Retries on (they are what retries), or switch to active mode to let Rescue retry."
        : "Active mode: Rescue retries the invoices it takes over and sets auto_advance: false on them. Turn Stripe's Smart Retries off so they do not retry other invoices alongside Rescue.",
    /** One sender: Stripe's own failed-payment emails, and which to turn off (stripe/customer-emails.ts); null when not connected. */
    customer_emails: connected ? customerEmailsNotice(rescueEmails) : null,
    backfill: backfills.map((b) => ({ object: b.object_type, status: b.status, imported: b.imported, since: iso(b.since), last_error: b.last_error, finished_at: b.finished_at ? iso(b.finished_at) : null })),
    /**
     * Invoices Rescue took over (auto_advance: false) and what became of them when it let go: `held`
     * (Rescue retries them), `restoring` (auto_advance is being set back), and those it could not hand
     * back (deauthorized): turn automatic collection back on for each in Stripe.
     */
    handback: {
      held: handbacks.filter((h) => h.status === 'held' && h.rescue_status !== 'recovered').length,
      restoring: handbacks.filter((h) => h.status === 'pending').length,
      restored: handbacks.filter((h) => h.status === 'restored').length,
      not_handed_back: handbacks.filter((h) => h.status === 'impossible').map((h) => ({ invoice: h.invoice_id, payment: h.payment_id, auto_advance: h.auto_advance_before, reason: h.reason })),
    },
  };
}

