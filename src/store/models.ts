import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { ModelRow } from './schema.ts';
import { newId } from '../ids.ts';

// Versioned models per account and mode. Exactly one active model per kind (a partial unique
// index); a new version becomes active only when its evaluation beats the incumbent's.

/** The retry-timing model, and the account's pay-calendar mixture (predict/payday-mix.ts). */
export type ModelKind = ModelRow['kind'];

export async function activeModel(db: Db, accountId: string, livemode: boolean, kind: ModelKind): Promise<ModelRow | null> {
  const row = await db.selectFrom('models').selectAll()
    .where('account_id', '=', accountId).where('livemode', '=', livemode).where('kind', '=', kind).where('status', '=', 'active')
    .executeTakeFirst();
  return row ?? null;
}

export async function listModels(db: Db, accountId: string, livemode: boolean, kind: ModelKind): Promise<ModelRow[]> {
  return db.selectFrom('models').selectAll()
    .where('account_id', '=', accountId).where('livemode', '=', livemode).where('kind', '=', kind)
    .orderBy('version', 'desc').execute();
}

/** Records a new version; when `activate`, it replaces the active one in the same transaction. */
export async function recordModel(db: Db, m: { accountId: string; livemode: boolean; kind: ModelKind; params: unknown; metrics: unknown; trainedAt: Date; activate: boolean }): Promise<ModelRow> {
  return db.transaction().execute(async (tx) => {
    // Serialise versions per account and kind.
    await sql`select pg_advisory_xact_lock(hashtext(${`models|${m.accountId}|${m.livemode}|${m.kind}`}))`.execute(tx);
    const last = await tx.selectFrom('models').select((eb) => eb.fn.max('version').as('v'))
      .where('account_id', '=', m.accountId).where('livemode', '=', m.livemode).where('kind', '=', m.kind).executeTakeFirst();
    const version = Number(last?.v ?? 0) + 1;
    if (m.activate) await retireActiveModel(tx as unknown as Db, m.accountId, m.livemode, m.kind);
    return tx.insertInto('models').values({
      id: newId('mdl'),
      account_id: m.accountId,
      livemode: m.livemode,
      kind: m.kind,
      version,
      status: m.activate ? 'active' : 'candidate',
      params: JSON.stringify(m.params),
      metrics: JSON.stringify(m.metrics),
      trained_at: m.trainedAt,
    }).returningAll().executeTakeFirstOrThrow();
  });
}

/** Retires the active model of a kind, if any: its latest judgement went against it. */
export async function retireActiveModel(db: Db, accountId: string, livemode: boolean, kind: ModelKind): Promise<void> {
  await db.updateTable('models').set({ status: 'retired' })
    .where('account_id', '=', accountId).where('livemode', '=', livemode).where('kind', '=', kind).where('status', '=', 'active').execute();
}

/** Accounts (and modes) with finished retries: the ones `rescue train` looks at. */
export async function accountsWithRetries(db: Db): Promise<{ account_id: string; livemode: boolean }[]> {
  const rows = await sql<{ account_id: string; livemode: boolean }>`
    select distinct account_id, livemode from attempts where number > 1 and status in ('succeeded', 'failed')`.execute(db);
  return rows.rows;
}
