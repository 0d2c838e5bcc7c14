import type { FastifyInstance } from 'fastify';
import { createApiKey, listApiKeys, revokeApiKey, rollApiKey, type ApiKeyRow } from '../store/api-keys.ts';
import { IdParams, listJson } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';

// The account's secret keys of the caller's mode: list, create, roll, revoke. A secret is in the
// answer that makes it (create, roll) and never again; lists show its last four characters.

function apiKeyJson(k: ApiKeyRow, secret: string | null = null) {
  return {
    id: k.id,
    object: 'api_key' as const,
    livemode: k.livemode,
    hint: `sk_${k.livemode ? 'live' : 'test'}_…${k.key_hint}`,
    secret,
    created_at: iso(k.created_at),
  };
}

export function registerApiKeys(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'GET', url: '/v2/api_keys', response: R.list(R.ApiKey), summary: 'The secret keys of this mode, newest first (their last four characters only)', tag: 'Accounts', auth: true }, async ({ principal }) =>
    listJson('/v2/api_keys', (await listApiKeys(ctx.db, principal.accountId, principal.livemode)).map((k) => apiKeyJson(k)), false),
  );

  defineRoute(app, ctx, { method: 'POST', url: '/v2/api_keys', response: R.ApiKey, summary: 'Create a secret key for this mode; the secret is in this answer only', tag: 'Accounts', auth: true, successStatus: 201 }, async ({ principal }) => {
    const k = await createApiKey(ctx.db, principal.accountId, principal.livemode, ctx.clock.now());
    return apiKeyJson(k.row, k.secret);
  });

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/api_keys/:id/roll', response: R.ApiKey, summary: 'Replace a key with a new secret (in this answer only); the old secret stops working at once', tag: 'Accounts', auth: true, params: IdParams },
    async ({ params, principal }) => {
      const k = await rollApiKey(ctx.db, principal.accountId, principal.livemode, params.id, ctx.clock.now());
      return apiKeyJson(k.row, k.secret);
    },
  );

  defineRoute(app, ctx, { method: 'DELETE', url: '/v2/api_keys/:id', response: R.Deleted, summary: 'Revoke a key: it stops working at once', tag: 'Accounts', auth: true, params: IdParams }, async ({ params, principal }) => {
    await revokeApiKey(ctx.db, principal.accountId, principal.livemode, params.id);
    return { id: params.id, object: 'api_key' as const, deleted: true };
  });
}
