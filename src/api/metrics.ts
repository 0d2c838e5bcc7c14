import type { FastifyInstance } from 'fastify';
import { unknownDeclineCounts } from '../domain/decline-taxonomy.ts';
import { backlog } from '../store/operations.ts';
import type { AppContext } from './context.ts';

// Prometheus text exposition (version 0.0.4) for operators: the work waiting in the queues, and the
// decline codes the taxonomy does not know yet (they are retried conservatively; this says which to
// add). Aggregates only: no account's data. Expose it on an internal network.

function line(name: string, value: number, labels: Record<string, string> = {}): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `${name}${l.length ? `{${l.join(',')}}` : ''} ${value}`;
}

function gauge(name: string, help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, line(name, value)];
}

export async function metricsText(ctx: AppContext): Promise<string> {
  const b = await backlog(ctx.db, ctx.clock.now());
  const unknown = [...unknownDeclineCounts()].sort(([a], [z]) => a.localeCompare(z));
  return [
    ...gauge('rescue_attempts_due', 'Real-time attempts whose planned time has passed and that no worker has claimed yet.', b.attemptsDue),
    ...gauge('rescue_attempts_processing', 'Attempts claimed by a worker and being charged (or left by a stopped worker, to reconcile).', b.attemptsProcessing),
    ...gauge('rescue_attempts_planned', 'Attempts planned for later, real-time and on test clocks.', b.attemptsPlanned),
    ...gauge('rescue_rescues_active', 'Rescues with retries still planned.', b.rescuesActive),
    ...gauge('rescue_webhook_deliveries_pending', 'Webhook deliveries not yet succeeded or given up.', b.deliveriesPending),
    ...gauge('rescue_webhook_deliveries_due', 'Pending webhook deliveries whose next try is due now.', b.deliveriesDue),
    ...gauge('rescue_test_clocks_advancing', 'Test clocks being advanced.', b.clocksAdvancing),
    '# HELP rescue_unknown_decline_codes_total Declines with a code the taxonomy does not know, by code, since this process started.',
    '# TYPE rescue_unknown_decline_codes_total counter',
    ...unknown.map(([code, n]) => line('rescue_unknown_decline_codes_total', n, { code })),
    '',
  ].join('\n');
}

export function registerMetrics(app: FastifyInstance, ctx: AppContext) {
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metricsText(ctx)));
}
