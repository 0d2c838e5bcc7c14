import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { customerReasonKey, formatDate, formatMoney } from '../domain/dunning.ts';
import { isExpired, type LinkClaims } from '../engine/dunning-links.ts';
import { applyNewPaymentMethod, type NewMethodOutcome } from '../engine/dunning-new-card.ts';
import { payOpenPaymentsWithNewCard, type ChargedPayment } from '../engine/customer-new-card.ts';
import { openPaymentsOf } from '../store/open-payments.ts';
import { translator, effectiveLocale } from '../web/i18n/translate.ts';
import { nowFor } from '../engine/payments.ts';
import { RescueError, invalid } from '../errors.ts';
import { testTokenForCardNumber } from '../gateways/sandbox/test-card-numbers.ts';
import { getPaymentRecord, type Scope } from '../store/payments.ts';
import { getSettings } from '../store/settings.ts';
import { chargedPage, linkProblemPage, resultPage, updatePaymentForm, type ChargedLine, type FormError, type FormState, type PaymentSummary } from '../web/pages/update-payment.ts';
import { IdParams } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { iso, paymentJson } from './payment-json.ts';
import { defineRoute } from './route.ts';
import { statusOf, toRescueError } from './error-handler.ts';
import * as R from './responses.ts';

// The customer's side of a dunning email: the hosted update-payment page (GET shows it, POST takes
// the new card), reached by a signed, expiring link; and the merchant's side for its own page:
// POST /v2/payments/:id/payment_method reports the new payment method token.
//
// Two paths serve the page. The seed's, GET /api/update-payment/:invoiceId?sig=<token>, is where
// emails and the portal widget link: the invoice (payment) id alone opens nothing, a signature that
// is missing, tampered with or expired is a 403 page, and a new card pays every open payment of the
// customer at once (engine/customer-new-card.ts). The older /update-payment/:token keeps working
// for links already emailed: 400 / 410 pages, and the card moves the one payment's next retry up.

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // The token is in the URL: never cached, never sent on as a referrer, never framed.
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

interface ResolvedLink {
  claims: LinkClaims;
  scope: Scope;
  /** The payment's clock when the link was opened. */
  now: Date;
  summary: PaymentSummary;
  timezone: string;
  locale: string | null;
  collect: FormState['collect'];
  customerId: string | null;
}

type Resolution = { ok: true; link: ResolvedLink } | { ok: false; problem: 'expired' | 'invalid' | 'busy' };

async function resolveLink(ctx: AppContext, token: string): Promise<Resolution> {
  const check = (await ctx.links()).signer.verify(token);
  if (!check.ok) return { ok: false, problem: 'invalid' };
  const { claims } = check;
  const scope: Scope = { accountId: claims.accountId, livemode: claims.livemode };
  let record;
  try {
    record = await getPaymentRecord(ctx.db, scope, claims.paymentId);
  } catch (err) {
    if (err instanceof RescueError && err.code === 'resource_missing') return { ok: false, problem: 'invalid' };
    throw err;
  }
  let now: Date;
  try {
    now = await nowFor(ctx, scope, record.payment.test_clock);
  } catch (err) {
    if (err instanceof RescueError && err.code === 'test_clock_advancing') return { ok: false, problem: 'busy' };
    throw err;
  }
  if (isExpired(claims, now)) return { ok: false, problem: 'expired' };
  const settings = await getSettings(ctx.db, scope.accountId, scope.livemode);
  const account = await ctx.db.selectFrom('accounts').select('business_name').where('id', '=', scope.accountId).executeTakeFirstOrThrow();
  const customer = record.payment.customer_id
    ? await ctx.db.selectFrom('customers').select(['timezone', 'locale']).where('account_id', '=', scope.accountId).where('id', '=', record.payment.customer_id).executeTakeFirst()
    : undefined;
  const locale = effectiveLocale(customer?.locale, settings.dunning.default_locale);
  const t = translator(locale);
  return {
    ok: true,
    link: {
      claims,
      scope,
      now,
      timezone: customer?.timezone ?? 'UTC',
      locale,
      // Rescue can only take card numbers where there is no real money: test mode on the sandbox.
      // Elsewhere the merchant's own page (dunning.update_payment_url) or Stripe's collects cards.
      collect: !scope.livemode && settings.gateway.type === 'sandbox' ? 'test_cards' : 'contact_merchant',
      summary: {
        merchant: settings.dunning.from_name ?? account.business_name,
        amount: formatMoney(record.payment.amount, record.payment.currency, locale),
        reason: record.payment.status === 'succeeded' ? t('reason.paid') : t(`reason.${customerReasonKey(record.payment.failure_code)}`),
        replyTo: settings.dunning.reply_to,
        locale,
      },
      customerId: record.payment.customer_id,
    },
  };
}

/** A link we cannot read names no customer: its problem page speaks the browser's first language. */
const browserLocale = (header: string | undefined): string | null => header?.split(',')[0]?.split(';')[0]?.trim() || null;

/** The seed's path for a payment, with the link token as its signature. */
export const invoicePagePath = (paymentId: string, token: string) => `/api/update-payment/${encodeURIComponent(paymentId)}?sig=${encodeURIComponent(token)}`;

const FormBody = z.object({ card_number: z.string().max(64).default(''), exp: z.string().max(16).default(''), cvc: z.string().max(8).default('') });

/** The test token a form names, or the field that is wrong. */
function tokenFromForm(form: z.infer<typeof FormBody>, now: Date): { token: string } | { error: FormError } {
  const typed = form.card_number.trim();
  const token = /^pm_card_[A-Za-z0-9_]+$/.test(typed) ? typed : testTokenForCardNumber(typed);
  if (!typed) return { error: { field: 'card_number', message: 'page.err_card_missing' } };
  if (!token) return { error: { field: 'card_number', message: 'page.err_card_not_test' } };
  const exp = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(form.exp);
  const month = exp ? Number(exp[1]) : 0;
  const year = exp ? (exp[2]!.length === 2 ? 2000 + Number(exp[2]) : Number(exp[2])) : 0;
  if (!exp || month < 1 || month > 12) return { error: { field: 'exp', message: 'page.err_exp_format' } };
  // A card is valid through the last day of its expiry month.
  if (Date.UTC(year, month, 1) <= now.getTime()) return { error: { field: 'exp', message: 'page.err_exp_past' } };
  if (!/^\d{3,4}$/.test(form.cvc.trim())) return { error: { field: 'cvc', message: 'page.err_cvc' } };
  return { token };
}

export function registerUpdatePayment(app: FastifyInstance, ctx: AppContext) {
  const deps = { db: ctx.db, clock: ctx.clock, gatewayFor: ctx.gatewayFor, leaseMs: ctx.config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000, workerId: ctx.processId };
  const send = (reply: FastifyReply, status: number, html: string) => reply.status(status).headers(PAGE_HEADERS).send(html);
  const problem = (reply: FastifyReply, p: Parameters<typeof linkProblemPage>[0], o: Parameters<typeof linkProblemPage>[1] = {}) => {
    const page = linkProblemPage(p, o);
    return send(reply, page.status, page.html);
  };
  const shown = (o: NewMethodOutcome, link: ResolvedLink) => ('retryAt' in o ? formatDate(o.retryAt, link.timezone, link.locale) : null);

  /** The seed's path: the signature must be this payment's link, else a 403 page. */
  const resolveInvoice = async (invoiceId: string, sig: unknown): Promise<Resolution> => {
    if (typeof sig !== 'string' || sig.length > 1000) return { ok: false, problem: 'invalid' };
    const r = await resolveLink(ctx, sig);
    if (r.ok && r.link.claims.paymentId !== invoiceId) return { ok: false, problem: 'invalid' };
    return r;
  };
  const openLines = async (link: ResolvedLink) => {
    if (!link.customerId) return [];
    const t = translator(link.locale);
    return (await openPaymentsOf(ctx.db, link.scope, link.customerId)).map((r) => ({
      id: r.payment.id,
      amount: formatMoney(r.payment.amount, r.payment.currency, link.locale),
      reason: t(`reason.${customerReasonKey(r.payment.failure_code)}`),
    }));
  };
  const chargedLines = (link: ResolvedLink, charged: readonly ChargedPayment[]): ChargedLine[] => {
    const t = translator(link.locale);
    return charged.map((c) => ({
      id: c.paymentId,
      amount: formatMoney(c.amount, c.currency, link.locale),
      outcome: c.outcome,
      detail: c.outcome === 'declined' ? t(`reason.${customerReasonKey(c.failureCode)}`) : c.retryAt ? formatDate(c.retryAt, link.timezone, link.locale) : null,
    }));
  };

  // Pages live in their own scope: the form body parser applies to them alone.
  app.register(async (pages) => {
    pages.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))));
    // A request the page cannot read (a malformed or oversized body, a NUL in a field) is the
    // browser's fault, a 400; only what fails on our side is the 503.
    pages.setErrorHandler((err, request, reply) => {
      if (statusOf(toRescueError(err)) < 500) return problem(reply, 'unreadable');
      request.log.error({ err }, 'update-payment page failed');
      return problem(reply, 'unavailable');
    });

    pages.get<{ Params: { token: string } }>('/update-payment/:token', async (request, reply) => {
      const r = await resolveLink(ctx, request.params.token);
      if (!r.ok) return problem(reply, r.problem, { locale: browserLocale(request.headers['accept-language']) });
      return send(reply, 200, updatePaymentForm(r.link.summary, { action: `/update-payment/${request.params.token}`, collect: r.link.collect }));
    });

    pages.post<{ Params: { token: string } }>('/update-payment/:token', async (request, reply) => {
      const r = await resolveLink(ctx, request.params.token);
      if (!r.ok) return problem(reply, r.problem, { locale: browserLocale(request.headers['accept-language']) });
      const { link } = r;
      const action = `/update-payment/${request.params.token}`;
      if (link.collect !== 'test_cards') return send(reply, 200, updatePaymentForm(link.summary, { action, collect: link.collect }));
      const form = FormBody.safeParse(request.body ?? {});
      const fields = form.success ? form.data : { card_number: '', exp: '', cvc: '' };
      const parsed = tokenFromForm(fields, link.now);
      if ('error' in parsed) {
        return send(reply, 400, updatePaymentForm(link.summary, { action, collect: link.collect, error: parsed.error, values: { card_number: fields.card_number, exp: fields.exp } }));
      }
      let outcome: NewMethodOutcome;
      try {
        outcome = await applyNewPaymentMethod(deps, link.scope, link.claims.paymentId, { paymentMethod: parsed.token, source: 'hosted_page' });
      } catch (err) {
        if (err instanceof RescueError && err.code === 'test_clock_advancing') return problem(reply, 'busy');
        if (err instanceof RescueError && err.code === 'payment_method_update_limit') return send(reply, 409, resultPage(link.summary, 'closed', null));
        throw err;
      }
      ctx.wakeWorker();
      return send(reply, 200, resultPage(link.summary, outcome.kind, shown(outcome, link)));
    });

    type InvoiceRequest = { Params: { invoiceId: string }; Querystring: { sig?: unknown } };
    pages.get<InvoiceRequest>('/api/update-payment/:invoiceId', async (request, reply) => {
      const r = await resolveInvoice(request.params.invoiceId, request.query.sig);
      if (!r.ok) return problem(reply, r.problem, { forbidden: true, locale: browserLocale(request.headers['accept-language']) });
      const action = invoicePagePath(request.params.invoiceId, String(request.query.sig));
      return send(reply, 200, updatePaymentForm(r.link.summary, { action, collect: r.link.collect, openPayments: await openLines(r.link) }));
    });

    pages.post<InvoiceRequest>('/api/update-payment/:invoiceId', async (request, reply) => {
      const r = await resolveInvoice(request.params.invoiceId, request.query.sig);
      if (!r.ok) return problem(reply, r.problem, { forbidden: true, locale: browserLocale(request.headers['accept-language']) });
      const { link } = r;
      const action = invoicePagePath(request.params.invoiceId, String(request.query.sig));
      if (link.collect !== 'test_cards') return send(reply, 200, updatePaymentForm(link.summary, { action, collect: link.collect }));
      const form = FormBody.safeParse(request.body ?? {});
      const fields = form.success ? form.data : { card_number: '', exp: '', cvc: '' };
      const parsed = tokenFromForm(fields, link.now);
      if ('error' in parsed) {
        return send(reply, 400, updatePaymentForm(link.summary, { action, collect: link.collect, error: parsed.error, values: { card_number: fields.card_number, exp: fields.exp }, openPayments: await openLines(link) }));
      }
      let charged: ChargedPayment[];
      try {
        charged = await payOpenPaymentsWithNewCard(deps, link.scope, link.claims.paymentId, parsed.token);
      } catch (err) {
        if (err instanceof RescueError && err.code === 'test_clock_advancing') return problem(reply, 'busy', { locale: link.locale });
        if (err instanceof RescueError && err.code === 'payment_method_update_limit') return send(reply, 409, resultPage(link.summary, 'closed', null));
        throw err;
      }
      ctx.wakeWorker();
      return send(reply, 200, chargedPage(link.summary, chargedLines(link, charged)));
    });
  });

  defineRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: '/v2/payments/:id/payment_method',
      response: R.PaymentMethodUpdate,
      summary: "Report the customer's new payment method (from your own update-payment page): it replaces the payment's, and the next retry moves up",
      tag: 'Payments',
      auth: true,
      params: IdParams,
      body: z.strictObject({
        payment_method: z.string().min(1).max(255),
        /** The `token` your page received in its link; checked against this payment when given. */
        link_token: z.string().min(1).max(1000).optional(),
      }),
    },
    async ({ params, body, principal }) => {
      const record = await getPaymentRecord(ctx.db, principal, params.id);
      if (body.link_token) {
        const check = (await ctx.links()).signer.verify(body.link_token);
        const now = await nowFor(ctx, principal, record.payment.test_clock);
        if (!check.ok || check.claims.paymentId !== params.id || check.claims.accountId !== principal.accountId || check.claims.livemode !== principal.livemode) {
          throw invalid('link_token', 'link_token is not a valid update-payment link for this payment.');
        }
        if (isExpired(check.claims, now)) throw invalid('link_token', 'link_token has expired.');
      }
      const outcome = await applyNewPaymentMethod(deps, principal, params.id, { paymentMethod: body.payment_method, source: 'api' });
      if (outcome.kind === 'already_paid' || outcome.kind === 'in_progress' || outcome.kind === 'closed') {
        const why = { already_paid: 'it is already paid', in_progress: 'a charge is running right now', closed: 'it is not in Auto Rescue, or its rescue was cancelled' }[outcome.kind];
        throw new RescueError('payment_not_updatable', `Payment ${params.id} cannot take a new payment method: ${why}.`);
      }
      ctx.wakeWorker();
      return {
        object: 'payment_method_update' as const,
        outcome: outcome.kind,
        retry_at: 'retryAt' in outcome ? iso(outcome.retryAt) : null,
        payment: paymentJson(await getPaymentRecord(ctx.db, principal, params.id)),
      };
    },
  );
}
