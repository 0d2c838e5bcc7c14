import type { Transaction } from 'kysely';
import { API_VERSION, type NewEvent } from '../domain/events.ts';
import { missingResource } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Db } from './db.ts';
import type { Database, EventRow } from './schema.ts';
import type { Scope } from './payments.ts';

export interface EventToWrite extends NewEvent {
  accountId: string;
  livemode: boolean;
  createdAt: Date;
}

/** Inside the caller's transaction, so an event exists exactly when its change does. */
export async function insertEvents(tx: Transaction<Database> | Db, events: readonly EventToWrite[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    await tx
      .insertInto('events')
      .values(
        events.slice(i, i + 500).map((e) => ({
          id: newId('evt'),
          account_id: e.accountId,
          livemode: e.livemode,
          type: e.type,
          api_version: API_VERSION,
          data: JSON.stringify(e.data),
          created_at: e.createdAt,
          object_id: e.objectId,
        })),
      )
      .execute();
  }
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
  if (q.startingAfter) {
    const cursor = await db.selectFrom('events').select('seq').where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('id', '=', q.startingAfter).executeTakeFirst();
    if (!cursor) throw missingResource('event', q.startingAfter, 'starting_after');
    query = query.where('seq', '<', cursor.seq);
  }
  const rows = await query.orderBy('seq', 'desc').limit(q.limit + 1).execute();
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}
