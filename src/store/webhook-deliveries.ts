import { sql } from 'kysely';
import type { StoredEvent } from '../domain/event-json.ts';
import { DISABLE_AFTER_FAILED_DELIVERIES, webhookEndpointDisabled } from '../domain/webhook-retry.ts';
import { missingResource } from '../errors.ts';
import type { Db } from './db.ts';
import { DELIVERY_ID, insertEvents } from './events.ts';
import { claimDue, type ClaimSpec } from './job-claims.ts';
import type { Scope } from './payments.ts';
import type { WebhookDeliveryRow, WebhookDeliveryStatus } from './schema.ts';

// The webhook delivery queue. Delivery rows are created with their event (store/events.ts) or by a
// resend; a worker claims due ones with a lease (store/job-claims.ts: FOR UPDATE SKIP LOCKED), sends them, and records
// every result of a batch in one transaction. A delivery whose worker died is claimed again once its
// lease has run out: delivery is at least once.

export interface ClaimedDelivery {
  id: string;
  account_id: string;
  livemode: boolean;
  endpoint_id: string;
  /** Requests sent before this one. */
  attempts: number;
  first_attempt_at: Date | null;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  event: StoredEvent;
}

/** Due deliveries to enabled endpoints (a disabled endpoint's deliveries wait until it is enabled again). */
export const dueDeliveries: ClaimSpec<ClaimedDelivery> = {
  table: 'webhook_deliveries',
  key: ['id'],
  join: () => sql`join webhook_endpoints w on w.id = t.endpoint_id and w.account_id = t.account_id`,
  due: (at) => sql`t.status = 'pending' and (t.next_attempt_at is null or t.next_attempt_at <= ${at.now}) and w.status = 'enabled'`,
  order: sql`t.next_attempt_at nulls first, t.seq`,
  lease: { kind: 'holder', claimedBy: 'claimed_by', expiresAt: 'lease_expires_at' },
  tail: () => sql`
    select c.id, c.account_id, c.livemode, c.endpoint_id, c.event_id, c.attempts, c.first_attempt_at,
      w.url, w.secret, w.previous_secret, w.previous_secret_expires_at,
      e.type, e.api_version, e.data, e.created_at as event_created_at
    from claimed c
    join webhook_endpoints w on w.id = c.endpoint_id and w.account_id = c.account_id
    join events e on e.id = c.event_id and e.account_id = c.account_id`,
  shape: (rows) =>
    (rows as (Omit<ClaimedDelivery, 'event'> & { event_id: string; type: string; api_version: string; data: Record<string, unknown>; event_created_at: Date })[]).map(
      ({ event_id, type, api_version, data, event_created_at, ...d }) => ({
        ...d,
        event: { id: event_id, type, api_version, data, created_at: event_created_at, livemode: d.livemode },
      }),
    ),
};

export async function claimDueDeliveries(db: Db, o: { workerId: string; now: Date; leaseUntil: Date; limit: number }): Promise<ClaimedDelivery[]> {
  return claimDue(db, dueDeliveries, o);
}

export interface DeliveryResult {
  id: string;
  account_id: string;
  livemode: boolean;
  endpoint_id: string;
  url: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  first_attempt_at: Date;
  last_attempt_at: Date;
  last_response_status: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
}

/**
 * Records a batch of results, given in the order they finished, in one transaction: the deliveries
 * (only those still claimed by this worker), each endpoint's count of deliveries that ended failed
 * since its last success, and — for endpoints that reach the threshold — their disabling together
 * with its webhook_endpoint.disabled event. Returns the ids of the endpoints it disabled.
 */
export async function recordDeliveryResults(db: Db, results: readonly DeliveryResult[], o: { workerId: string; now: Date }): Promise<string[]> {
  if (results.length === 0) return [];
  return db.transaction().execute(async (tx) => {
    const applied = new Set(
      (
        await sql<{ id: string }>`
        update webhook_deliveries d set
          status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
          first_attempt_at = v.first_attempt_at, last_attempt_at = v.last_attempt_at,
          last_response_status = v.last_response_status, last_latency_ms = v.last_latency_ms, last_error = v.last_error,
          claimed_by = null, lease_expires_at = null, updated_at = ${o.now}
        from jsonb_to_recordset(${JSON.stringify(results)}::jsonb) as v(
          id text, account_id text, status text, attempts int, next_attempt_at timestamptz, first_attempt_at timestamptz,
          last_attempt_at timestamptz, last_response_status int, last_latency_ms int, last_error text)
        where d.id = v.id and d.account_id = v.account_id and d.claimed_by = ${o.workerId} and d.status = 'pending'
        returning d.id`.execute(tx)
      ).rows.map((r) => r.id),
    );

    // Per endpoint: a success resets the count; each delivery that ended failed adds one.
    const counts = new Map<string, { id: string; account_id: string; reset: boolean; add: number }>();
    for (const r of results) {
      if (!applied.has(r.id) || r.status === 'pending') continue;
      const c = counts.get(r.endpoint_id) ?? { id: r.endpoint_id, account_id: r.account_id, reset: false, add: 0 };
      if (r.status === 'succeeded') Object.assign(c, { reset: true, add: 0 });
      else c.add++;
      counts.set(r.endpoint_id, c);
    }
    if (counts.size === 0) return [];
    await sql`
      update webhook_endpoints w
      set consecutive_failures = case when v.reset then v.add else w.consecutive_failures + v.add end
      from jsonb_to_recordset(${JSON.stringify([...counts.values()])}::jsonb) as v(id text, account_id text, reset boolean, add int)
      where w.id = v.id and w.account_id = v.account_id`.execute(tx);
    const failing = [...counts.values()].filter((c) => c.add > 0);
    if (failing.length === 0) return [];
    const disabled = await sql<{ id: string; account_id: string; livemode: boolean; url: string; consecutive_failures: number }>`
      update webhook_endpoints w set status = 'disabled', disabled_reason = 'failing', updated_at = ${o.now}
      from jsonb_to_recordset(${JSON.stringify(failing)}::jsonb) as v(id text, account_id text)
      where w.id = v.id and w.account_id = v.account_id and w.status = 'enabled'
        and w.consecutive_failures >= ${DISABLE_AFTER_FAILED_DELIVERIES}
      returning w.id, w.account_id, w.livemode, w.url, w.consecutive_failures`.execute(tx);
    await insertEvents(
      tx,
      disabled.rows.map((w) => ({
        ...webhookEndpointDisabled({ id: w.id, url: w.url, failedDeliveries: w.consecutive_failures }),
        accountId: w.account_id,
        livemode: w.livemode,
        createdAt: o.now,
      })),
    );
    return disabled.rows.map((w) => w.id);
  });
}

export type DeliveryListRow = WebhookDeliveryRow & { event_type: string };

export async function listDeliveries(
  db: Db,
  scope: Scope,
  endpointId: string,
  q: { limit: number; startingAfter?: string | undefined; status?: WebhookDeliveryStatus | undefined; eventId?: string | undefined },
): Promise<{ data: DeliveryListRow[]; hasMore: boolean }> {
  let query = db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', (j) => j.onRef('e.id', '=', 'd.event_id').onRef('e.account_id', '=', 'd.account_id'))
    .selectAll('d')
    .select('e.type as event_type')
    .where('d.account_id', '=', scope.accountId)
    .where('d.livemode', '=', scope.livemode)
    .where('d.endpoint_id', '=', endpointId);
  if (q.status) query = query.where('d.status', '=', q.status);
  if (q.eventId) query = query.where('d.event_id', '=', q.eventId);
  if (q.startingAfter) {
    const cursor = await db
      .selectFrom('webhook_deliveries')
      .select('seq')
      .where('account_id', '=', scope.accountId)
      .where('livemode', '=', scope.livemode)
      .where('endpoint_id', '=', endpointId)
      .where('id', '=', q.startingAfter)
      .executeTakeFirst();
    if (!cursor) throw missingResource('webhook_delivery', q.startingAfter, 'starting_after');
    query = query.where('d.seq', '<', cursor.seq);
  }
  const rows = await query.orderBy('d.seq', 'desc').limit(q.limit + 1).execute();
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

/**
 * New deliveries of an event, due at once: to the one endpoint given, or to every enabled endpoint
 * of the account and mode that subscribes to the event's type. The caller has checked the event and
 * the endpoint exist in this scope.
 */
export async function createDeliveries(db: Db, scope: Scope, event: { id: string; type: string }, endpointId: string | null, now: Date): Promise<DeliveryListRow[]> {
  const result = await sql<WebhookDeliveryRow>`
    insert into webhook_deliveries (id, account_id, livemode, event_id, endpoint_id, status, attempts, created_at, updated_at)
    select ${DELIVERY_ID}, w.account_id, w.livemode, ${event.id}, w.id, 'pending', 0, ${now}, ${now}
    from webhook_endpoints w
    where w.account_id = ${scope.accountId} and w.livemode = ${scope.livemode} and w.status = 'enabled'
      and w.enabled_events ?| array[${event.type}, '*']
      ${endpointId ? sql`and w.id = ${endpointId}` : sql``}
    order by w.seq
    returning *`.execute(db);
  return result.rows.map((r) => ({ ...r, event_type: event.type }));
}

/** Deliveries a stopping worker claimed but never sent: unclaimed, due as they were, for another worker now. */
export async function handBackDeliveries(db: Db, claimed: readonly Pick<ClaimedDelivery, 'id' | 'account_id'>[], workerId: string): Promise<void> {
  if (claimed.length === 0) return;
  await sql`
    update webhook_deliveries d set claimed_by = null, lease_expires_at = null
    from unnest(${claimed.map((c) => c.id)}::text[], ${claimed.map((c) => c.account_id)}::text[]) as v(id, account_id)
    where d.id = v.id and d.account_id = v.account_id and d.claimed_by = ${workerId} and d.status = 'pending'`.execute(db);
}
