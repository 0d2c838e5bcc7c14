import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RescueError } from '../errors.ts';
import { hashPassword, verifyPassword } from '../store/accounts.ts';
import { clearSignInFailures, createSession, deleteSession, findAccountByEmail, recordSignInFailure, signInLockedUntil, type ThrottlePolicy } from '../store/sessions.ts';
import type { AppContext } from './context.ts';
import { assertDashboardHeader, requireSession, sessionCookie, sessionToken } from './dashboard-cookie.ts';
import { iso } from './payment-json.ts';

// Dashboard sign-in and sign-out. Browser plumbing like the Stripe OAuth pages, so these routes are
// not in /openapi.json: scripts use API keys. docs/dashboard.md#sign-in.

/** A working day: long enough not to nag, short enough that a forgotten browser stops being signed in. */
export const SESSION_HOURS = 12;
/** 5 failures within 15 minutes lock an email for 15 minutes: slows guessing, barely bothers a person. */
export const SIGN_IN_THROTTLE: ThrottlePolicy = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

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
    const locked = await signInLockedUntil(ctx.db, email, now);
    if (locked) throw throttled(locked, now);
    const account = await findAccountByEmail(ctx.db, email);
    const ok = await verifyPassword(body.password, account?.password_hash ?? (await decoy()));
    if (!account || !ok) {
      const lockedNow = await recordSignInFailure(ctx.db, email, now, SIGN_IN_THROTTLE);
      if (lockedNow) throw throttled(lockedNow, now);
      throw new RescueError('sign_in_failed', WRONG);
    }
    await clearSignInFailures(ctx.db, email);
    const session = await createSession(ctx.db, account.id, now, ttlMs);
    reply.header('set-cookie', sessionCookie(ctx, request, session.token, ttlMs / 1000)).header('cache-control', 'no-store');
    return reply.status(201).send(sessionJson({ accountId: account.id, email: account.email, businessName: account.business_name, expiresAt: session.expiresAt }));
  });

  app.get('/dashboard/api/session', async (request, reply) => {
    assertDashboardHeader(request);
    const session = await requireSession(ctx, request);
    return reply.header('cache-control', 'no-store').send(sessionJson(session));
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

function throttled(until: Date, now: Date): RescueError {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return new RescueError('sign_in_throttled', `Too many failed sign-ins for this email. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
}
