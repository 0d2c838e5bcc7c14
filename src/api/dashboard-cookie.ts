import type { FastifyRequest } from 'fastify';
import { RescueError } from '../errors.ts';
import { findSession, type SessionAccount } from '../store/sessions.ts';
import type { AppContext } from './context.ts';

// How a dashboard session authenticates an API request (docs/dashboard.md#sign-in):
// - the session token travels only in an HttpOnly, SameSite=Strict cookie;
// - every cookie-authenticated request must also carry `x-rescue-dashboard: 1`. A cross-site page
//   cannot add a custom header without a CORS preflight, which Rescue never grants, so a forged
//   request (CSRF) is refused even in a browser that ignores SameSite;
// - `x-rescue-mode: test|live` picks the mode an API key would otherwise imply (test by default).

export const SESSION_COOKIE = 'rescue_session';
export const DASHBOARD_HEADER = 'x-rescue-dashboard';
export const MODE_HEADER = 'x-rescue-mode';

export function cookieValue(request: FastifyRequest, name: string): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=') || null;
  }
  return null;
}

export const sessionToken = (request: FastifyRequest) => cookieValue(request, SESSION_COOKIE);

/** Refuses a cookie-carrying request that lacks the dashboard's header (see above). */
export function assertDashboardHeader(request: FastifyRequest): void {
  if (request.headers[DASHBOARD_HEADER] !== '1') {
    throw new RescueError('dashboard_header_missing', `Requests authenticated by the dashboard's session cookie must send the header ${DASHBOARD_HEADER}: 1.`);
  }
}

export function modeOf(request: FastifyRequest): boolean {
  const raw = request.headers[MODE_HEADER];
  if (raw === undefined || raw === 'test') return false;
  if (raw === 'live') return true;
  throw new RescueError('mode_invalid', `${MODE_HEADER} must be test or live.`, MODE_HEADER);
}

/** The signed-in account of a request's session cookie; throws when the cookie is absent, expired or signed out. */
export async function requireSession(ctx: AppContext, request: FastifyRequest): Promise<SessionAccount> {
  const token = sessionToken(request);
  const session = token ? await findSession(ctx.db, token, ctx.clock.now()) : null;
  if (!session) throw new RescueError('session_invalid', 'Your dashboard session has expired or you signed out. Sign in again.');
  return session;
}

/** Set-Cookie for a session; Secure when Rescue is reached over https (directly or by its public URL). */
export function sessionCookie(ctx: AppContext, request: FastifyRequest, token: string | null, maxAgeSeconds: number): string {
  const https = request.protocol === 'https' || (ctx.config.RESCUE_PUBLIC_URL ?? '').startsWith('https:');
  return `${SESSION_COOKIE}=${token ?? ''}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${token ? maxAgeSeconds : 0}${https ? '; Secure' : ''}`;
}
