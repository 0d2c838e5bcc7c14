import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from './context.ts';
import { authenticate, type Principal } from './auth.ts';
import { tagAccount } from './request-log.ts';
import { idempotencyKeyOf, withIdempotency, type Replayed } from './idempotency.ts';
import { assertDocumentedResponse } from './response-check.ts';

// One declaration per endpoint: the zod schemas validate the request at the edge, type the handler,
// and become the OpenAPI document (api/openapi.ts), so the three cannot drift apart.

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  auth: boolean;
  body?: B;
  query?: Q;
  params?: P;
  /** The body of the successStatus answer (api/responses.ts); documented, and checked under test. */
  response: z.ZodType;
  successStatus?: number;
  /** Other success statuses the handler may answer with `withStatus`, with their bodies. */
  otherResponses?: Record<number, z.ZodType>;
  /** For a request whose idempotency key is still marked in flight (e.g. after a crash). */
  resume?: (ctx: AppContext, principal: Principal, key: string) => Promise<Replayed | null>;
}

export interface HandlerInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  principal: Principal;
  request: FastifyRequest;
  idempotencyKey: string | null;
}

/** A handler's answer with a status other than the route's successStatus (Revtain's 200 or 202). */
export class WithStatus {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    this.status = status;
    this.body = body;
  }
}

export const withStatus = (status: number, body: unknown) => new WithStatus(status, body);

export const registry: RouteSpec<z.ZodType, z.ZodType, z.ZodType>[] = [];

const Empty = z.object({});
// A POST that takes no parameters still refuses unknown ones, as every other body does: a field the
// merchant thinks was recorded (a cancel reason, say) must not be dropped silently.
const NoBody = z.strictObject({});

export function defineRoute<B extends z.ZodType = typeof Empty, Q extends z.ZodType = typeof Empty, P extends z.ZodType = typeof Empty>(
  app: FastifyInstance,
  ctx: AppContext,
  spec: RouteSpec<B, Q, P>,
  handler: (input: HandlerInput<z.infer<B>, z.infer<Q>, z.infer<P>>) => Promise<unknown>,
): void {
  if (!registry.some((r) => r.method === spec.method && r.url === spec.url)) registry.push(spec as never);
  app.route({
    method: spec.method,
    url: spec.url,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = spec.auth ? await authenticate(ctx, request) : ANONYMOUS;
      tagAccount(request, principal.accountId);
      const params = (spec.params ?? Empty.loose()).parse(request.params ?? {});
      const query = (spec.query ?? Empty.loose()).parse(request.query ?? {});
      const body = (spec.body ?? (spec.method === 'GET' ? Empty.loose() : NoBody)).parse(request.body ?? {});
      const key = spec.method === 'POST' && spec.auth ? idempotencyKeyOf(request) : null;
      const run = async () => {
        const answer = await handler({ body, query, params, principal, request, idempotencyKey: key } as never);
        const result = answer instanceof WithStatus ? { status: answer.status, body: answer.body } : { status: spec.successStatus ?? 200, body: answer };
        if (ctx.validateResponses) assertDocumentedResponse(`${spec.method} ${spec.url}`, responseSchemaOf(spec, result.status), result.status, result.body);
        return result;
      };
      if (!key) {
        const result = await run();
        return reply.status(result.status).send(result.body);
      }
      const resume = spec.resume;
      const result = await withIdempotency(ctx, principal, request, key, run, resume ? () => resume(ctx, principal, key) : undefined);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(result.status).send(result.body);
    },
  });
}

/** The schema of a route's answer with this status, if the route documents one. */
export function responseSchemaOf(spec: Pick<RouteSpec<z.ZodType, z.ZodType, z.ZodType>, 'response' | 'successStatus' | 'otherResponses'>, status: number): z.ZodType | undefined {
  return status === (spec.successStatus ?? 200) ? spec.response : spec.otherResponses?.[status];
}

const ANONYMOUS: Principal = { accountId: '', livemode: false, keyId: '' };
