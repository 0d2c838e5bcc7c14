import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { RescueError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { checkReadiness } from '../store/readiness.ts';
import { errorBody, handleError, statusOf } from './error-handler.ts';
import { prepareGracefulClose } from './shutdown.ts';

// Liveness and readiness, for load balancers and orchestrators, without an API key.
// GET /health: the process answers (restart it if not). GET /ready: it can do its work — the database
// answers within READY_TIMEOUT_MS and has every migration — else 503 with a Stripe-style error, so
// traffic goes elsewhere until it recovers. A stopping process answers 503 to both (api/shutdown.ts).

/** A database slower than this is as good as down for a probe (probes usually time out at 1–5 s). */
export const READY_TIMEOUT_MS = 2000;

export function registerHealth(app: FastifyInstance, db: Db): void {
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const readiness = await checkReadiness(db, READY_TIMEOUT_MS);
    if (readiness.ready) return { status: 'ready', database: 'ok', migrations: 'current' };
    // Answered here rather than thrown: a probe every few seconds must not log an error each time.
    const err = new RescueError('not_ready', `Not ready: ${readiness.problem}.`);
    return reply.code(statusOf(err)).send(errorBody(err));
  });
}

/** A worker's own health server (`rescue worker --health-port`): the two probes and nothing else. */
export function buildHealthApp(db: Db, log: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: log.child({ component: 'health' }, { level: 'warn' }) as FastifyBaseLogger });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => handleError(new RescueError('route_not_found', `Unrecognized request URL (${request.method}: ${request.url.split('?')[0]}).`), request, reply));
  prepareGracefulClose(app);
  registerHealth(app, db);
  return app;
}
