import { compose, date, linkPart, merchant, money, type RenderInput, type RenderedEmail } from './layout.ts';

// The first message: a payment failed. Sent when a rescue starts, and when a hard decline ends the
// payment at once (an expired or replaced card is exactly when a new one is needed).

export function paymentFailed({ facts: f, link }: RenderInput): RenderedEmail {
  return compose(`Your payment to ${merchant(f)} didn't go through`, f, [
    { p: `We couldn't collect your payment of ${money(f)} to ${merchant(f)}. ${f.reason}` },
    ...(f.next_retry_at ? [{ p: `We'll try again automatically on ${date(f, f.next_retry_at)}. If your card has changed, update it before then.` }] : []),
    ...linkPart(f, link, link && !link.expiresAt ? 'Pay with another card' : 'Update your payment method'),
  ]);
}
