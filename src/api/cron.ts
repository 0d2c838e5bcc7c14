import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { runDueDunning } from '../engine/dunning-cron.ts';
import { RescueError } from '../errors.ts';
import type { AppContext } from './context.ts';
import { defineRoute } from './route.ts';

// The seed's `GET /api/cron/dunning (server-side)`: an external scheduler runs the due dunning sends
// (engine/dunning-cron.ts). Not an account's endpoint: it sends every account's due emails, so it is
// guarded by the operator's RESCUE_CRON_SECRET (`Authorization: Bearer …`), and off without one.

const digest = (s: string) => createHash('sha256').update(s).digest();

function checkSecret(ctx: AppContext, request: FastifyRequest): void {
  const secret = ctx.config.RESCUE_CRON_SECRET;
  if (!secret) throw new RescueError('cron_disabled', 'GET /api/cron/dunning is turned off on this Rescue: set RESCUE_CRON_SECRET to use it.');
  const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  // Compared as digests: constant time whatever the lengths.
  if (!given || !timingSafeEqual(digest(given), digest(secret))) {
    throw new RescueError('cron_secret_invalid', 'Send the cron secret as `Authorization: Bearer <RESCUE_CRON_SECRET>`.');
  }
}

const CronRun = z.object({
  object: z.literal('dunning_cron_run'),
  count: z.number().int(),
  sent: z.array(z.object({ id: z.string(), kind: z.string(), payment: z.string(), to: z.string(), status: z.string(), transport: z.string().nullable() })),
});

export function registerCron(app: FastifyInstance, ctx: AppContext) {
  defineRoute(
    app,
    ctx,
    {
      method: 'GET',
      url: '/api/cron/dunning',
      summary: 'Send the dunning emails that are due now (for an external scheduler; `Authorization: Bearer $RESCUE_CRON_SECRET`). Idempotent: an email is never sent twice',
      tag: 'Dunning',
      auth: false,
      response: CronRun,
    },
    async ({ request }) => {
      checkSecret(ctx, request);
      const sent = await runDueDunning({ db: ctx.db, clock: ctx.clock, log: ctx.log, ...ctx.emails, links: ctx.links, gatewayFor: ctx.gatewayFor, leaseMs: ctx.config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000 });
      return { object: 'dunning_cron_run' as const, count: sent.length, sent };
    },
  );
}
