import { randomBytes } from 'node:crypto';
import { randomString } from '../ids.ts';
import type { Db } from './db.ts';
import type { Scope } from './payments.ts';

// The customer-portal widget's settings per account and mode (migration 0019): the signing secret,
// the origins allowed to frame it, the branding.

export interface WidgetBranding {
  /** The buttons' colour, `#rrggbb`; null: Rescue's blue. */
  accent_color: string | null;
  /** An https image shown above the list; null: the merchant's name only. */
  logo_url: string | null;
}

export interface WidgetSettings {
  allowedOrigins: string[];
  branding: WidgetBranding;
  keyId: string | null;
  secretCreatedAt: Date | null;
}

const NO_BRANDING: WidgetBranding = { accent_color: null, logo_url: null };

export async function getWidgetSettings(db: Db, scope: Scope): Promise<WidgetSettings> {
  const row = await db.selectFrom('widget_settings').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).executeTakeFirst();
  return {
    allowedOrigins: (row?.allowed_origins as string[] | undefined) ?? [],
    branding: { ...NO_BRANDING, ...((row?.branding as Partial<WidgetBranding> | undefined) ?? {}) },
    keyId: row?.key_id ?? null,
    secretCreatedAt: row?.secret_created_at ?? null,
  };
}

export async function saveWidgetSettings(db: Db, scope: Scope, s: { allowedOrigins: string[]; branding: WidgetBranding }, now: Date): Promise<void> {
  const values = { allowed_origins: JSON.stringify(s.allowedOrigins), branding: JSON.stringify(s.branding), updated_at: now };
  await db
    .insertInto('widget_settings')
    .values({ account_id: scope.accountId, livemode: scope.livemode, ...values })
    .onConflict((oc) => oc.columns(['account_id', 'livemode']).doUpdateSet(values))
    .execute();
}

/** A new secret (and key id) replaces the old one at once; returned only here, never read back by the API. */
export async function rotateWidgetSecret(db: Db, scope: Scope, now: Date): Promise<{ secret: string; createdAt: Date }> {
  const keyId = randomString(24);
  const secret = `wsec_${keyId}_${randomBytes(32).toString('base64url')}`;
  const values = { key_id: keyId, secret, secret_created_at: now, updated_at: now };
  await db
    .insertInto('widget_settings')
    .values({ account_id: scope.accountId, livemode: scope.livemode, ...values })
    .onConflict((oc) => oc.columns(['account_id', 'livemode']).doUpdateSet(values))
    .execute();
  return { secret, createdAt: now };
}

/** The account, mode and secret a token's key id names, with the widget's settings. */
export async function findWidgetKey(db: Db, keyId: string): Promise<{ scope: Scope; secret: string; settings: WidgetSettings } | null> {
  const row = await db.selectFrom('widget_settings').selectAll().where('key_id', '=', keyId).executeTakeFirst();
  if (!row?.secret) return null;
  const scope = { accountId: row.account_id, livemode: row.livemode };
  return { scope, secret: row.secret, settings: await getWidgetSettings(db, scope) };
}
