import { compose, linkPart, merchant, money, type RenderInput, type RenderedEmail } from './layout.ts';

// The final notice: every planned retry failed (or the card cannot be charged again).

export function rescueFailed({ facts: f, link }: RenderInput): RenderedEmail {
  return compose(`Action needed: your payment to ${merchant(f)} could not be collected`, f, [
    { p: `We were not able to collect your payment of ${money(f)} to ${merchant(f)}, and we won't try this card again. ${f.reason}` },
    { p: 'To settle it, add a new payment method:' },
    ...linkPart(f, link, link && !link.expiresAt ? 'Pay with another card' : 'Update your payment method'),
  ]);
}
