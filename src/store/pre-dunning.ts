import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { CardExpiryChecksTable } from './schema-dunning.ts';
import type { Insertable } from 'kysely';

// Pre-dunning's reads and writes (engine/pre-dunning.ts). Each customer's latest paid payment under
// Auto Rescue is checked once (a card_expiry_checks row), and a check whose time has come — on the
// payment's clock: a test clock's frozen time — is settled once, under a row lock, so overlapping
// workers and cron calls queue its email at most once (and emails are unique per payment and kind).

export interface PaidToCheck {
  account_id: string;
  livemode: boolean;
  id: string;
  customer_id: string;
  payment_method: string;
  test_clock: string | null;
  gateway: string | null;
  /** This payment's and the one before's creation (the billing dates), newest first. */
  paid_at: Date[];
}

/** Latest paid payments of customers with an email that have no check yet. */
export async function paidPaymentsToCheck(db: Db, limit: number): Promise<PaidToCheck[]> {
  const { rows } = await sql<Omit<PaidToCheck, 'paid_at'> & { paid_at: (Date | string)[] }>`
    select p.account_id, p.livemode, p.id, p.customer_id, p.payment_method, p.test_clock,
      (select a.gateway from attempts a where a.account_id = p.account_id and a.payment_id = p.id order by a.number desc limit 1) as gateway,
      array(select q.created_at from payments q where q.account_id = p.account_id and q.customer_id = p.customer_id and q.status = 'succeeded'
            order by q.seq desc limit 2) as paid_at
    from payments p
    join customers c on c.account_id = p.account_id and c.id = p.customer_id
    where p.status = 'succeeded' and p.rescue_policy is not null and c.email is not null
      and not exists (select 1 from card_expiry_checks k where k.account_id = p.account_id and k.payment_id = p.id)
      and not exists (select 1 from payments n where n.account_id = p.account_id and n.customer_id = p.customer_id and n.status = 'succeeded' and n.seq > p.seq)
    order by p.seq
    limit ${limit}`.execute(db);
  return rows.map((r) => ({ ...r, paid_at: r.paid_at.map((d) => (d instanceof Date ? d : new Date(d))) }));
}

export async function insertChecks(db: Db, rows: readonly Insertable<CardExpiryChecksTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('card_expiry_checks').values([...rows]).onConflict((oc) => oc.columns(['account_id', 'payment_id']).doNothing()).execute();
}

export interface DueCheck {
  account_id: string;
  livemode: boolean;
  payment_id: string;
  /** The payment's clock now. */
  now: Date;
}

/** Checks whose send time has come on their payment's clock (a clock that is advancing waits). */
export async function dueChecks(db: Db, wallNow: Date, limit: number): Promise<DueCheck[]> {
  const { rows } = await sql<DueCheck>`
    select k.account_id, k.livemode, k.payment_id, coalesce(tc.frozen_time, ${wallNow}::timestamptz) as now
    from card_expiry_checks k
    left join test_clocks tc on tc.id = k.test_clock
    where k.done_at is null and k.send_at is not null and (tc.id is null or tc.status = 'ready')
      and k.send_at <= coalesce(tc.frozen_time, ${wallNow}::timestamptz)
    order by k.send_at
    limit ${limit}`.execute(db);
  return rows.map((r) => ({ ...r, now: r.now instanceof Date ? r.now : new Date(r.now) }));
}
