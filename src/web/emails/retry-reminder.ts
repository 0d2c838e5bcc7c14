import { compose, date, linkPart, merchant, money, type RenderInput, type RenderedEmail } from './layout.ts';

// Before the last planned retry: one more chance to update the card before the rescue ends.

export function retryReminder({ facts: f, link }: RenderInput): RenderedEmail {
  const when = f.next_retry_at ? ` on ${date(f, f.next_retry_at)}` : ' soon';
  return compose(`Reminder: your ${money(f)} payment to ${merchant(f)} is still due`, f, [
    { p: `Your payment of ${money(f)} to ${merchant(f)} still hasn't gone through. ${f.reason}` },
    { p: `We'll make a final attempt${when}. Updating your payment method now makes sure it goes through.` },
    ...linkPart(f, link, link && !link.expiresAt ? 'Pay with another card' : 'Update your payment method'),
  ]);
}
