import { missingResource } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Db } from './db.ts';
import type { Scope } from './payments.ts';
import type { WebhookEndpointRow } from './schema.ts';

// Webhook endpoints of one account and mode. Every query carries both.

/** How long a rotated-out secret keeps signing beside the new one. */
export const SECRET_OVERLAP_MS = 24 * 3_600_000;

export interface NewEndpoint {
  url: string;
  description: string | null;
  enabledEvents: string[];
  secret: string;
  now: Date;
}

export async function insertEndpoint(db: Db, scope: Scope, e: NewEndpoint): Promise<WebhookEndpointRow> {
  return db
    .insertInto('webhook_endpoints')
    .values({
      id: newId('we'),
      account_id: scope.accountId,
      livemode: scope.livemode,
      url: e.url,
      description: e.description,
      enabled_events: JSON.stringify(e.enabledEvents),
      status: 'enabled',
      disabled_reason: null,
      secret: e.secret,
      previous_secret: null,
      previous_secret_expires_at: null,
      created_at: e.now,
      updated_at: e.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getEndpoint(db: Db, scope: Scope, id: string, param?: string): Promise<WebhookEndpointRow> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw missingResource('webhook_endpoint', id, param);
  return row;
}

export async function listEndpoints(db: Db, scope: Scope, q: { limit: number; startingAfter?: string | undefined }) {
  let query = db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode);
  if (q.startingAfter) {
    const cursor = await getEndpoint(db, scope, q.startingAfter, 'starting_after');
    query = query.where('seq', '<', cursor.seq);
  }
  const rows = await query.orderBy('seq', 'desc').limit(q.limit + 1).execute();
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

export interface EndpointChanges {
  url?: string | undefined;
  description?: string | null | undefined;
  enabledEvents?: string[] | undefined;
  /** true: disable (by request); false: enable again, with a clean failure count. */
  disabled?: boolean | undefined;
}

export async function updateEndpoint(db: Db, scope: Scope, id: string, c: EndpointChanges, now: Date): Promise<WebhookEndpointRow> {
  const row = await db
    .updateTable('webhook_endpoints')
    .set({
      updated_at: now,
      ...(c.url !== undefined ? { url: c.url } : {}),
      ...(c.description !== undefined ? { description: c.description } : {}),
      ...(c.enabledEvents !== undefined ? { enabled_events: JSON.stringify(c.enabledEvents) } : {}),
      ...(c.disabled === true ? { status: 'disabled' as const, disabled_reason: 'requested' as const } : {}),
      ...(c.disabled === false ? { status: 'enabled' as const, disabled_reason: null, consecutive_failures: 0 } : {}),
    })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw missingResource('webhook_endpoint', id);
  return row;
}

/** The new secret signs from now on; the current one keeps signing beside it for SECRET_OVERLAP_MS. */
export async function rotateSecret(db: Db, scope: Scope, id: string, secret: string, now: Date): Promise<WebhookEndpointRow> {
  return db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom('webhook_endpoints')
      .select(['secret'])
      .where('account_id', '=', scope.accountId)
      .where('livemode', '=', scope.livemode)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw missingResource('webhook_endpoint', id);
    return tx
      .updateTable('webhook_endpoints')
      .set({ secret, previous_secret: current.secret, previous_secret_expires_at: new Date(now.getTime() + SECRET_OVERLAP_MS), updated_at: now })
      .where('account_id', '=', scope.accountId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** Deletes the endpoint and its delivery log (a delivery in flight finishes without a row to record it in). */
export async function deleteEndpoint(db: Db, scope: Scope, id: string): Promise<void> {
  const deleted = await db
    .deleteFrom('webhook_endpoints')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('id', '=', id)
    .executeTakeFirst();
  if (deleted.numDeletedRows === 0n) throw missingResource('webhook_endpoint', id);
}
