import type { EmailFacts } from '../../store/emails-queue.ts';
import { formatDate, formatMoney } from '../../domain/dunning.ts';
import { escapeHtml } from '../escape.ts';
import { translator, type Translate } from '../i18n/translate.ts';

// What every dunning email shares: the greeting, the merchant's sign-off, the link block, and the
// HTML shell. Templates build a list of parts once and get both the plain text and the HTML from it,
// so the two versions never say different things. Words come from the customer's language's
// catalogue (web/i18n), numbers and dates from their locale and time zone.

export interface EmailLink {
  url: string;
  /** null for links that do not expire on our side (Stripe's hosted invoice page). */
  expiresAt: Date | null;
}

export interface RenderInput {
  facts: EmailFacts;
  link: EmailLink | null;
  /** When the email was queued, on the account's clock. */
  at: Date;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** A paragraph of text, or a call to action (a link with its label). */
export type Part = { p: string } | { cta: string; url: string; note?: string };

export const money = (f: EmailFacts) => formatMoney(f.amount, f.currency, f.locale);
export const date = (f: EmailFacts, at: Date | string, withTime = true) => formatDate(typeof at === 'string' ? new Date(at) : at, f.timezone, f.locale, withTime);
export const merchant = (f: EmailFacts) => f.business_name;
export const tr = (f: EmailFacts): Translate => translator(f.locale);

/** What failed, in the customer's words; rows queued before the catalogues carry only English. */
export const reason = (f: EmailFacts) => (f.reason_key ? tr(f)(`reason.${f.reason_key}`) : f.reason);

/** The values most messages take. */
export const common = (f: EmailFacts) => ({ amount: money(f), merchant: merchant(f), reason: reason(f) });

export function greeting(f: EmailFacts): string {
  const t = tr(f);
  return f.customer_name ? t('email.greeting_named', { name: f.customer_name }) : t('email.greeting');
}

/** The call to action for an update link, with its expiry in the customer's zone. */
export function linkPart(f: EmailFacts, link: EmailLink | null): Part[] {
  const t = tr(f);
  if (!link) return [{ p: t('email.contact', { merchant: merchant(f) }) }];
  const label = link.expiresAt ? t('email.cta_update') : t('email.cta_pay');
  const note = link.expiresAt ? t('email.link_until', { date: date(f, link.expiresAt) }) : undefined;
  return [{ cta: label, url: link.url, ...(note ? { note } : {}) }];
}

/** The merchant's button colour, only ever a #rrggbb value (checked again here: it lands in a style attribute). */
const brandColor = (f: EmailFacts) => (f.brand_color && /^#[0-9a-fA-F]{6}$/.test(f.brand_color) ? f.brand_color : '#1a56db');

export function compose(subject: string, f: EmailFacts, parts: readonly Part[]): RenderedEmail {
  const all: Part[] = [{ p: greeting(f) }, ...parts, { p: `— ${merchant(f)}` }];
  const text = all
    .map((part) => ('p' in part ? part.p : `${part.cta}:\n${part.url}${part.note ? `\n(${part.note})` : ''}`))
    .join('\n\n');
  const body = all
    .map((part) =>
      'p' in part
        ? `<p style="margin:0 0 16px">${escapeHtml(part.p)}</p>`
        : `<p style="margin:0 0 8px"><a href="${escapeHtml(part.url)}" style="display:inline-block;background:${brandColor(f)};color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${escapeHtml(part.cta)}</a></p>` +
          (part.note ? `<p style="margin:0 0 16px;color:#555;font-size:13px">${escapeHtml(part.note)}</p>` : ''),
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="${escapeHtml(f.locale ?? 'en')}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:24px;background:#f6f7f9;font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;color:#1a1a1a">
<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px">
${f.logo_url ? `<p style="margin:0 0 12px"><img src="${escapeHtml(f.logo_url)}" alt="${escapeHtml(merchant(f))}" style="max-height:48px;max-width:200px"></p>` : ''}<p style="margin:0 0 16px;font-weight:600;font-size:17px">${escapeHtml(merchant(f))}</p>
${body}
</div></body></html>`;
  return { subject, text: `${text}\n`, html };
}
