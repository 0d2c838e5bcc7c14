import { DEFAULT_AUTO_RESCUE, type AutoRescueDefaults } from '../domain/auto-rescue-policy.ts';
import { mergeDunning, type DunningSettings } from '../domain/dunning.ts';
import type { Db } from './db.ts';

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

export async function getSettings(db: Db, accountId: string, livemode: boolean): Promise<AccountSettings> {
  const row = await db
    .selectFrom('account_settings')
    .select(['auto_rescue', 'gateway', 'gateways', 'recovery', 'dunning'])
    .where('account_id', '=', accountId)
    .where('livemode', '=', livemode)
    .executeTakeFirst();
  return {
    autoRescue: { ...DEFAULT_AUTO_RESCUE, ...((row?.auto_rescue as Partial<AutoRescueDefaults>) ?? {}) },
    gateway: (row?.gateway as GatewaySettings) ?? defaultGateway(livemode),
    gateways: (row?.gateways as NamedGateway[] | undefined) ?? [],
    recovery: { ...DEFAULT_RECOVERY_SETTINGS, ...((row?.recovery as Partial<RecoverySettings> | undefined) ?? {}) },
    dunning: mergeDunning(livemode, row?.dunning as Partial<DunningSettings> | null | undefined),
  };
}

export async function saveSettings(db: Db, accountId: string, livemode: boolean, settings: AccountSettings, now: Date): Promise<void> {
  const values = {
    account_id: accountId,
    livemode,
    auto_rescue: JSON.stringify(settings.autoRescue),
    gateway: JSON.stringify(settings.gateway),
    gateways: JSON.stringify(settings.gateways),
    recovery: JSON.stringify(settings.recovery),
    dunning: JSON.stringify(settings.dunning),
    updated_at: now,
  };
  await db
    .insertInto('account_settings')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['account_id', 'livemode']).doUpdateSet({ auto_rescue: values.auto_rescue, gateway: values.gateway, gateways: values.gateways, recovery: values.recovery, dunning: values.dunning, updated_at: now }),
    )
    .execute();
}
