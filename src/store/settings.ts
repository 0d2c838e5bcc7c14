import { DEFAULT_AUTO_RESCUE, type AutoRescueDefaults } from '../domain/auto-rescue-policy.ts';
import { mergeDunning, type DunningSettings } from '../domain/dunning.ts';
import { sql, type Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './schema.ts';

/** `stripe`: the account's Stripe connection (src/gateways/stripe-gateway.ts), added when Stripe is connected. */
export type GatewaySettings = { type: 'none' } | { type: 'sandbox' } | { type: 'http'; url: string; secret: string } | { type: 'stripe' };

/** A gateway beside the default one, chosen by name or by the shape of the token (gateway-routing.ts). */
export interface NamedGateway {
  name: string;
  gateway: Exclude<GatewaySettings, { type: 'none' }>;
  tokenPrefixes: string[];
}

export interface RecoverySettings {
  /** Share of hand-offs held back on a plain fixed schedule, 0–20 (domain/experiment.ts). */
  controlGroupPercent: number;
}

export const DEFAULT_RECOVERY_SETTINGS: RecoverySettings = { controlGroupPercent: 0 };

/** Test mode charges the simulated network until told otherwise; live mode charges nothing until a real gateway is set. */
export const defaultGateway = (livemode: boolean): GatewaySettings => (livemode ? { type: 'none' } : { type: 'sandbox' });

export interface AccountSettings {
  autoRescue: AutoRescueDefaults;
  /** The default gateway. */
  gateway: GatewaySettings;
  gateways: NamedGateway[];
  recovery: RecoverySettings;
  /** Customer emails and the update-payment page (domain/dunning.ts). */
  dunning: DunningSettings;
}

export async function getSettings(db: Db | Transaction<Database>, accountId: string, livemode: boolean): Promise<AccountSettings> {
  const row = await db
    .selectFrom('account_settings')
    .select(['auto_rescue', 'gateway', 'gateways', 'recovery', 'dunning'])
    .where('account_id', '=', accountId)
    .where('livemode', '=', livemode)
    .executeTakeFirst();
  return settingsOf(row, livemode);
}

/** The key of an account's settings in a mode, in the maps `getSettingsFor` returns. */
export const settingsKey = (accountId: string, livemode: boolean): string => `${accountId}|${livemode}`;

/** The settings of several accounts (and modes) in one read, by `settingsKey`: a batch reads them once and passes them down. */
export async function getSettingsFor(db: Db | Transaction<Database>, scopes: readonly { accountId: string; livemode: boolean }[]): Promise<Map<string, AccountSettings>> {
  const out = new Map<string, AccountSettings>();
  if (scopes.length === 0) return out;
  const rows = await db
    .selectFrom('account_settings')
    .select(['account_id', 'livemode', 'auto_rescue', 'gateway', 'gateways', 'recovery', 'dunning'])
    .where(sql<boolean>`account_id = any(${[...new Set(scopes.map((s) => s.accountId))]}::text[])`)
    .execute();
  const byKey = new Map(rows.map((r) => [settingsKey(r.account_id, r.livemode), r]));
  for (const s of scopes) {
    const key = settingsKey(s.accountId, s.livemode);
    if (!out.has(key)) out.set(key, settingsOf(byKey.get(key), s.livemode));
  }
  return out;
}

function settingsOf(row: { auto_rescue: unknown; gateway: unknown; gateways: unknown; recovery: unknown; dunning: unknown } | undefined, livemode: boolean): AccountSettings {
  return {
    autoRescue: { ...DEFAULT_AUTO_RESCUE, ...((row?.auto_rescue as Partial<AutoRescueDefaults>) ?? {}) },
    gateway: (row?.gateway as GatewaySettings) ?? defaultGateway(livemode),
    gateways: (row?.gateways as NamedGateway[] | undefined) ?? [],
    recovery: { ...DEFAULT_RECOVERY_SETTINGS, ...((row?.recovery as Partial<RecoverySettings> | undefined) ?? {}) },
    dunning: mergeDunning(livemode, row?.dunning as Partial<DunningSettings> | null | undefined),
  };
}

/** The sections of the settings row, by the column each is stored in. */
const COLUMNS = { autoRescue: 'auto_rescue', gateway: 'gateway', gateways: 'gateways', recovery: 'recovery', dunning: 'dunning' } as const;

/**
 * Changes some sections of an account's settings atomically: the row is locked (`select … for
 * update`) while `change` computes the new sections from the current ones, and only the sections it
 * returns are written. Two saves at once (a dunning save and a Stripe OAuth callback adding its
 * gateway) both survive: the second reads what the first wrote. `change` may throw to refuse (the
 * transaction rolls back). Returns the settings as saved.
 */
export async function updateSettings(
  db: Db,
  accountId: string,
  livemode: boolean,
  now: Date,
  change: (current: AccountSettings) => Partial<AccountSettings>,
): Promise<AccountSettings> {
  return db.transaction().execute(async (tx) => {
    // The row exists before it is locked, so a first save of two at once also serialises.
    await tx
      .insertInto('account_settings')
      .values({ account_id: accountId, livemode, auto_rescue: JSON.stringify(DEFAULT_AUTO_RESCUE), gateway: JSON.stringify(defaultGateway(livemode)), updated_at: now })
      .onConflict((oc) => oc.columns(['account_id', 'livemode']).doNothing())
      .execute();
    await tx.selectFrom('account_settings').select('account_id').where('account_id', '=', accountId).where('livemode', '=', livemode).forUpdate().executeTakeFirst();
    const current = await getSettings(tx, accountId, livemode);
    const patch = change(current);
    const set: Record<string, string | Date> = { updated_at: now };
    for (const [key, column] of Object.entries(COLUMNS) as [keyof AccountSettings, string][]) {
      if (patch[key] !== undefined) set[column] = JSON.stringify(patch[key]);
    }
    await tx.updateTable('account_settings').set(set).where('account_id', '=', accountId).where('livemode', '=', livemode).execute();
    return { ...current, ...patch };
  });
}

/** Replaces every section at once (first start, tests); a save of some sections is `updateSettings`. */
export async function saveSettings(db: Db, accountId: string, livemode: boolean, settings: AccountSettings, now: Date): Promise<void> {
  await updateSettings(db, accountId, livemode, now, () => settings);
}
