import { compose, date, merchant, money, type RenderInput, type RenderedEmail } from './layout.ts';

// The receipt: a retry (or the customer's new card) collected the payment.

export function paymentRecovered({ facts: f, at }: RenderInput): RenderedEmail {
  return compose(`Receipt: ${money(f)} paid to ${merchant(f)}`, f, [
    { p: `Thank you — your payment of ${money(f)} to ${merchant(f)} went through on ${date(f, at)}.` },
    { p: 'Nothing more is needed from you.' },
  ]);
}
