import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RescueError } from '../errors.ts';
import type { TestClockRow } from '../store/schema.ts';
import { createTestClock, getTestClock, listTestClocks, requestAdvance } from '../store/test-clocks.ts';
import { IdParams, ListQuery, listJson, UnixSeconds } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import type { Principal } from './auth.ts';
import * as R from './responses.ts';


export const TestClockBody = z.strictObject({ frozen_time: UnixSeconds, name: z.string().max(300).optional() });
export const AdvanceBody = z.strictObject({ frozen_time: UnixSeconds });

export function testClockJson(c: TestClockRow) {
  return {
    id: c.id,
    object: 'test_clock' as const,
    frozen_time: Math.floor(c.frozen_time.getTime() / 1000),
    name: c.name,
    status: c.status,
    livemode: false,
    // frozen_time stays Unix seconds, as the requests that set it; created_at follows every object's convention.
    created_at: iso(c.created_at),
  };
}

function testModeOnly(principal: Principal) {
  if (principal.livemode) throw new RescueError('test_clocks_live_mode', 'Test clocks are only available with a test API key.');
}

export function registerTestClocks(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'POST', url: '/v2/test_clocks', response: R.TestClock, summary: 'Create a test clock frozen at a time', tag: 'Test clocks', auth: true, body: TestClockBody, successStatus: 201 }, async ({ body, principal }) => {
    testModeOnly(principal);
    return testClockJson(await createTestClock(ctx.db, principal.accountId, { frozenTime: new Date(body.frozen_time * 1000), name: body.name ?? null, now: ctx.clock.now() }));
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/test_clocks/:id', response: R.TestClock, summary: 'Retrieve a test clock', tag: 'Test clocks', auth: true, params: IdParams }, async ({ params, principal }) => {
    testModeOnly(principal);
    return testClockJson(await getTestClock(ctx.db, principal.accountId, params.id));
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/test_clocks', response: R.list(R.TestClock), summary: 'List test clocks', tag: 'Test clocks', auth: true, query: ListQuery }, async ({ query, principal }) => {
    testModeOnly(principal);
    const rows = await listTestClocks(ctx.db, principal.accountId, query.limit + 1, query.starting_after);
    return listJson('/v2/test_clocks', rows.slice(0, query.limit).map(testClockJson), rows.length > query.limit);
  });

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/test_clocks/:id/advance', response: R.TestClock, summary: 'Advance the clock; due retries run in time order, then status returns to ready', tag: 'Test clocks', auth: true, params: IdParams, body: AdvanceBody },
    async ({ params, body, principal }) => {
      testModeOnly(principal);
      const clock = await requestAdvance(ctx.db, principal.accountId, params.id, new Date(body.frozen_time * 1000));
      ctx.wakeWorker();
      return testClockJson(clock);
    },
  );
}
