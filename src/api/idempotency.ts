import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RescueError } from '../errors.ts';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../store/idempotency.ts';
import type { Scope } from '../store/payments.ts';
import type { AppContext } from './context.ts';
import { errorBody, statusOf } from './error-handler.ts';

// Idempotency-Key on any POST: the same key with the same request gets the first response back;
// the same key with a different request is a 409. A request still running (or cut off by a crash)
// may be resumed by the endpoint itself (`resume`), as payments do through their own key column.

export function idempotencyKeyOf(request: FastifyRequest): string | null {
  const raw = request.headers['idempotency-key'];
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (key === undefined) return null;
  if (key.length === 0 || key.length > 255) throw new RescueError('parameter_invalid', 'Idempotency-Key must be 1 to 255 characters.', 'Idempotency-Key');
  return key;
}

export type Replayed = { status: number; body: unknown };

export async function withIdempotency(
  ctx: AppContext,
  scope: Scope,
  request: FastifyRequest,
  key: string,
  run: () => Promise<{ status: number; body: unknown }>,
  resume?: () => Promise<Replayed | null>,
): Promise<Replayed & { replayed: boolean }> {
  const hash = createHash('sha256').update(JSON.stringify(canonical(request.body ?? {}))).digest('hex');
  const path = request.routeOptions.url ?? request.url;
  const claim = await claimIdempotencyKey(ctx.db, scope, { key, method: request.method, path: request.url.split('?')[0]!, hash, now: ctx.clock.now() });
  if (claim.kind === 'mismatch') {
    throw new RescueError('idempotency_key_reused', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`);
  }
  if (claim.kind === 'replay') return { status: claim.status, body: claim.body, replayed: true };
  if (claim.kind === 'in_flight') {
    const resumed = resume ? await resume() : null;
    if (resumed) return { ...resumed, replayed: true };
    throw new RescueError('idempotency_key_in_use', `A request with Idempotency-Key '${key}' (${path}) is still being processed; retry shortly.`);
  }
  try {
    const result = await run();
    await completeIdempotencyKey(ctx.db, scope, key, result.status, result.body);
    return { ...result, replayed: false };
  } catch (err) {
    // A refusal (4xx) is a response like any other and is replayed; anything else frees the key.
    if (err instanceof RescueError && err.code !== 'internal_error') {
      await completeIdempotencyKey(ctx.db, scope, key, statusOf(err), errorBody(err));
    } else {
      await releaseIdempotencyKey(ctx.db, scope, key);
    }
    throw err;
  }
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}
