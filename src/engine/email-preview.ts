import { customerReason, KINDS_WITH_LINK, type DunningSettings, type EmailKind } from '../domain/dunning.ts';
import type { Db } from '../store/db.ts';
import { getSettings } from '../store/settings.ts';
import type { EmailFacts } from '../store/emails-queue.ts';
import { renderEmail, type RenderedEmail } from '../web/emails/render.ts';
import { hostedPageUrl } from './dunning-links.ts';

// What a customer would get, for the settings page's live preview: each email kind through the
// same templates the outbox uses, with the account's (possibly unsaved) dunning settings and an
// example customer. Nothing is queued or sent.

export interface EmailPreview extends RenderedEmail {
  kind: EmailKind;
  from_name: string;
  reply_to: string | null;
}

export async function previewEmail(db: Db, accountId: string, s: Pick<DunningSettings, 'from_name' | 'reply_to' | 'logo_url' | 'brand_color'>, o: { kind: EmailKind; locale: string | null; publicUrl: string; now: Date }): Promise<EmailPreview> {
  const account = await db.selectFrom('accounts').select('business_name').where('id', '=', accountId).executeTakeFirstOrThrow();
  const facts: EmailFacts = {
    business_name: account.business_name,
    from_name: s.from_name,
    reply_to: s.reply_to,
    customer_name: 'Ada Lovelace',
    amount: 4999,
    currency: 'usd',
    locale: o.locale,
    timezone: 'America/New_York',
    reason: customerReason('insufficient_funds'),
    next_retry_at: o.kind === 'payment_failed' || o.kind === 'retry_reminder' ? new Date(o.now.getTime() + 3 * 86_400_000).toISOString() : null,
    link: KINDS_WITH_LINK.has(o.kind) ? { type: 'rescue' } : null,
    logo_url: s.logo_url,
    brand_color: s.brand_color,
  };
  // The example link goes nowhere: "example" is not a signed token, so the hosted page refuses it.
  const link = facts.link ? { url: hostedPageUrl(o.publicUrl, 'pay_example', 'example'), expiresAt: new Date(o.now.getTime() + 30 * 86_400_000) } : null;
  const rendered = renderEmail(o.kind, { facts, link, at: o.now });
  return { kind: o.kind, from_name: s.from_name ?? account.business_name, reply_to: s.reply_to, ...rendered };
}

/** Branding and sender the page has not saved yet; a field left out (undefined) keeps the saved value. */
export type UnsavedDunning = Partial<Pick<DunningSettings, 'from_name' | 'reply_to' | 'logo_url' | 'brand_color'>>;

/** The preview under the account's saved dunning settings with the unsaved values on top. */
export async function previewEmailWith(db: Db, scope: { accountId: string; livemode: boolean }, unsaved: UnsavedDunning, o: { kind: EmailKind; locale: string | null; publicUrl: string; now: Date }): Promise<EmailPreview> {
  const saved = (await getSettings(db, scope.accountId, scope.livemode)).dunning;
  const pick = <K extends keyof UnsavedDunning>(k: K) => (unsaved[k] === undefined ? saved[k] : unsaved[k]) ?? null;
  return previewEmail(db, scope.accountId, { from_name: pick('from_name'), reply_to: pick('reply_to'), logo_url: pick('logo_url'), brand_color: pick('brand_color') }, o);
}
