import { common, compose, date, linkPart, tr, type RenderInput, type RenderedEmail } from './layout.ts';

// The first message: a payment failed. Sent when a rescue starts, and when a hard decline ends the
// payment at once (an expired or replaced card is exactly when a new one is needed).

export function paymentFailed({ facts: f, link }: RenderInput): RenderedEmail {
  const t = tr(f);
  return compose(t('payment_failed.subject', common(f)), f, [
    { p: t('payment_failed.body', common(f)) },
    ...(f.next_retry_at ? [{ p: t('payment_failed.next', { date: date(f, f.next_retry_at) }) }] : []),
    ...linkPart(f, link),
  ]);
}
