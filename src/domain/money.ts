// Money is an integer in the currency's minor unit with an ISO 4217 code (DESIGN.md invariant 5).

/** Active ISO 4217 currencies whose minor unit is 2 digits (the common case). */
const TWO_DIGIT = `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD
HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP
MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR
SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES
WST XCD XCG YER ZAR ZMW ZWG`;
const ZERO_DIGIT = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF';
const THREE_DIGIT = 'BHD IQD JOD KWD LYD OMR TND';

const MINOR_UNITS: ReadonlyMap<string, number> = new Map([
  ...words(TWO_DIGIT).map((c) => [c, 2] as const),
  ...words(ZERO_DIGIT).map((c) => [c, 0] as const),
  ...words(THREE_DIGIT).map((c) => [c, 3] as const),
]);

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

export function normalizeCurrency(code: string): string | null {
  const upper = code.trim().toUpperCase();
  return MINOR_UNITS.has(upper) ? upper : null;
}

export function minorUnits(currency: string): number {
  return MINOR_UNITS.get(currency.toUpperCase()) ?? 2;
}

/** Largest amount a single payment may carry (Stripe's 8-digit limit). */
export const MAX_AMOUNT = 99_999_999;

export function formatAmount(amount: number, currency: string): string {
  const digits = minorUnits(currency);
  return `${(amount / 10 ** digits).toFixed(digits)} ${currency.toUpperCase()}`;
}
