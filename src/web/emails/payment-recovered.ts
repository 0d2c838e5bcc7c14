import { common, compose, date, tr, type RenderInput, type RenderedEmail } from './layout.ts';

// The receipt: a retry (or the customer's new card) collected the payment.

export function paymentRecovered({ facts: f, at }: RenderInput): RenderedEmail {
  const t = tr(f);
  return compose(t('payment_recovered.subject', common(f)), f, [{ p: t('payment_recovered.body', { ...common(f), date: date(f, at) }) }, { p: t('payment_recovered.done') }]);
}
