import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { eventJson } from '../domain/event-json.ts';
import { EVENT_TYPES } from '../domain/events.ts';
import { getEvent, listEvents } from '../store/events.ts';
import { IdParams, ListQuery, listJson, queryInstant } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';

/** Unix seconds (as Stripe's `created[gte]`) or an ISO 8601 instant. */
const Instant = queryInstant({ withDate: false });

const EventType = z.string().refine((t) => (EVENT_TYPES as readonly string[]).includes(t) || (t.endsWith('.*') && EVENT_TYPES.some((e) => e.startsWith(t.slice(0, -1)))), {
  message: `must be one of ${EVENT_TYPES.join(', ')} (or a family such as payment.*)`,
});

export const EventListQuery = ListQuery.extend({
  type: EventType.optional(),
  'created[gte]': Instant.optional(),
  'created[lte]': Instant.optional(),
  object: z.string().min(1).optional(),
});

export { eventJson };

export function registerEvents(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'GET', url: '/v2/events', response: R.list(R.Event), summary: 'List events, newest first', tag: 'Events', auth: true, query: EventListQuery }, async ({ query, principal }) => {
    const page = await listEvents(ctx.db, principal, {
      type: query.type,
      createdGte: query['created[gte]'],
      createdLte: query['created[lte]'],
      objectId: query.object,
      limit: query.limit,
      startingAfter: query.starting_after,
    });
    return listJson('/v2/events', page.data.map(eventJson), page.hasMore);
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/events/:id', response: R.Event, summary: 'Retrieve an event', tag: 'Events', auth: true, params: IdParams }, async ({ params, principal }) =>
    eventJson(await getEvent(ctx.db, principal, params.id)),
  );
}
