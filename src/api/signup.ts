import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createAccount } from '../store/accounts.ts';
import type { AppContext } from './context.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';

export const SignupBody = z.strictObject({
  email: z.email().max(254),
  password: z.string().min(8, 'password must be at least 8 characters').max(200),
  business_name: z.string().trim().min(1).max(200),
});

export function registerSignup(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'POST', url: '/signup', response: R.Signup, summary: 'Create an account with a test and a live secret key (shown once); 403 signup_closed where the operator closed it, 429 past the per-address limit', tag: 'Accounts', auth: false, body: SignupBody, successStatus: 201 }, async ({ body, request }) => {
    await ctx.throttles.signupTry(request);
    const created = await createAccount(ctx.db, { email: body.email, password: body.password, businessName: body.business_name, now: ctx.clock.now() });
    return {
      account: { id: created.account.id, object: 'account', email: created.account.email, business_name: created.account.business_name, created_at: iso(created.account.created_at) },
      api_keys: created.apiKeys,
    };
  });
}
