import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { RescueError } from '../errors.ts';
import type { AppContext } from './context.ts';
import { registerCustomers } from './customers.ts';
import { registerDashboardSession } from './dashboard-session.ts';
import { registerDashboardStatic } from './dashboard-static.ts';
import { registerDunningSettings } from './dunning-settings.ts';
import { registerEmails } from './emails.ts';
import { registerUpdatePayment } from './update-payment.ts';
import { registerEvents } from './events.ts';
import { handleError } from './error-handler.ts';
import { registerHealth } from './health.ts';
import { prepareGracefulClose } from './shutdown.ts';
import { registerMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { registerPayments } from './payments.ts';
import { registerPredict } from './predict.ts';
import { registerRecovery } from './recovery.ts';
import { registerSettings } from './settings.ts';
import { registerSignup } from './signup.ts';
import { registerStripe } from './stripe.ts';
import { registerTestClocks } from './test-clocks.ts';
import { registerWebhookEndpoints } from './webhook-endpoints.ts';

export function buildApp(ctx: AppContext): FastifyInstance {
  // maxParamLength: an update-payment link carries its signed token in the path (~150 characters).
  // Per-request lines only at debug: at info a busy API would drown the worker's lines.
  const verbose = ctx.config.LOG_LEVEL === 'debug' || ctx.config.LOG_LEVEL === 'trace';
  const log = ctx.log.child({ component: 'api' }, { level: verbose ? ctx.config.LOG_LEVEL : 'warn' });
  const app: FastifyInstance = Fastify({ loggerInstance: log as FastifyBaseLogger, bodyLimit: 1_048_576, routerOptions: { maxParamLength: 500 } });
  app.setErrorHandler(handleError);
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
  prepareGracefulClose(app);
  registerHealth(app, ctx.db);
  registerOpenApi(app);
  registerMetrics(app, ctx);
  registerSignup(app, ctx);
  registerCustomers(app, ctx);
  registerPayments(app, ctx);
  registerSettings(app, ctx);
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
  return app;
}
