import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { randomString } from '../ids.ts';

// One structured line per finished request — request id, account id (once authenticated), method,
// route (never the raw URL: log.ts), status and duration — and the same request id on every other
// line logged while handling it and in the `Request-Id` response header, so a merchant's report
// ("request req_… failed") finds its lines. Fastify's own pair of lines per request is off.

declare module 'fastify' {
  interface FastifyRequest {
    accountId: string | null;
  }
}

export const REQUEST_ID_LABEL = 'request_id';
export const newRequestId = (): string => `req_${randomString(16)}`;

export function registerRequestLog(app: FastifyInstance, log: FastifyBaseLogger): void {
  app.decorateRequest('accountId', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    log.info(
      { [REQUEST_ID_LABEL]: request.id, account_id: request.accountId, method: request.method, route: request.routeOptions?.url ?? null, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });
}

/** From authentication on, the request's lines carry its account. */
export function tagAccount(request: FastifyRequest, accountId: string): void {
  if (!accountId) return;
  request.accountId = accountId;
  request.log = request.log.child({ account_id: accountId });
}
