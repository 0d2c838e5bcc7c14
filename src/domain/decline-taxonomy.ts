// Turns whatever a gateway said about a decline (a named code, a raw network response code, an advice
// code) into one DeclineInfo: category, retry strategy, message, recommendation. The data lives in
// decline-codes-stripe.ts and decline-codes-network.ts; this file holds only the rules that combine them.
//
// Precedence, strongest first (anchors-and-network-rules.md §5: trust the raw network signal over the
// gateway's wording, and never turn a "never" into a "later"):
//   1. An advice code that says stop (MAC 03 / 21, Stripe `do_not_try_again`) makes any decline hard.
//   2. A hard gateway code stays hard whatever the network code says.
//   3. A Visa response code of category 1-3 replaces a soft or technical gateway classification;
//      a category 4 (generic) code only fills in when the gateway code is unknown.
//   4. Other advice codes adjust the strategy of a retryable decline (01 → card update, 02 → later).

import type { CardBrand, DeclineInfo } from './decline-types.ts';
import { DECLINE_CODE_ALIASES, NAMED_DECLINE_ROWS, REC, type DeclineRow } from './decline-codes-stripe.ts';
import {
  MASTERCARD_ADVICE,
  STRIPE_ADVICE,
  VISA_RESPONSE_ROWS,
  type MacEffect,
  type VisaCodeRow,
} from './decline-codes-network.ts';

export interface ClassifyDeclineInput {
  /** The gateway's code: a named decline code, Stripe's error `code`, or (Visa cards) a raw response code. */
  code: string | null | undefined;
  /** Stripe's `decline_code`, which refines `code` when that is the error code `card_declined`. */
  declineCode?: string | null;
  /** Mastercard Merchant Advice Code ("03") or Stripe's `advice_code` ("do_not_try_again"). */
  adviceCode?: string | null;
  /** false when re-reading stored history, so an unknown code is counted once, when it arrives. */
  count?: boolean;
  /** The raw ISO 8583 / Visa response code ("51", "N7") when the gateway passes it through. */
  networkResponseCode?: string | null;
  brand?: CardBrand;
}

const NAMED: ReadonlyMap<string, DeclineRow> = new Map(NAMED_DECLINE_ROWS.map((r) => [r.code, r]));
const VISA: ReadonlyMap<string, VisaCodeRow> = new Map(VISA_RESPONSE_ROWS.map((r) => [r.code, r]));

export const KNOWN_DECLINE_CODES: readonly string[] = Object.freeze([...NAMED.keys()]);

/** Visa response codes with a known category (other Visa codes are category 4 by Visa's definition). */
export const KNOWN_VISA_RESPONSE_CODES: readonly string[] = Object.freeze([...VISA.keys()]);

const FALLBACK_CODE = 'generic_decline';
const UNKNOWN_MESSAGE = 'The card was declined.';

/** Lower snake case, aliases resolved; a missing code is Stripe's catch-all `generic_decline`. */
export function normalizeDeclineCode(code: string | null | undefined): string {
  const key = (code ?? '').trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (key === '') return FALLBACK_CODE;
  return DECLINE_CODE_ALIASES[key] ?? key;
}

export function isKnownDeclineCode(code: string | null | undefined): boolean {
  return NAMED.has(normalizeDeclineCode(code));
}

function normalizeVisaCode(code: string): string | null {
  const c = code.trim().toUpperCase();
  if (!/^[0-9A-Z]{1,2}$/.test(c)) return null;
  return c.length === 1 ? `0${c}` : c;
}

// --- Unknown-code counter ---------------------------------------------------------------------------
// The one deliberate side effect in the domain core. Classification must not fail on a code we have
// never seen (it falls back to soft/spaced), but someone has to notice so the table can grow; a
// process-local Map is enough for that (it feeds a metric/log, it is not business data, and losing it
// on restart costs nothing). Keys are capped so a gateway sending free text cannot grow it unbounded.
const MAX_COUNTED_CODES = 500;
const MAX_KEY_LENGTH = 64;
const OVERFLOW_KEY = '(other)';
const unknownCounts = new Map<string, number>();

function countUnknown(code: string): void {
  let key = code.slice(0, MAX_KEY_LENGTH);
  if (!unknownCounts.has(key) && unknownCounts.size >= MAX_COUNTED_CODES) key = OVERFLOW_KEY;
  unknownCounts.set(key, (unknownCounts.get(key) ?? 0) + 1);
}

export function unknownDeclineCounts(): ReadonlyMap<string, number> {
  return new Map(unknownCounts);
}

export function resetUnknownDeclineCounts(): void {
  unknownCounts.clear();
}

// --- Classification ----------------------------------------------------------------------------------

function fromNamed(row: DeclineRow, brand: CardBrand | undefined): DeclineInfo {
  const info: DeclineInfo = {
    code: row.code,
    category: row.category,
    strategy: row.strategy,
    message: row.message,
    recommendation: row.recommendation,
    known: true,
  };
  // A named code implies a Visa category only when we know the card is a Visa.
  if (brand === 'visa' && row.visa !== undefined) info.visaCategory = row.visa;
  return info;
}

function fromVisa(row: VisaCodeRow, code: string): DeclineInfo {
  return {
    code,
    category: row.category,
    strategy: row.strategy,
    message: row.message,
    recommendation: row.recommendation,
    known: true,
    visaCategory: row.visaCategory,
  };
}

function unknown(code: string): DeclineInfo {
  // Conservative: an unknown decline may still pass later, but only with retries spread out.
  return {
    code,
    category: 'soft',
    strategy: 'spaced',
    message: UNKNOWN_MESSAGE,
    recommendation: REC.updatePaymentMethod,
    known: false,
  };
}

function pickCode(input: ClassifyDeclineInput): string | null | undefined {
  const decline = input.declineCode?.trim();
  return decline ? decline : input.code;
}

export function classifyDecline(input: ClassifyDeclineInput): DeclineInfo {
  const raw = pickCode(input);
  const key = normalizeDeclineCode(raw);
  const brand = input.brand;

  let info: DeclineInfo;
  let codeKnown = true;
  const named = NAMED.get(key);
  const visaCode = brand === 'visa' && raw != null ? normalizeVisaCode(raw) : null;
  const visaRow = visaCode === null ? undefined : VISA.get(visaCode);
  if (named) {
    info = fromNamed(named, brand);
  } else if (visaRow) {
    info = fromVisa(visaRow, visaRow.named ?? visaRow.code);
  } else {
    codeKnown = false;
    info = unknown(visaCode ?? key);
    // Visa: every code outside categories 1-3 is category 4.
    if (visaCode !== null) info.visaCategory = 4;
  }

  info = applyNetworkCode(info, codeKnown, input.networkResponseCode, brand);
  info = applyAdvice(info, input.adviceCode);

  if (!codeKnown && input.count !== false) countUnknown(visaCode ?? key);
  return info;
}

// The Visa table is only meaningful for Visa cards; other brands (Amex's 3-digit action codes,
// Mastercard's own meanings) would be misread, so they only get it when the brand is not known.
function visaTableApplies(brand: CardBrand | undefined): boolean {
  return brand === undefined || brand === 'visa' || brand === 'unknown';
}

function applyNetworkCode(
  info: DeclineInfo,
  codeKnown: boolean,
  networkCode: string | null | undefined,
  brand: CardBrand | undefined,
): DeclineInfo {
  if (networkCode == null || !visaTableApplies(brand)) return info;
  const code = normalizeVisaCode(networkCode);
  if (code === null) return info;
  const row = VISA.get(code);
  if (!row) {
    return brand === 'visa' ? { ...info, visaCategory: 4 } : info;
  }
  if (info.category === 'hard') return { ...info, visaCategory: row.visaCategory };
  if (row.visaCategory === 4 && codeKnown) return { ...info, visaCategory: 4 };
  // The raw code is more specific than the gateway's wording: take it whole, named in our vocabulary.
  return fromVisa(row, row.named ?? info.code);
}

function normalizeAdvice(advice: string): { mac: string | null; effect: MacEffect | undefined } {
  const a = advice.trim().toLowerCase();
  if (/^\d{1,2}$/.test(a)) {
    const mac = a.padStart(2, '0');
    return { mac, effect: MASTERCARD_ADVICE[mac] };
  }
  return { mac: null, effect: STRIPE_ADVICE[a] };
}

function applyAdvice(info: DeclineInfo, advice: string | null | undefined): DeclineInfo {
  if (advice == null || advice.trim() === '') return info;
  const { mac, effect } = normalizeAdvice(advice);
  const out: DeclineInfo = { ...info };
  if (mac !== null) out.adviceCode = mac;
  if (!effect || effect.kind === 'none') return out;

  if (effect.kind === 'stop') {
    return { ...out, category: 'hard', strategy: 'never', recommendation: effect.recommendation, known: true };
  }
  // Only "stop" may move a decline across the hard line; a later/update advice never revives a hard one.
  if (out.category === 'hard') return out;
  // An issuer giving advice has answered, so this is not an infrastructure failure any more.
  out.category = 'soft';
  out.known = true;
  if (effect.kind === 'strategy') out.strategy = effect.strategy;
  return out;
}
