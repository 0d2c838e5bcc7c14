import { sql, type Transaction } from 'kysely';
import { API_VERSION, type NewEvent } from '../domain/events.ts';
import { missingResource } from '../errors.ts';
import { newId } from '../ids.ts';
import { cursorSeq } from './cursor.ts';
import type { Db } from './db.ts';
import { causesOfEvents, queueEmails } from './emails-queue.ts';
import type { Database, EventRow } from './schema.ts';
import type { Scope } from './payments.ts';

export interface EventToWrite extends NewEvent {
  accountId: string;
  livemode: boolean;
  createdAt: Date;
  /** Delivered to webhooks like any event, but causes no customer email (a reopen on a new card). */
  quiet?: boolean;
}

/** Delivery ids are made in SQL, where deliveries are created set-based: whd_ + 128 random bits in hex. */
export const DELIVERY_ID = sql<string>`'whd_' || replace(gen_random_uuid()::text, '-', '')`;

/**
 * Inside the caller's transaction, so an event exists exactly when its change does. Each event's
 * webhook deliveries (one per enabled endpoint of its account and mode that subscribes to its type
 * or to "*") are created in the same transaction: a committed event is always delivered, whatever
 * crashes afterwards. New deliveries have no next_attempt_at: they are due at once in real time,
 * also for events of a test clock (whose created_at is the clock's time). The dunning emails an
 * event causes (store/emails-queue.ts) are queued here too.
 */
export async function insertEvents(tx: Transaction<Database> | Db, events: readonly EventToWrite[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const rows = events.slice(i, i + 500).map((e) => ({
      id: newId('evt'),
      account_id: e.accountId,
      livemode: e.livemode,
      type: e.type,
      data: e.data,
      created_at: e.createdAt,
      object_id: e.objectId,
    }));
    // The events and their deliveries in one statement (one round trip inside the transaction);
    // `ord` keeps the events' sequence in the order they were given.
    await sql`
      with v as (
        select * from rows from (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as (id text, account_id text, livemode boolean, type text, data jsonb, created_at timestamptz, object_id text))
          with ordinality as v(id, account_id, livemode, type, data, created_at, object_id, ord)
      ), inserted as (
        insert into events (id, account_id, livemode, type, api_version, data, created_at, object_id)
        select id, account_id, livemode, type, ${API_VERSION}, data, created_at, object_id from v order by ord
      )
      insert into webhook_deliveries (id, account_id, livemode, event_id, endpoint_id, status, attempts, created_at, updated_at)
      select ${DELIVERY_ID}, v.account_id, v.livemode, v.id, w.id, 'pending', 0, v.created_at, v.created_at
      from v
      join webhook_endpoints w on w.account_id = v.account_id and w.livemode = v.livemode and w.status = 'enabled'
        and w.enabled_events ?| array[v.type, '*']
      order by v.ord, w.seq`.execute(tx);
  }
  await queueEmails(tx, causesOfEvents(events));
}

export async function getEvent(db: Db, scope: Scope, id: string): Promise<EventRow> {
  const row = await db.selectFrom('events').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('id', '=', id).executeTakeFirst();
  if (!row) throw missingResource('event', id);
  return row;
}

export interface ListEventsQuery {
  type?: string | undefined;
  createdGte?: Date | undefined;
  createdLte?: Date | undefined;
  objectId?: string | undefined;
  limit: number;
  startingAfter?: string | undefined;
}

export async function listEvents(db: Db, scope: Scope, q: ListEventsQuery): Promise<{ data: EventRow[]; hasMore: boolean }> {
  let query = db.selectFrom('events').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode);
  if (q.type) query = q.type.endsWith('.*') ? query.where('type', 'like', `${q.type.slice(0, -1)}%`) : query.where('type', '=', q.type);
  if (q.createdGte) query = query.where('created_at', '>=', q.createdGte);
  if (q.createdLte) query = query.where('created_at', '<=', q.createdLte);
  if (q.objectId) query = query.where('object_id', '=', q.objectId);
  if (q.startingAfter) query = query.where('seq', '<', await cursorSeq(db, 'events', 'event', scope, q.startingAfter));
  const rows = await query.orderBy('seq', 'desc').limit(q.limit + 1).execute();
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}
