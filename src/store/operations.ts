import { sql } from 'kysely';
import type { Db } from './db.ts';

// Aggregate figures an operator watches (no tenant's data, only counts across all of them).
export interface Backlog {
  attemptsDue: number;
  attemptsProcessing: number;
  attemptsPlanned: number;
  rescuesActive: number;
  deliveriesPending: number;
  deliveriesDue: number;
  clocksAdvancing: number;
}

export async function backlog(db: Db, now: Date): Promise<Backlog> {
  const { rows } = await sql<Record<keyof Backlog, number>>`
    select
      (select count(*) from attempts where status = 'planned' and planned_at <= ${now} and test_clock is null)::int8 as "attemptsDue",
      (select count(*) from attempts where status = 'processing')::int8 as "attemptsProcessing",
      (select count(*) from attempts where status = 'planned')::int8 as "attemptsPlanned",
      (select count(*) from rescues where status = 'active')::int8 as "rescuesActive",
      (select count(*) from webhook_deliveries where status = 'pending')::int8 as "deliveriesPending",
      (select count(*) from webhook_deliveries where status = 'pending' and (next_attempt_at is null or next_attempt_at <= ${now}))::int8 as "deliveriesDue",
      (select count(*) from test_clocks where status = 'advancing')::int8 as "clocksAdvancing"`.execute(db);
  return rows[0]!;
}
