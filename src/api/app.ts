import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { RescueError } from '../errors.ts';
import type { AppContext } from './context.ts';
import { registerApiKeys } from './api-keys.ts';
import { registerCron } from './cron.ts';
import { registerCustomers } from './customers.ts';
import { registerDashboardSession } from './dashboard-session.ts';
import { registerDashboardStatic } from './dashboard-static.ts';
import { registerDunningSettings } from './dunning-settings.ts';
import { registerEmails } from './emails.ts';
import { registerUpdatePayment } from './update-payment.ts';
import { registerEvents } from './events.ts';
import { handleClientError, handleError } from './error-handler.ts';
import { assertStorableInput } from './storable-input.ts';
import { registerHealth } from './health.ts';
import { prepareGracefulClose } from './shutdown.ts';
import { registerMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { registerApiDocs } from './api-docs.ts';
import { registerPayments } from './payments.ts';
import { registerPredict } from './predict.ts';
import { registerRecovery } from './recovery.ts';
import { registerSettings } from './settings.ts';
import { registerSettingsPreviews } from './settings-previews.ts';
import { registerSignup } from './signup.ts';
import { registerStripe } from './stripe.ts';
import { registerTestClocks } from './test-clocks.ts';
import { registerWebhookEndpoints } from './webhook-endpoints.ts';
import { registerWidget } from './widget.ts';
import { databaseRateLimitStore } from './rate-limit-store.ts';
import { throttles } from './throttles.ts';
import { newRequestId, registerRequestLog, REQUEST_ID_LABEL } from './request-log.ts';

export interface RouteEntry {
  method: string;
  url: string;
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the app serves, as Fastify registered it (the fuzz test walks them all). */
export const routeTableOf = (app: FastifyInstance): readonly RouteEntry[] => routeTables.get(app) ?? [];

/** 1 MiB: far more than any Rescue request needs (a payment with 50 metadata values is ~30 KiB). */
export const MAX_BODY_BYTES = 1_048_576;

export function buildApp(parts: Omit<AppContext, 'throttles'>): FastifyInstance {
  // maxParamLength: an update-payment link carries its signed token in the path (~150 characters).
  // Fastify's own lines only at debug; the one line per request (request-log.ts) is at info, like an
  // access log (LOG_LEVEL=warn silences it).
  const verbose = parts.config.LOG_LEVEL === 'debug' || parts.config.LOG_LEVEL === 'trace';
  const log = parts.log.child({ component: 'api' }, { level: verbose ? parts.config.LOG_LEVEL : 'warn' });
  // bodyLimit caps every route's body, whatever its parser. requestTimeout bounds how long a request
  // may take to arrive (a body trickled in byte by byte must not hold a connection for minutes);
  // connectionTimeout closes a socket idle that long, and exceeds the longest outbound call a
  // handler makes while the client waits. docs/input-rules.md.
  const app: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: MAX_BODY_BYTES,
    requestTimeout: parts.config.RESCUE_REQUEST_TIMEOUT_MS,
    // Node checks request timeouts only this often (30 s by default, which would stretch the bound).
    http: { connectionsCheckingInterval: Math.min(5_000, Math.max(250, Math.floor(parts.config.RESCUE_REQUEST_TIMEOUT_MS / 4))) },
    connectionTimeout: parts.config.RESCUE_CONNECTION_TIMEOUT_MS,
    clientErrorHandler: handleClientError,
    routerOptions: { maxParamLength: 500 },
    frameworkErrors: (err, request, reply) => handleError(err, request, reply),
    trustProxy: trustProxyOf(parts.config.RESCUE_TRUST_PROXY),
    genReqId: newRequestId,
    logController: new LogController({ requestIdLogLabel: REQUEST_ID_LABEL, disableRequestLogging: !verbose }),
  });
  // Node enforces requestTimeout only when headersTimeout (60 s by default) is no longer than it.
  app.server.headersTimeout = Math.min(app.server.headersTimeout, parts.config.RESCUE_REQUEST_TIMEOUT_MS);
  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  // Limits are applied by the throttles where they are decided (after authentication, before a
  // password check), not as a blanket hook on every route.
  app.register(rateLimit, { global: false, store: databaseRateLimitStore(parts.db, parts.clock) });
  const ctx: AppContext = { ...parts, throttles: throttles(app, parts) };
  app.setErrorHandler(handleError);
  // Every string of every route, before any schema: no NUL, no lone surrogate (storable-input.ts).
  app.addHook('preValidation', assertStorableInput);
  app.setNotFoundHandler((request, reply) =>
    handleError(new RescueError('route_not_found', `Unrecognized request URL (${request.method}: ${request.url.split('?')[0]}).`), request, reply),
  );
  // A body-less POST with a JSON content type (curl -H 'Content-Type: application/json' -X POST)
  // is an empty object, not a parse error.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new RescueError('invalid_json', 'The request body is not valid JSON.'), undefined);
    }
  });
  registerRequestLog(app, parts.log.child({ component: 'api' }));
  prepareGracefulClose(app);
  registerHealth(app, ctx.db);
  registerOpenApi(app);
  registerApiDocs(app);
  registerMetrics(app, ctx);
  registerSignup(app, ctx);
  registerCustomers(app, ctx);
  registerPayments(app, ctx);
  registerSettings(app, ctx);
  registerSettingsPreviews(app, ctx);
  registerApiKeys(app, ctx);
  registerTestClocks(app, ctx);
  registerEvents(app, ctx);
  registerRecovery(app, ctx);
  registerPredict(app, ctx);
  registerWebhookEndpoints(app, ctx);
  registerStripe(app, ctx);
  registerDashboardSession(app, ctx);
  registerDashboardStatic(app);
  registerDunningSettings(app, ctx);
  registerEmails(app, ctx);
  registerUpdatePayment(app, ctx);
  registerCron(app, ctx);
  registerWidget(app, ctx);
  return app;
}

/** RESCUE_TRUST_PROXY as Fastify's trustProxy: a boolean, a hop count, or addresses and CIDRs. */
function trustProxyOf(v: string): boolean | string {
  if (v === 'true' || v === 'false') return v === 'true';
  // Fastify (proxy-addr) takes a hop count as a number; its types only name the other forms.
  return /^\d+$/.test(v) ? (Number(v) as unknown as string) : v;
}
