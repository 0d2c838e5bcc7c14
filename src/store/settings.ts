import { DEFAULT_AUTO_RESCUE, type AutoRescueDefaults } from '../domain/auto-rescue-policy.ts';
import type { Db } from './db.ts';

export type GatewaySettings = { type: 'none' } | { type: 'sandbox' } | { type: 'http'; url: string; secret: string };

/** Test mode charges the simulated network until told otherwise; live mode charges nothing until a real gateway is set. */
export const defaultGateway = (livemode: boolean): GatewaySettings => (livemode ? { type: 'none' } : { type: 'sandbox' });

export interface AccountSettings {
  autoRescue: AutoRescueDefaults;
  gateway: GatewaySettings;
}

export async function getSettings(db: Db, accountId: string, livemode: boolean): Promise<AccountSettings> {
  const row = await db
    .selectFrom('account_settings')
    .select(['auto_rescue', 'gateway'])
    .where('account_id', '=', accountId)
    .where('livemode', '=', livemode)
    .executeTakeFirst();
  return {
    autoRescue: { ...DEFAULT_AUTO_RESCUE, ...((row?.auto_rescue as Partial<AutoRescueDefaults>) ?? {}) },
    gateway: (row?.gateway as GatewaySettings) ?? defaultGateway(livemode),
  };
}

export async function saveSettings(db: Db, accountId: string, livemode: boolean, settings: AccountSettings, now: Date): Promise<void> {
  const values = {
    account_id: accountId,
    livemode,
    auto_rescue: JSON.stringify(settings.autoRescue),
    gateway: JSON.stringify(settings.gateway),
    updated_at: now,
  };
  await db
    .insertInto('account_settings')
    .values(values)
    .onConflict((oc) => oc.columns(['account_id', 'livemode']).doUpdateSet({ auto_rescue: values.auto_rescue, gateway: values.gateway, updated_at: now }))
    .execute();
}
