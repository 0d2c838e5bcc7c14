import type { EmailFacts } from '../store/emails-queue.ts';
import type { EmailRow } from '../store/schema.ts';
import { renderEmail, type EmailLink, type RenderedEmail } from '../web/emails/render.ts';
import { hostedPageUrl, merchantPageUrl, type LinkSigner } from './dunning-links.ts';

// An email row as the customer reads it: its facts through its kind's template, with the signed
// link built now (the same token every time: it depends only on the row).

export interface LinkSettings {
  signer: LinkSigner;
  /** Rescue's public base URL, where the hosted update-payment page is served. */
  publicUrl: string;
  /** Links expire this many days after the email was queued, on the payment's clock. */
  linkDays: number;
}

export function linkOf(row: Pick<EmailRow, 'account_id' | 'livemode' | 'payment_id' | 'created_at'>, facts: EmailFacts, s: LinkSettings): EmailLink | null {
  const link = facts.link;
  if (!link) return null;
  if (link.type === 'stripe') return { url: link.url, expiresAt: null };
  const expiresAt = new Date(row.created_at.getTime() + s.linkDays * 86_400_000);
  const token = s.signer.sign({ accountId: row.account_id, livemode: row.livemode, paymentId: row.payment_id, expiresAt });
  return { url: link.type === 'merchant' ? merchantPageUrl(link.url, row.payment_id, token) : hostedPageUrl(s.publicUrl, row.payment_id, token), expiresAt };
}

export function renderRow(row: EmailRow, s: LinkSettings): RenderedEmail {
  const facts = row.facts as EmailFacts;
  return renderEmail(row.kind, { facts, link: linkOf(row, facts, s), at: row.created_at });
}
