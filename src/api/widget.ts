import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatDate, formatMoney } from '../domain/dunning.ts';
import { readWidgetToken, verifyWidgetToken } from '../domain/widget-token.ts';
import { widgetPayments, widgetRetryNow, type WidgetPayment, type WidgetRetryOutcome } from '../engine/widget.ts';
import { RescueError, invalid } from '../errors.ts';
import type { Scope } from '../store/payments.ts';
import { getSettings } from '../store/settings.ts';
import { findWidgetKey, getWidgetSettings, rotateWidgetSecret, saveWidgetSettings, type WidgetSettings } from '../store/widget-settings.ts';
import { effectiveLocale, translator } from '../web/i18n/translate.ts';
import { widgetPage, widgetRefusedPage, type WidgetLine } from '../web/pages/widget.ts';
import type { AppContext } from './context.ts';
import { handleError, statusOf, toRescueError } from './error-handler.ts';
import * as R from './responses.ts';
import { defineRoute } from './route.ts';

// The seed's customer-portal widget, `GET /api/widget/insights` ("embeddable iframe with open
// invoices + 1-click recovery"): the merchant's server makes a signed, expiring token for one
// customer (domain/widget-token.ts, with the account's widget secret) and frames
// /api/widget/insights?token=… in its portal. The page (or JSON, with `Accept: application/json`)
// lists the customer's open payments; a click retries one now on the card on file
// (POST /api/widget/insights/retry). Framing is allowed only from the account's allowed origins
// (CSP frame-ancestors). A missing token is a 401, any other bad token a 403, both saying nothing
// about why. The secret, origins and branding: /v2/settings/widget.

const refused = () => new RescueError('widget_token_invalid', 'This widget token is not valid.');

interface Viewer {
  scope: Scope;
  customer: { id: string; locale: string | null; timezone: string };
  settings: WidgetSettings;
  token: string;
}

async function resolveViewer(ctx: AppContext, token: unknown): Promise<Viewer> {
  if (typeof token !== 'string' || token === '') throw new RescueError('widget_token_missing', 'Pass the widget token your server made as `token`.');
  if (token.length > 2000) throw refused();
  const claims = readWidgetToken(token);
  const key = claims ? await findWidgetKey(ctx.db, claims.keyId) : null;
  if (!claims || !key || !verifyWidgetToken(token, key.secret, ctx.clock.now())) throw refused();
  const customer = await ctx.db
    .selectFrom('customers')
    .select(['id', 'locale', 'timezone'])
    .where('account_id', '=', key.scope.accountId)
    .where('livemode', '=', key.scope.livemode)
    .where('id', '=', claims.customer)
    .executeTakeFirst();
  if (!customer) throw refused();
  return { scope: key.scope, customer, settings: key.settings, token };
}

/** Who may frame the widget: the account's allowed origins, else nobody. */
function headersFor(settings: WidgetSettings | null): Record<string, string> {
  const ancestors = settings?.allowedOrigins.length ? settings.allowedOrigins.join(' ') : "'none'";
  return {
    'cache-control': 'no-store',
    // The token is in the URL: never sent on as a referrer.
    'referrer-policy': 'no-referrer',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestors}`,
  };
}

const wantsJson = (request: FastifyRequest) => /application\/json/i.test(String(request.headers.accept ?? '')) && !/text\/html/i.test(String(request.headers.accept ?? ''));

function paymentJson(p: WidgetPayment, locale: string | null, timezone: string) {
  const t = translator(locale);
  return {
    id: p.id,
    object: 'widget_payment' as const,
    amount: p.amount,
    currency: p.currency.toLowerCase(),
    amount_display: formatMoney(p.amount, p.currency, locale),
    status: p.status,
    reason: t(`reason.${p.reason}`),
    next_retry_at: p.nextRetryAt ? p.nextRetryAt.toISOString().replace(/\.\d{3}Z$/, 'Z') : null,
    next_retry_display: p.nextRetryAt ? formatDate(p.nextRetryAt, timezone, locale) : null,
    can_retry_now: p.canRetryNow,
    card_last4: p.cardLast4,
    update_payment_url: p.updateUrl,
  };
}

const Origin = z
  .string()
  .max(300)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === s;
    } catch {
      return false;
    }
  }, 'must be an origin such as https://portal.example.com (scheme, host and port only, no path or trailing slash)');

const WidgetSettingsBody = z.strictObject({
  allowed_origins: z.array(Origin).max(20).optional(),
  branding: z
    .strictObject({
      accent_color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour such as #1a56db').nullable().optional(),
      logo_url: z.url({ protocol: /^https$/ }).max(2000).nullable().optional(),
    })
    .optional(),
});

function settingsJson(s: WidgetSettings, livemode: boolean) {
  return {
    object: 'widget_settings' as const,
    livemode,
    allowed_origins: s.allowedOrigins,
    branding: s.branding,
    // The secret itself is shown once, when it is made (rotate_secret).
    secret_created_at: s.secretCreatedAt ? s.secretCreatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z') : null,
  };
}

const RetryBody = z.object({ token: z.string().max(2000).optional(), payment: z.string().min(1).max(100) });

export function registerWidget(app: FastifyInstance, ctx: AppContext) {
  const deps = { db: ctx.db, clock: ctx.clock, gatewayFor: ctx.gatewayFor, leaseMs: ctx.config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000, workerId: ctx.processId };

  const view = async (v: Viewer, result: WidgetRetryOutcome | null) => {
    const links = await ctx.links();
    const payments = await widgetPayments(ctx, v.scope, v.customer.id, links);
    const settings = await getSettings(ctx.db, v.scope.accountId, v.scope.livemode);
    const account = await ctx.db.selectFrom('accounts').select('business_name').where('id', '=', v.scope.accountId).executeTakeFirstOrThrow();
    const locale = effectiveLocale(v.customer.locale, settings.dunning.default_locale);
    return { payments, locale, merchant: settings.dunning.from_name ?? account.business_name, result };
  };

  const answer = async (request: FastifyRequest, reply: FastifyReply, v: Viewer, result: WidgetRetryOutcome | null) => {
    const { payments, locale, merchant } = await view(v, result);
    const tz = v.customer.timezone;
    if (wantsJson(request)) {
      return reply.status(200).headers(headersFor(v.settings)).send({
        object: 'widget_insights',
        livemode: v.scope.livemode,
        customer: v.customer.id,
        merchant,
        ...(result ? { result: { payment: result.paymentId, outcome: result.outcome, reason: result.reason ? translator(locale)(`reason.${result.reason}`) : null } } : {}),
        data: payments.map((p) => paymentJson(p, locale, tz)),
      });
    }
    const t = translator(locale);
    // A payment just paid has left the open list: shown once more, with its result.
    const paidNow = result?.outcome === 'paid' ? result.paymentId : null;
    const lines: WidgetLine[] = payments.map((p) => ({
      id: p.id,
      amount: formatMoney(p.amount, p.currency, locale),
      reason: t(`reason.${p.reason}`),
      nextRetry: p.nextRetryAt ? formatDate(p.nextRetryAt, tz, locale) : null,
      canRetryNow: p.canRetryNow,
      cardLast4: p.cardLast4,
      updateUrl: p.updateUrl,
      result: result && result.paymentId === p.id ? { outcome: result.outcome, reason: result.reason ? t(`reason.${result.reason}`) : null } : undefined,
    }));
    if (paidNow && !lines.some((l) => l.id === paidNow)) {
      const paid = await ctx.db.selectFrom('payments').select(['amount', 'currency']).where('account_id', '=', v.scope.accountId).where('id', '=', paidNow).executeTakeFirstOrThrow();
      lines.unshift({ id: paidNow, amount: formatMoney(paid.amount, paid.currency, locale), reason: '', nextRetry: null, canRetryNow: false, cardLast4: null, updateUrl: '', result: { outcome: 'paid', reason: null } });
    }
    return reply
      .status(200)
      .headers({ ...headersFor(v.settings), 'content-type': 'text/html; charset=utf-8' })
      .send(widgetPage({ merchant, accentColor: v.settings.branding.accent_color, logoUrl: v.settings.branding.logo_url, locale, token: v.token, lines }));
  };

  app.register(async (pages) => {
    pages.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))));
    // JSON callers get the Stripe-style error; a browser a blank refusal with the same status.
    pages.setErrorHandler((err, request, reply) => {
      if (wantsJson(request)) return handleError(err, request, reply);
      const status = statusOf(toRescueError(err));
      if (status >= 500) request.log.error({ err }, 'widget failed');
      return reply.status(status).headers({ ...headersFor(null), 'content-type': 'text/html; charset=utf-8' }).send(widgetRefusedPage());
    });

    pages.get<{ Querystring: { token?: unknown } }>('/api/widget/insights', async (request, reply) => {
      const v = await resolveViewer(ctx, request.query.token);
      return answer(request, reply, v, null);
    });

    pages.post('/api/widget/insights/retry', async (request, reply) => {
      const body = RetryBody.parse(request.body ?? {});
      const v = await resolveViewer(ctx, body.token);
      let result: WidgetRetryOutcome | null = null;
      try {
        result = await widgetRetryNow(deps, v.scope, v.customer.id, body.payment);
      } catch (err) {
        // Nothing to retry any more (paid meanwhile, a retry running): the fresh list says where it stands.
        if (!(err instanceof RescueError && err.code === 'payment_not_in_rescue') || wantsJson(request)) throw err;
      }
      ctx.wakeWorker();
      return answer(request, reply, v, result);
    });
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/widget', response: R.WidgetSettings, summary: 'The customer-portal widget: origins allowed to frame it, branding, when its secret was made', tag: 'Settings', auth: true }, async ({ principal }) =>
    settingsJson(await getWidgetSettings(ctx.db, principal), principal.livemode),
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/widget', response: R.WidgetSettings, summary: 'Update the widget settings (fields left out keep their value)', tag: 'Settings', auth: true, body: WidgetSettingsBody },
    async ({ body, principal }) => {
      // A live portal is served over https; plain http origins are for trying it locally in test mode.
      const http = body.allowed_origins?.find((o) => o.startsWith('http:'));
      if (principal.livemode && http) throw invalid('allowed_origins', `allowed_origins must be https in live mode (${http}).`);
      const current = await getWidgetSettings(ctx.db, principal);
      const next = {
        allowedOrigins: body.allowed_origins ?? current.allowedOrigins,
        branding: { ...current.branding, ...Object.fromEntries(Object.entries(body.branding ?? {}).filter(([, v]) => v !== undefined)) },
      };
      await saveWidgetSettings(ctx.db, principal, next, ctx.clock.now());
      return settingsJson(await getWidgetSettings(ctx.db, principal), principal.livemode);
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/widget/rotate_secret', response: R.WidgetSecret, summary: 'Make a new widget secret (shown only in this answer); tokens signed with the old one stop working at once', tag: 'Settings', auth: true },
    async ({ principal }) => {
      const made = await rotateWidgetSecret(ctx.db, principal, ctx.clock.now());
      return { object: 'widget_secret' as const, livemode: principal.livemode, secret: made.secret, created_at: made.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z') };
    },
  );
}
