import { compose, date, linkPart, merchant, tr, type RenderInput, type RenderedEmail } from './layout.ts';

// Pre-dunning: the card on file expires before the next expected payment (domain/pre-dunning.ts).
// Sent ahead of it, so the customer updates the card before a charge fails.

export function cardExpiring({ facts: f, link }: RenderInput): RenderedEmail {
  const t = tr(f);
  const card = f.card!;
  const expiry = new Intl.DateTimeFormat(f.locale ?? 'en', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(card.exp_year, card.exp_month - 1, 1)));
  const values = { merchant: merchant(f), last4: card.last4 ?? '••••', expiry, date: date(f, f.next_payment_at!, false) };
  return compose(t('card_expiring.subject', values), f, [{ p: t('card_expiring.body', values) }, { p: t('card_expiring.ask') }, ...linkPart(f, link)]);
}
