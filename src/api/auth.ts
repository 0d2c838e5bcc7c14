import type { FastifyRequest } from 'fastify';
import { RescueError } from '../errors.ts';
import { findApiKey } from '../store/accounts.ts';
import type { AppContext } from './context.ts';
import { assertDashboardHeader, modeOf, requireSession, sessionToken } from './dashboard-cookie.ts';

export interface Principal {
  accountId: string;
  livemode: boolean;
  /** The API key's id, or the dashboard session's id (sess_…) when a signed-in browser calls. */
  keyId: string;
}

/**
 * The three header spellings the seeds use: Plexy's `x-api-key: Bearer KEY`, Revtain's
 * `X-API-KEY: KEY`, and the common `Authorization: Bearer KEY`.
 */
export function keyFromHeaders(headers: FastifyRequest['headers']): string | null {
  // `||`, not `??`: an empty x-api-key header (some clients always send one) must not hide Authorization.
  const raw = headerValue(headers['x-api-key']) || headerValue(headers.authorization);
  if (!raw) return null;
  const key = raw.replace(/^Bearer\s+/i, '').trim();
  return key.length > 0 ? key : null;
}

function headerValue(v: string | string[] | undefined): string | null {
  if (Array.isArray(v)) return v[0] ?? null;
  return v ?? null;
}

export async function authenticate(ctx: AppContext, request: FastifyRequest): Promise<Principal> {
  const key = keyFromHeaders(request.headers);
  // An API key always wins; without one, a signed-in dashboard's cookie (dashboard-cookie.ts).
  if (!key && sessionToken(request)) {
    assertDashboardHeader(request);
    const livemode = modeOf(request);
    const session = await requireSession(ctx, request);
    await ctx.throttles.apiKey(request, session.sessionId);
    return { accountId: session.accountId, livemode, keyId: session.sessionId };
  }
  if (!key) {
    throw new RescueError('api_key_missing', 'You did not provide an API key. Send it as `Authorization: Bearer KEY` or `x-api-key: KEY`.');
  }
  // An address that keeps sending unknown keys is refused whatever the lookup finds (a guessed key
  // is answered the same way whether it exists or not); a known key is then limited on its own. The
  // gate is read beside the lookup, one round trip instead of two.
  const [gate, found] = await Promise.allSettled([ctx.throttles.unknownKeysAllowed(request), findApiKey(ctx.db, key)]);
  if (gate.status === 'rejected') throw gate.reason;
  if (found.status === 'rejected') throw found.reason;
  return principalOf(ctx, request, key, found.value);
}

async function principalOf(ctx: AppContext, request: FastifyRequest, key: string, found: Awaited<ReturnType<typeof findApiKey>>): Promise<Principal> {
  if (!found) {
    await ctx.throttles.unknownKeySeen(request);
    throw new RescueError('api_key_invalid', `Invalid API key provided: ${redact(key)}`);
  }
  await ctx.throttles.apiKey(request, found.id);
  return { accountId: found.account_id, livemode: found.livemode, keyId: found.id };
}

function redact(key: string): string {
  return key.length <= 12 ? '****' : `${key.slice(0, 8)}****${key.slice(-4)}`;
}
