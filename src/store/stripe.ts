import { sql, type Transaction } from 'kysely';
import { newId } from '../ids.ts';
import { decrypt, encrypt, keyIdOf, type Keyring } from '../stripe/crypto.ts';
import type { Db } from './db.ts';
import { claimDue, type ClaimSpec } from './job-claims.ts';
import type { Scope } from './payments.ts';
import type { Database, StripeBackfillObject, StripeBackfillRow, StripeConnectionRow, StripeConnectionStatus, StripeMode } from './schema.ts';

// Stripe rows: the connection (secrets encrypted), processed events, and the imported history.

export interface StripeConnection {
  accountId: string;
  livemode: boolean;
  status: StripeConnectionStatus;
  /** Why it is not connected: deauthorized in Stripe, disconnected in Rescue, a refused refresh. */
  statusReason: string | null;
  kind: 'oauth' | 'api_key';
  stripeAccountId: string | null;
  scope: string | null;
  mode: StripeMode;
  /** The key Rescue calls Stripe with for this account: the OAuth access token or the pasted key. */
  secretKey: string | null;
  refreshToken: string | null;
  webhookSecret: string | null;
  connectedAt: Date;
  disconnectedAt: Date | null;
  tokenRefreshedAt: Date | null;
  /** Set while the connection works but needs the merchant: Stripe refused a lookup (a missing permission). */
  attentionReason: string | null;
  attentionAt: Date | null;
}

type Q = Db | Transaction<Database>;

const SECRET_COLUMNS = ['access_token_enc', 'refresh_token_enc', 'api_key_enc', 'webhook_secret_enc'] as const;

function view(ring: Keyring, row: StripeConnectionRow): StripeConnection {
  const open = (c: string | null) => (c === null ? null : decrypt(ring, c));
  return {
    accountId: row.account_id,
    livemode: row.livemode,
    status: row.status,
    statusReason: row.status_reason,
    kind: row.kind,
    stripeAccountId: row.stripe_account_id,
    scope: row.scope,
    mode: row.mode,
    secretKey: open(row.kind === 'oauth' ? row.access_token_enc : row.api_key_enc),
    refreshToken: open(row.refresh_token_enc),
    webhookSecret: open(row.webhook_secret_enc),
    connectedAt: row.connected_at,
    disconnectedAt: row.disconnected_at,
    tokenRefreshedAt: row.token_refreshed_at,
    attentionReason: row.attention_reason,
    attentionAt: row.attention_at,
  };
}

/**
 * The account's connection in a mode, decrypted. A row whose secrets were encrypted with an older key
 * is re-encrypted with the current one here (the rotation finishes as connections are used).
 */
export async function getStripeConnection(db: Db, ring: Keyring, scope: Scope): Promise<StripeConnection | null> {
  const row = await db.selectFrom('stripe_connections').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).executeTakeFirst();
  if (!row) return null;
  await reencryptIfStale(db, ring, row);
  return view(ring, row);
}

/** The Rescue account a Stripe account is connected to (or needs reconnecting to). */
export async function findConnectionByStripeAccount(db: Db, ring: Keyring, stripeAccountId: string, livemode: boolean): Promise<StripeConnection | null> {
  const row = await db
    .selectFrom('stripe_connections')
    .selectAll()
    .where('stripe_account_id', '=', stripeAccountId)
    .where('livemode', '=', livemode)
    .where('status', '<>', 'disconnected')
    .executeTakeFirst();
  return row ? view(ring, row) : null;
}

/** The Rescue account a Stripe account was last disconnected from (to recognise a redelivered deauthorization). */
export async function lastDisconnectedScope(db: Db, stripeAccountId: string, livemode: boolean): Promise<Scope | null> {
  const row = await db
    .selectFrom('stripe_connections')
    .select(['account_id', 'livemode'])
    .where('stripe_account_id', '=', stripeAccountId)
    .where('livemode', '=', livemode)
    .where('status', '=', 'disconnected')
    .orderBy('disconnected_at', 'desc')
    .executeTakeFirst();
  return row ? { accountId: row.account_id, livemode: row.livemode } : null;
}

async function reencryptIfStale(db: Db, ring: Keyring, row: StripeConnectionRow): Promise<void> {
  const stale = SECRET_COLUMNS.filter((c) => row[c] !== null && keyIdOf(row[c]!) !== ring.current.id);
  if (stale.length === 0) return;
  const set: Partial<Record<(typeof SECRET_COLUMNS)[number], string>> = {};
  for (const c of stale) set[c] = encrypt(ring, decrypt(ring, row[c]!));
  await db.updateTable('stripe_connections').set(set).where('account_id', '=', row.account_id).where('livemode', '=', row.livemode).execute();
}

export interface NewConnection {
  kind: 'oauth' | 'api_key';
  stripeAccountId: string | null;
  scope: string | null;
  mode: StripeMode;
  accessToken?: string | null;
  refreshToken?: string | null;
  apiKey?: string | null;
  at: Date;
}

/** Connects (or reconnects) the account in a mode; the billing webhook secret is kept. */
export async function saveStripeConnection(db: Q, ring: Keyring, scope: Scope, c: NewConnection): Promise<void> {
  const enc = (v: string | null | undefined) => (v ? encrypt(ring, v) : null);
  const values = {
    status: 'connected' as const,
    kind: c.kind,
    stripe_account_id: c.stripeAccountId,
    scope: c.scope,
    mode: c.mode,
    access_token_enc: enc(c.accessToken),
    refresh_token_enc: enc(c.refreshToken),
    api_key_enc: enc(c.apiKey),
    connected_at: c.at,
    disconnected_at: null,
    updated_at: c.at,
    status_reason: null,
    token_refreshed_at: null,
    attention_reason: null,
    attention_at: null,
  };
  await db
    .insertInto('stripe_connections')
    .values({ account_id: scope.accountId, livemode: scope.livemode, webhook_secret_enc: null, ...values })
    .onConflict((oc) => oc.columns(['account_id', 'livemode']).doUpdateSet(values))
    .execute();
}

/** `mode`: the permissions check for it passed, so a refusal recorded earlier is cleared. */
export async function updateStripeConnection(db: Q, ring: Keyring, scope: Scope, o: { mode?: StripeMode; webhookSecret?: string | null; at: Date }): Promise<void> {
  const set: Record<string, unknown> = { updated_at: o.at };
  if (o.mode) Object.assign(set, { mode: o.mode, attention_reason: null, attention_at: null });
  if (o.webhookSecret !== undefined) set.webhook_secret_enc = o.webhookSecret ? encrypt(ring, o.webhookSecret) : null;
  await db.updateTable('stripe_connections').set(set).where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).execute();
}

/**
 * Stripe refused a lookup with a 4xx (a permission the key lacks, an object it may not see): the
 * connection still works but needs the merchant, until a permissions check passes again.
 */
export async function markNeedsAttention(db: Q, scope: Scope, at: Date, reason: string): Promise<void> {
  await db
    .updateTable('stripe_connections')
    .set({ attention_reason: reason, attention_at: at, updated_at: at })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('status', '=', 'connected')
    .execute();
}

/** Forgets every secret of the connection; the row stays as the record that it existed, and why it ended. */
export async function markDisconnected(db: Q, scope: Scope, at: Date, reason: string): Promise<void> {
  await db
    .updateTable('stripe_connections')
    .set({ status: 'disconnected', status_reason: reason, access_token_enc: null, refresh_token_enc: null, api_key_enc: null, webhook_secret_enc: null, disconnected_at: at, updated_at: at })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .execute();
}

/**
 * The key Stripe refused cannot be renewed: forget it (nothing can be charged with it) but keep the
 * connection and its billing webhook secret, so events still arrive until the merchant reconnects.
 */
export async function markNeedsReconnect(db: Q, scope: Scope, at: Date, reason: string): Promise<void> {
  await db
    .updateTable('stripe_connections')
    .set({ status: 'needs_reconnect', status_reason: reason, access_token_enc: null, refresh_token_enc: null, api_key_enc: null, updated_at: at })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('status', '=', 'connected')
    .execute();
}

/** Stores a refreshed OAuth token pair, encrypted; only while the connection is still connected. */
export async function saveRefreshedTokens(db: Q, ring: Keyring, scope: Scope, t: { accessToken: string; refreshToken: string | null; at: Date }): Promise<boolean> {
  const r = await db
    .updateTable('stripe_connections')
    .set({ access_token_enc: encrypt(ring, t.accessToken), ...(t.refreshToken ? { refresh_token_enc: encrypt(ring, t.refreshToken) } : {}), token_refreshed_at: t.at, updated_at: t.at })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('status', '=', 'connected')
    .where('kind', '=', 'oauth')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Claims a Stripe event id for processing; false when it was processed already. */
export async function claimStripeEvent(tx: Q, scope: Scope, e: { id: string; type: string; source: 'connect' | 'billing'; at: Date }): Promise<boolean> {
  const inserted = await tx
    .insertInto('stripe_events')
    .values({ account_id: scope.accountId, livemode: scope.livemode, stripe_event_id: e.id, type: e.type, source: e.source, received_at: e.at })
    .onConflict((oc) => oc.columns(['account_id', 'stripe_event_id']).doNothing())
    .returning('stripe_event_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function stripeEventSeen(db: Q, scope: Scope, eventId: string): Promise<boolean> {
  const row = await db.selectFrom('stripe_events').select('stripe_event_id').where('account_id', '=', scope.accountId).where('stripe_event_id', '=', eventId).executeTakeFirst();
  return row !== undefined;
}

// ── Backfill progress ──────────────────────────────────────────────────────────────────────────

export const BACKFILL_OBJECTS: readonly StripeBackfillObject[] = ['invoices', 'charges', 'subscriptions'];

/** (Re)starts the import of every object type created since `since`. */
export async function startBackfill(db: Q, scope: Scope, since: Date, at: Date): Promise<void> {
  for (const object_type of BACKFILL_OBJECTS) {
    const values = { since, cursor: null, imported: 0, status: 'pending' as const, next_run_at: at, claimed_by: null, lease_expires_at: null, failures: 0, last_error: null, started_at: at, finished_at: null };
    await db
      .insertInto('stripe_backfills')
      .values({ account_id: scope.accountId, livemode: scope.livemode, object_type, ...values })
      .onConflict((oc) => oc.columns(['account_id', 'livemode', 'object_type']).doUpdateSet(values))
      .execute();
  }
}

export async function stopBackfill(db: Q, scope: Scope, at: Date, reason = 'Stripe was disconnected'): Promise<void> {
  await db
    .updateTable('stripe_backfills')
    .set({ status: 'failed', last_error: reason, finished_at: at, claimed_by: null, lease_expires_at: null })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('status', 'in', ['pending', 'running'])
    .execute();
}

/** Due imports: pending and due, or running under an expired lease (its worker died). */
export const dueBackfills: ClaimSpec<StripeBackfillRow> = {
  table: 'stripe_backfills',
  key: ['account_id', 'livemode', 'object_type'],
  due: (at) => sql`(t.status = 'pending' and t.next_run_at <= ${at.now}) or t.status = 'running'`,
  order: sql`t.next_run_at`,
  lease: { kind: 'holder', claimedBy: 'claimed_by', expiresAt: 'lease_expires_at' },
  mark: () => sql`status = 'running'`,
};

/** One due import, claimed with a lease. */
export async function claimDueBackfill(db: Db, o: { workerId: string; now: Date; leaseUntil: Date }): Promise<StripeBackfillRow | null> {
  const [row] = await claimDue(db, dueBackfills, { ...o, limit: 1 });
  return row ?? null;
}

type BackfillKey = Pick<StripeBackfillRow, 'account_id' | 'livemode' | 'object_type'>;

/** Moves the cursor after a page; only while this worker still holds the import. */
export async function saveBackfillProgress(db: Q, b: BackfillKey, workerId: string, cursor: string, imported: number, leaseUntil: Date): Promise<boolean> {
  const r = await db
    .updateTable('stripe_backfills')
    .set({ cursor, imported: sql`imported + ${imported}`, lease_expires_at: leaseUntil })
    .where('account_id', '=', b.account_id)
    .where('livemode', '=', b.livemode)
    .where('object_type', '=', b.object_type)
    .where('claimed_by', '=', workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function finishBackfill(db: Q, b: BackfillKey, workerId: string, o: { status: 'done' | 'pending' | 'failed'; at: Date; nextRunAt?: Date; error?: string | null; failed?: boolean }): Promise<void> {
  await db
    .updateTable('stripe_backfills')
    .set({
      status: o.status,
      claimed_by: null,
      lease_expires_at: null,
      next_run_at: o.nextRunAt ?? o.at,
      last_error: o.error ?? null,
      failures: o.failed ? sql`failures + 1` : 0,
      finished_at: o.status === 'pending' ? null : o.at,
    })
    .where('account_id', '=', b.account_id)
    .where('livemode', '=', b.livemode)
    .where('object_type', '=', b.object_type)
    .where('claimed_by', '=', workerId)
    .execute();
}

export async function listBackfills(db: Db, scope: Scope): Promise<StripeBackfillRow[]> {
  return db.selectFrom('stripe_backfills').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).orderBy('object_type').execute();
}

/**
 * The Rescue test clock a Stripe test clock's payments live on: the one tied to it, else a new one at
 * the Stripe clock's time (named after it). Only in test mode: live mode has no test clocks.
 */
export async function rescueClockFor(tx: Transaction<Database>, scope: Scope, stripeClock: { id: string; frozenTime: Date }, at: Date): Promise<string> {
  const tied = await tx
    .selectFrom('stripe_test_clocks')
    .select('test_clock_id')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('stripe_test_clock_id', '=', stripeClock.id)
    .executeTakeFirst();
  if (tied) return tied.test_clock_id;
  const id = newId('clock');
  await tx
    .insertInto('test_clocks')
    .values({ id, account_id: scope.accountId, name: `Stripe ${stripeClock.id}`, frozen_time: stripeClock.frozenTime, target_time: stripeClock.frozenTime, status: 'ready', claimed_by: null, lease_expires_at: null, created_at: at })
    .execute();
  await tx.insertInto('stripe_test_clocks').values({ account_id: scope.accountId, livemode: scope.livemode, stripe_test_clock_id: stripeClock.id, test_clock_id: id }).execute();
  return id;
}
