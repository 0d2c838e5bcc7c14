import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isValidTimeZone } from '../domain/local-time.ts';
import { RescueError } from '../errors.ts';
import { getCustomer, insertCustomer, listCustomers } from '../store/customers.ts';
import type { CustomerRow } from '../store/schema.ts';
import { getTestClock } from '../store/test-clocks.ts';
import { CustomerId, IdParams, ListQuery, listJson, Metadata } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';

export const CustomerBody = z.strictObject({
  /** Your own id for the customer (seed 003's cus_abc123); a cus_… is generated when absent. */
  id: CustomerId.optional(),
  email: z.email().max(254).nullish(),
  name: z.string().max(256).nullish(),
  timezone: z
    .string()
    // Node 24's Intl also takes UTC offsets (+05:30); they are not IANA zones and have no DST rules.
    .refine((tz) => !/^[+-]/.test(tz) && isValidTimeZone(tz), { message: 'must be an IANA time zone such as America/New_York' })
    .transform(canonicalZoneCase)
    .default('UTC'),
  locale: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a BCP 47 language tag such as en-US').nullish(),
  metadata: Metadata.default({}),
  test_clock: z.string().min(1).nullish(),
});

/** `america/new_york` is stored as `America/New_York`; aliases (EST, Asia/Calcutta) are kept as given. */
function canonicalZoneCase(tz: string): string {
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === tz.toLowerCase() ? resolved : tz;
}

const CustomerListQuery = ListQuery.extend({ q: z.string().trim().min(1, 'q must not be empty').max(254).optional() });

export function customerJson(c: CustomerRow) {
  return {
    id: c.id,
    object: 'customer' as const,
    email: c.email,
    name: c.name,
    timezone: c.timezone,
    locale: c.locale,
    metadata: c.metadata,
    test_clock: c.test_clock,
    livemode: c.livemode,
    created_at: iso(c.created_at),
  };
}

export function registerCustomers(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'POST', url: '/v2/customers', response: R.Customer, summary: 'Create a customer', tag: 'Customers', auth: true, body: CustomerBody, successStatus: 201 }, async ({ body, principal }) => {
    let createdAt = ctx.clock.now();
    if (body.test_clock) {
      if (principal.livemode) throw new RescueError('test_clocks_live_mode', 'Test clocks can only be used with a test API key.', 'test_clock');
      const clock = await getTestClock(ctx.db, principal.accountId, body.test_clock).catch(() => {
        throw new RescueError('resource_missing', `No such test_clock: '${body.test_clock}'`, 'test_clock');
      });
      createdAt = clock.frozen_time;
    }
    const row = await insertCustomer(ctx.db, principal, {
      id: body.id,
      email: body.email ?? null,
      name: body.name ?? null,
      timezone: body.timezone,
      locale: body.locale ?? null,
      metadata: body.metadata,
      testClock: body.test_clock ?? null,
      createdAt,
    });
    return customerJson(row);
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/customers/:id', response: R.Customer, summary: 'Retrieve a customer', tag: 'Customers', auth: true, params: IdParams }, async ({ params, principal }) =>
    customerJson(await getCustomer(ctx.db, principal, params.id)),
  );

  defineRoute(app, ctx, { method: 'GET', url: '/v2/customers', response: R.list(R.Customer), summary: 'List customers, newest first; q finds by id, or by part of the email or name', tag: 'Customers', auth: true, query: CustomerListQuery }, async ({ query, principal }) => {
    const page = await listCustomers(ctx.db, principal, { limit: query.limit, startingAfter: query.starting_after, search: query.q });
    return listJson('/v2/customers', page.data.map(customerJson), page.hasMore);
  });
}
