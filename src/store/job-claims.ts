import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.ts';

// The one claim/lease implementation behind every worker job (engine/jobs.ts). A job's queue is a
// table; a spec says which of its rows are due, in what order, and which columns mark a claim. A
// claim is one statement, the same SQL on Postgres and PGlite:
//
//   with due as (select <key> from <table> t [join …] where <due> and <lease free>
//                order by <order> limit <n> for update of t skip locked),
//        claimed as (update <table> t set <lease marks> from due where <key matches> returning t.*)
//   select * from claimed                       -- or the spec's own tail
//
// SKIP LOCKED: two workers claiming at once take disjoint rows and never wait on each other. The
// lease: a claimed row carries its worker and the instant its claim ends; once that has passed the
// row is due again (its worker died) and another worker takes it over, so every job runs at least
// once. A worker that still holds a row checks `claimed_by` when it writes (its lease may have run
// out and the row moved on).

/** The moment of a claim. */
export interface ClaimAt {
  workerId: string;
  /** Wall time: what is due, whether a lease has run out. */
  now: Date;
  /** The end of the lease this claim takes. */
  leaseUntil: Date;
}

/**
 * How a claim is marked and when it ends.
 * - `holder`: `claimedBy` and `expiresAt` are set; a row is free when `expiresAt` is null or past
 *   (`reentrant`: or already held by this worker).
 * - `holder` with `freeWhen: 'due'`: the due condition alone excludes claimed rows (a claim moves the
 *   row out of its due status, e.g. planned → processing), and a lapsed claim is recovered by another
 *   spec (attempts processing past their lease); the lease columns are still set.
 * - `postpone`: the due time is the lease: a claim moves `column` to the lease's end, and the row is
 *   due again when `column <= now` (a claim nobody finishes comes back by itself).
 */
export type LeaseSpec =
  | { kind: 'holder'; claimedBy: string; expiresAt: string; reentrant?: boolean; freeWhen?: 'lease' | 'due' }
  | { kind: 'postpone'; column: string };

export interface ClaimSpec<R = Record<string, unknown>> {
  /** The queue; `t` is its alias in every fragment. */
  table: string;
  /** Its key columns: how the chosen rows are found again. */
  key: readonly string[];
  /** Other rows the choice reads (joined, with their own aliases); only `t` rows are locked. */
  join?: (at: ClaimAt) => RawBuilder<unknown>;
  /** Which rows wait to be claimed (status, due time), leases aside. */
  due: (at: ClaimAt) => RawBuilder<unknown>;
  /** The order of claiming: due time first, then a tiebreak. */
  order: RawBuilder<unknown>;
  lease: LeaseSpec;
  /** More assignments made by the claim (e.g. `status = 'running'`). */
  mark?: (at: ClaimAt) => RawBuilder<unknown>;
  /** Columns of the choice carried into `claimed` (name → expression over `t` and the join). */
  carry?: Readonly<Record<string, string>>;
  /**
   * The statement's tail after the `claimed` CTE (the claimed rows plus carried columns): further
   * CTEs starting with a comma, then the final select. Default: `select * from claimed`.
   */
  tail?: (at: ClaimAt) => RawBuilder<unknown>;
  /** Shapes the returned rows (order, nesting). */
  shape?: (rows: Record<string, unknown>[]) => R[];
}

/** Claims up to `limit` due rows of a spec for `workerId` until `leaseUntil`. */
export async function claimDue<R>(db: Db, spec: ClaimSpec<R>, o: ClaimAt & { limit: number }): Promise<R[]> {
  if (o.limit <= 0) return [];
  const at: ClaimAt = { workerId: o.workerId, now: o.now, leaseUntil: o.leaseUntil };
  const col = (c: string) => sql.ref(`t.${c}`);
  const keys = sql.join(spec.key.map(col));
  const carried = Object.entries(spec.carry ?? {});
  const carry = carried.length ? sql`, ${sql.join(carried.map(([name, expr]) => sql`${sql.raw(expr)} as ${sql.ref(name)}`))}` : sql``;
  const carryOut = carried.length ? sql`, ${sql.join(carried.map(([name]) => sql.ref(`due.${name}`)))}` : sql``;
  const same = sql.join(spec.key.map((k) => sql`${col(k)} = ${sql.ref(`due.${k}`)}`), sql` and `);
  const lease = spec.lease;
  let free: RawBuilder<unknown>;
  let marks: RawBuilder<unknown>;
  if (lease.kind === 'postpone') {
    free = sql`${col(lease.column)} <= ${o.now}`;
    marks = sql`${sql.ref(lease.column)} = ${o.leaseUntil}`;
  } else {
    free =
      lease.freeWhen === 'due'
        ? sql`true`
        : sql`(${col(lease.expiresAt)} is null or ${col(lease.expiresAt)} < ${o.now}${lease.reentrant ? sql` or ${col(lease.claimedBy)} = ${o.workerId}` : sql``})`;
    marks = sql`${sql.ref(lease.claimedBy)} = ${o.workerId}, ${sql.ref(lease.expiresAt)} = ${o.leaseUntil}`;
  }
  const extra = spec.mark ? sql`, ${spec.mark(at)}` : sql``;
  const result = await sql<Record<string, unknown>>`
    with due as (
      select ${keys}${carry} from ${sql.table(spec.table)} t ${spec.join ? spec.join(at) : sql``}
      where (${spec.due(at)}) and ${free}
      order by ${spec.order}
      limit ${o.limit}
      for update of t skip locked
    ), claimed as (
      update ${sql.table(spec.table)} t set ${marks}${extra}
      from due where ${same}
      returning t.*${carryOut}
    )
    ${spec.tail ? spec.tail(at) : sql`select * from claimed`}`.execute(db);
  return spec.shape ? spec.shape(result.rows) : (result.rows as R[]);
}

/**
 * Ends now every lease `workerId` holds under a spec, as if the worker had died: a stopping worker
 * whose work did not finish in its grace period hands it over at once instead of after the lease
 * (attempts in flight are then reconciled under their idempotency keys by the next worker). A
 * `postpone` lease names no holder and ends by itself.
 */
export async function endClaims(db: Db, spec: Pick<ClaimSpec, 'table' | 'lease'>, workerId: string, now: Date): Promise<number> {
  const lease = spec.lease;
  if (lease.kind !== 'holder') return 0;
  const result = await sql`
    update ${sql.table(spec.table)} set ${sql.ref(lease.expiresAt)} = ${now}
    where ${sql.ref(lease.claimedBy)} = ${workerId} and ${sql.ref(lease.expiresAt)} > ${now}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
