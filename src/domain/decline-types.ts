// The shared vocabulary for declines. The taxonomy (decline-taxonomy.ts) fills it; the schedule
// policy and the network rules read it.

/** soft: may pass later; technical: infrastructure, retry soon; hard: never retry. */
export type DeclineCategory = 'soft' | 'technical' | 'hard';

/**
 * How Auto Rescue times the next try for a code (Plexy seed tables).
 * - after_payday: insufficient funds — wait for a likely payday in the customer's time zone.
 * - in_24_48h: issuer asked to try again later.
 * - after_limit_reset: velocity/amount limit — after the limit resets (next local day or week).
 * - immediate: technical or issuer outage — within minutes, backing off.
 * - in_24h: generic processing issue.
 * - spaced: generic/unknown soft decline — spread conservatively across the window.
 * - after_card_update: data problem (expired, wrong CVC…) — only worth retrying after the account updater.
 * - never: hard decline.
 */
export type RetryStrategy =
  | 'after_payday'
  | 'in_24_48h'
  | 'after_limit_reset'
  | 'immediate'
  | 'in_24h'
  | 'spaced'
  | 'after_card_update'
  | 'never';

/** Visa decline categories (Visa Core Rules, see research/anchors-and-network-rules.md §4). */
export type VisaCategory = 1 | 2 | 3 | 4;

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay' | 'unknown';

export interface DeclineInfo {
  /** The normalised code (e.g. `insufficient_funds`), lower snake case. */
  code: string;
  category: DeclineCategory;
  strategy: RetryStrategy;
  /** Human message as returned in `failure_message`. */
  message: string;
  /** What the merchant should do when a rescue ends on this code (`recommendation` in events). */
  recommendation: string;
  /** false when the code was not in any table: treated as soft with a conservative schedule. */
  known: boolean;
  visaCategory?: VisaCategory;
  /** Mastercard Merchant Advice Code when the gateway gave one ("01".."43"). */
  adviceCode?: string;
}
