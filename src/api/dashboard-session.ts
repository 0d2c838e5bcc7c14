import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RescueError } from '../errors.ts';
import { hashPassword, verifyPassword } from '../store/accounts.ts';
import { createSession, deleteSession, findAccountByEmail, findSession } from '../store/sessions.ts';
import type { AppContext } from './context.ts';
import { assertDashboardHeader, sessionCookie, sessionToken } from './dashboard-cookie.ts';
import { iso } from './payment-json.ts';

// Dashboard sign-in and sign-out. Browser plumbing like the Stripe OAuth pages, so these routes are
// not in /openapi.json: scripts use API keys. docs/dashboard.md#sign-in.

/** A working day: long enough not to nag, short enough that a forgotten browser stops being signed in. */
export const SESSION_HOURS = 12;

const SignInBody = z.strictObject({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(200),
});

const WRONG = 'The email or password is not right.';

// Unknown emails still pay for one scrypt, so the answer's timing does not tell which emails exist.
let decoyHash: Promise<string> | null = null;
const decoy = () => (decoyHash ??= hashPassword('decoy password that matches nothing'));

export function registerDashboardSession(app: FastifyInstance, ctx: AppContext) {
  const ttlMs = SESSION_HOURS * 3_600_000;

  app.post('/dashboard/api/session', async (request, reply) => {
    assertDashboardHeader(request);
    const body = SignInBody.parse(request.body ?? {});
    const email = body.email.toLowerCase();
    const now = ctx.clock.now();
    // The try is counted before the password is checked (api/throttles.ts): concurrent guesses past
    // the limit are refused without ever reaching the check.
    const signInTry = await ctx.throttles.signInTry(request, email);
    const account = await findAccountByEmail(ctx.db, email);
    const ok = await verifyPassword(body.password, account?.password_hash ?? (await decoy()));
    if (!account || !ok) throw new RescueError('sign_in_failed', WRONG);
    await signInTry.succeeded();
    const session = await createSession(ctx.db, account.id, now, ttlMs);
    reply.header('set-cookie', sessionCookie(ctx, request, session.token, ttlMs / 1000)).header('cache-control', 'no-store');
    return reply.status(201).send(sessionJson({ accountId: account.id, email: account.email, businessName: account.business_name, expiresAt: session.expiresAt }));
  });

  // Asking whether one is signed in is not an error either: signed out is a 200 with no account, so
  // the sign-in page's first question does not log a failed request in the browser's console.
  app.get('/dashboard/api/session', async (request, reply) => {
    assertDashboardHeader(request);
    const token = sessionToken(request);
    const session = token ? await findSession(ctx.db, token, ctx.clock.now()) : null;
    return reply.header('cache-control', 'no-store').send(session ? sessionJson(session) : { object: 'dashboard_session', account: null, expires_at: null });
  });

  // Signing out twice, or with an expired cookie, is not an error: the browser ends up signed out.
  app.delete('/dashboard/api/session', async (request, reply) => {
    assertDashboardHeader(request);
    const token = sessionToken(request);
    const deleted = token ? await deleteSession(ctx.db, token) : false;
    reply.header('set-cookie', sessionCookie(ctx, request, null, 0));
    return reply.send({ object: 'dashboard_session', deleted });
  });
}

function sessionJson(s: { accountId: string; email: string; businessName: string; expiresAt: Date }) {
  return { object: 'dashboard_session', account: { id: s.accountId, email: s.email, business_name: s.businessName }, expires_at: iso(s.expiresAt) };
}
