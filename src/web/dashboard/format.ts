import { minorUnits } from '../../domain/money.ts';

// Money arrives in minor units with an ISO 4217 code (DESIGN.md invariant 5); the exponent comes from
// the same table the server uses, the symbol and grouping from the browser's locale.

export function money(amount: number, currency: string): string {
  const digits = minorUnits(currency);
  const value = amount / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase(), minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${currency.toUpperCase()}`;
  }
}

/** An API timestamp in the browser's time zone, with the zone named. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }).format(d);
}

export function percent(p: number | null | undefined): string {
  return p === null || p === undefined ? '—' : `${p.toLocaleString(undefined, { maximumFractionDigits: 2 })}%`;
}

export function probability(p: number | null | undefined): string {
  return p === null || p === undefined ? '—' : `${Math.round(p * 100)}%`;
}

export const humanize = (s: string) => s.replace(/_/g, ' ');

/** A card as people name it: "Visa •••• 4242" (never the token). */
export function cardLabel(details: { card: { brand: string; last4: string | null } } | null | undefined): string {
  if (!details) return '—';
  const brand = details.card.brand === 'unknown' ? 'Card' : BRANDS[details.card.brand] ?? humanize(details.card.brand);
  return details.card.last4 ? `${brand} •••• ${details.card.last4}` : brand;
}

const BRANDS: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', jcb: 'JCB', diners: 'Diners Club', unionpay: 'UnionPay' };
