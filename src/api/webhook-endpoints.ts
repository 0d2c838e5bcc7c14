import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EVENT_TYPES } from '../domain/events.ts';
import { RescueError, invalid } from '../errors.ts';
import { getEvent } from '../store/events.ts';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../store/schema.ts';
import { createDeliveries, listDeliveries } from '../store/webhook-deliveries.ts';
import { deleteEndpoint, getEndpoint, insertEndpoint, listEndpoints, rotateSecret, updateEndpoint } from '../store/webhook-endpoints.ts';
import type { Principal } from './auth.ts';
import { IdParams, ListQuery, listJson } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { assertGatewayUrlAllowed } from './gateway-url.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';

// Webhook endpoints, their delivery log, and resending an event. Deliveries themselves are the
// worker's (engine/webhook-delivery.ts).

const EndpointUrl = z.url({ protocol: /^https?$/ }).max(2048);

const EnabledEvents = z
  .array(z.enum(['*', ...EVENT_TYPES] as [string, ...string[]], { message: `must be "*" or one of ${EVENT_TYPES.join(', ')}` }))
  .min(1)
  .max(EVENT_TYPES.length + 1)
  .transform((types) => (types.includes('*') ? ['*'] : [...new Set(types)]));

export const WebhookEndpointBody = z.strictObject({
  url: EndpointUrl,
  enabled_events: EnabledEvents,
  description: z.string().max(5000).nullish(),
});

export const WebhookEndpointUpdateBody = z.strictObject({
  url: EndpointUrl.optional(),
  enabled_events: EnabledEvents.optional(),
  description: z.string().max(5000).nullish(),
  /** true disables the endpoint (nothing is sent, nothing new is queued); false enables it again. */
  disabled: z.boolean().optional(),
});

export const DeliveryListQuery = ListQuery.extend({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  event: z.string().min(1).optional(),
});

export const ResendBody = z.strictObject({ endpoint: z.string().min(1).optional() });

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/** The secret is in the answer once: when the endpoint is created and when it is rotated; null otherwise. */
function endpointJson(e: WebhookEndpointRow, now: Date, revealSecret = false) {
  const overlap = e.previous_secret_expires_at && e.previous_secret_expires_at > now ? e.previous_secret_expires_at : null;
  return {
    id: e.id,
    object: 'webhook_endpoint' as const,
    url: e.url,
    description: e.description,
    enabled_events: e.enabled_events,
    status: e.status,
    disabled_reason: e.disabled_reason,
    secret: revealSecret ? e.secret : null,
    previous_secret_expires_at: iso(overlap),
    livemode: e.livemode,
    created_at: iso(e.created_at),
    updated_at: iso(e.updated_at),
  };
}

function deliveryJson(d: WebhookDeliveryRow & { event_type: string }) {
  return {
    id: d.id,
    object: 'webhook_delivery' as const,
    endpoint: d.endpoint_id,
    event: d.event_id,
    event_type: d.event_type,
    status: d.status,
    attempts: d.attempts,
    response_status: d.last_response_status,
    latency_ms: d.last_latency_ms,
    error: d.last_error,
    next_retry_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    last_attempt_at: iso(d.last_attempt_at),
    created_at: iso(d.created_at),
    livemode: d.livemode,
  };
}

export function registerWebhookEndpoints(app: FastifyInstance, ctx: AppContext) {
  /** A mode may not point webhooks at Rescue's own network unless the operator lets it (src/egress/). */
  const checkUrl = (principal: Principal, url: string) => assertGatewayUrlAllowed(ctx.egress, url, principal.livemode, { what: 'webhook endpoint', code: 'url_not_allowed' });

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/webhook_endpoints', response: R.WebhookEndpoint, summary: 'Create a webhook endpoint; its signing secret is in this answer only', tag: 'Webhooks', auth: true, body: WebhookEndpointBody, successStatus: 201 },
    async ({ body, principal }) => {
      await checkUrl(principal, body.url);
      const now = ctx.clock.now();
      const row = await insertEndpoint(ctx.db, principal, { url: body.url, description: body.description ?? null, enabledEvents: body.enabled_events, secret: newSecret(), now });
      return endpointJson(row, now, true);
    },
  );

  defineRoute(app, ctx, { method: 'GET', url: '/v2/webhook_endpoints', response: R.list(R.WebhookEndpoint), summary: 'List webhook endpoints, newest first', tag: 'Webhooks', auth: true, query: ListQuery }, async ({ query, principal }) => {
    const page = await listEndpoints(ctx.db, principal, { limit: query.limit, startingAfter: query.starting_after });
    const now = ctx.clock.now();
    return listJson('/v2/webhook_endpoints', page.data.map((e) => endpointJson(e, now)), page.hasMore);
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/webhook_endpoints/:id', response: R.WebhookEndpoint, summary: 'Retrieve a webhook endpoint', tag: 'Webhooks', auth: true, params: IdParams }, async ({ params, principal }) =>
    endpointJson(await getEndpoint(ctx.db, principal, params.id), ctx.clock.now()),
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/webhook_endpoints/:id', response: R.WebhookEndpoint, summary: 'Update a webhook endpoint; disabled: true|false disables or enables it', tag: 'Webhooks', auth: true, params: IdParams, body: WebhookEndpointUpdateBody },
    async ({ params, body, principal }) => {
      await getEndpoint(ctx.db, principal, params.id);
      if (body.url !== undefined) await checkUrl(principal, body.url);
      const now = ctx.clock.now();
      const row = await updateEndpoint(ctx.db, principal, params.id, { url: body.url, description: body.description, enabledEvents: body.enabled_events, disabled: body.disabled }, now);
      // Enabling resumes deliveries that waited while it was disabled.
      if (body.disabled === false) ctx.wakeWorker();
      return endpointJson(row, now);
    },
  );

  defineRoute(app, ctx, { method: 'DELETE', url: '/v2/webhook_endpoints/:id', response: R.Deleted, summary: 'Delete a webhook endpoint and its delivery log', tag: 'Webhooks', auth: true, params: IdParams }, async ({ params, principal }) => {
    await deleteEndpoint(ctx.db, principal, params.id);
    return { id: params.id, object: 'webhook_endpoint' as const, deleted: true };
  });

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/webhook_endpoints/:id/rotate_secret', response: R.WebhookEndpoint, summary: 'New signing secret (in this answer only); the old one keeps signing beside it for 24 hours', tag: 'Webhooks', auth: true, params: IdParams },
    async ({ params, principal }) => {
      const now = ctx.clock.now();
      return endpointJson(await rotateSecret(ctx.db, principal, params.id, newSecret(), now), now, true);
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'GET', url: '/v2/webhook_endpoints/:id/deliveries', response: R.list(R.WebhookDelivery), summary: 'The delivery log of an endpoint, newest first', tag: 'Webhooks', auth: true, params: IdParams, query: DeliveryListQuery },
    async ({ params, query, principal }) => {
      await getEndpoint(ctx.db, principal, params.id);
      const page = await listDeliveries(ctx.db, principal, params.id, { limit: query.limit, startingAfter: query.starting_after, status: query.status, eventId: query.event });
      return listJson(`/v2/webhook_endpoints/${params.id}/deliveries`, page.data.map(deliveryJson), page.hasMore);
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/events/:id/resend', response: R.list(R.WebhookDelivery), summary: 'Deliver an event again: to every enabled endpoint that subscribes to it, or to one', tag: 'Events', auth: true, params: IdParams, body: ResendBody },
    async ({ params, body, principal }) => {
      const event = await getEvent(ctx.db, principal, params.id);
      if (body.endpoint) {
        const endpoint = await getEndpoint(ctx.db, principal, body.endpoint, 'endpoint');
        if (endpoint.status !== 'enabled') throw new RescueError('webhook_endpoint_disabled', `Webhook endpoint ${endpoint.id} is disabled; enable it first.`, 'endpoint');
        const types = endpoint.enabled_events;
        if (!types.includes('*') && !types.includes(event.type)) throw invalid('endpoint', `Webhook endpoint ${endpoint.id} does not receive ${event.type} events.`);
      }
      const created = await createDeliveries(ctx.db, principal, { id: event.id, type: event.type }, body.endpoint ?? null, ctx.clock.now());
      ctx.wakeWorker();
      return listJson(`/v2/events/${event.id}/resend`, created.map(deliveryJson), false);
    },
  );
}
