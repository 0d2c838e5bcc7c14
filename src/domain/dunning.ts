import { classifyDecline } from './decline-taxonomy.ts';
import { minorUnits } from './money.ts';

// Dunning: the customer messages around a rescue. Which event causes which email, the account's
// dunning settings and their defaults, and how a decline is told to a customer (plain words, never
// the raw code). Pure: no I/O, no clock.

/** `card_expiring` is pre-dunning (domain/pre-dunning.ts): the card expires before the next payment. */
export type EmailKind = 'payment_failed' | 'retry_reminder' | 'rescue_failed' | 'payment_recovered' | 'card_expiring';
export const EMAIL_KINDS: readonly EmailKind[] = ['payment_failed', 'retry_reminder', 'rescue_failed', 'payment_recovered', 'card_expiring'];

export interface DunningSettings {
  enabled: boolean;
  /** Shown as the sender's name; null: the merchant's business name. */
  from_name: string | null;
  reply_to: string | null;
  /** Which emails are sent. */
  emails: Record<EmailKind, boolean>;
  /** The merchant's own update-payment page; links point there (with the signed token) instead of Rescue's. */
  update_payment_url: string | null;
  /** Branding: an https image shown above the email, and the button colour (#rrggbb); null: none and Rescue's blue. */
  logo_url: string | null;
  brand_color: string | null;
  /** The language of customers whose own `locale` is unset (a BCP 47 tag); null: English. */
  default_locale: string | null;
}

/**
 * On in test mode, so the outbox shows what customers would receive; off in live mode until the
 * merchant turns it on, so connecting Rescue never starts emailing real customers unasked (they may
 * already be dunned by Stripe or their own billing).
 */
export function defaultDunning(livemode: boolean): DunningSettings {
  return {
    enabled: !livemode,
    from_name: null,
    reply_to: null,
    emails: { payment_failed: true, retry_reminder: true, rescue_failed: true, payment_recovered: true, card_expiring: true },
    update_payment_url: null,
    logo_url: null,
    brand_color: null,
    default_locale: null,
  };
}

export function mergeDunning(livemode: boolean, stored: Partial<DunningSettings> | null | undefined): DunningSettings {
  const d = defaultDunning(livemode);
  return { ...d, ...(stored ?? {}), emails: { ...d.emails, ...(stored?.emails ?? {}) } };
}

/** The email an event causes, if any. A hard decline on the first attempt is exactly when a new card matters. */
export function emailKindForEvent(type: string, data: Record<string, unknown>): EmailKind | null {
  switch (type) {
    case 'payment.rescue_started':
      return 'payment_failed';
    case 'payment.rescue_failed':
      return 'rescue_failed';
    case 'payment.rescue_succeeded':
      return 'payment_recovered';
    // Blocked at the first attempt (no rescue started): tell the customer, with the link. Blocked
    // mid-rescue comes with payment.rescue_failed, which sends the final notice instead.
    case 'recovery.blocked':
      return data.attempts === 1 ? 'payment_failed' : null;
    default:
      return null;
  }
}

/** Links and emails carry no link for a receipt. */
export const KINDS_WITH_LINK: ReadonlySet<EmailKind> = new Set(['payment_failed', 'retry_reminder', 'rescue_failed', 'card_expiring']);

export type ReasonKey = 'insufficient_funds' | 'expired_card' | 'invalid_details' | 'limit' | 'authentication' | 'unreachable' | 'cannot_charge' | 'declined';

/**
 * What happened, as a message a customer understands (the catalogues in web/i18n word it). Never the
 * raw decline code, and never the suspicion behind a fraud or stolen-card decline (telling a
 * fraudster why helps them; telling a customer their card is "stolen" alarms them): those read as a
 * plain decline by the bank.
 */
export function customerReasonKey(code: string | null): ReasonKey {
  if (!code) return 'declined';
  const info = classifyDecline({ code, adviceCode: null, brand: 'unknown', count: false });
  switch (info.code) {
    case 'insufficient_funds':
      return 'insufficient_funds';
    case 'expired_card':
      return 'expired_card';
    case 'incorrect_cvc':
    case 'invalid_cvc':
    case 'incorrect_number':
    case 'invalid_number':
    case 'invalid_expiry_month':
    case 'invalid_expiry_year':
      return 'invalid_details';
    case 'card_velocity_exceeded':
    case 'withdrawal_count_limit_exceeded':
    case 'amount_too_large':
      return 'limit';
    case 'authentication_required':
      return 'authentication';
  }
  if (info.strategy === 'immediate' || info.category === 'technical') return 'unreachable';
  if (info.strategy === 'after_card_update') return 'cannot_charge';
  return 'declined';
}

const REASON_EN: Record<ReasonKey, string> = {
  insufficient_funds: 'Your bank declined the payment because the account did not have enough funds at the time.',
  expired_card: 'The card on file has expired.',
  invalid_details: 'The card details on file are no longer valid.',
  limit: 'The card reached its spending limit.',
  authentication: 'Your bank asked for the payment to be confirmed by you.',
  unreachable: 'Your bank could not be reached to approve the payment.',
  cannot_charge: 'The card on file can no longer be charged.',
  declined: 'Your bank declined the payment.',
};

/** The reason in English (kept in an email's facts for rows queued before the catalogues). */
export function customerReason(code: string | null): string {
  return REASON_EN[customerReasonKey(code)];
}

/** An amount as the customer reads it: their locale's number format and the currency's symbol or code. */
export function formatMoney(amount: number, currency: string, locale: string | null): string {
  const digits = minorUnits(currency);
  const value = amount / 10 ** digits;
  for (const l of [locale, 'en-US']) {
    if (!l) continue;
    try {
      return new Intl.NumberFormat(l, { style: 'currency', currency: currency.toUpperCase(), minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
    } catch {
      // An invalid locale tag: fall back to English.
    }
  }
  return `${value.toFixed(digits)} ${currency.toUpperCase()}`;
}

/** A date (and time) in the customer's time zone and locale, with the zone named. */
export function formatDate(at: Date, timezone: string, locale: string | null, withTime = true): string {
  for (const [l, tz] of [[locale, timezone], ['en-US', timezone], ['en-US', 'UTC']] as const) {
    if (!l) continue;
    try {
      const text = new Intl.DateTimeFormat(l, { timeZone: tz, dateStyle: 'long', ...(withTime ? { timeStyle: 'short' as const } : {}) }).format(at);
      return withTime ? `${text} (${tz})` : text;
    } catch {
      // An invalid locale or zone: try the next.
    }
  }
  return at.toISOString();
}

/**
 * SMTP tries of one email: after a failure, wait 1 min, 5 min, 30 min, 2 h, 6 h; the sixth failure
 * ends it `failed` (about 9 h in all: long enough for a mail server's restart or a full disk to be
 * fixed, short enough that a "payment failed" email is still timely).
 */
export const EMAIL_RETRY_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 6 * 3_600_000] as const;

/** After a failed try number `attempts` (1-based): when to try again, or null to give up. */
export function emailRetryAt(attempts: number, at: Date, permanent: boolean): Date | null {
  if (permanent || attempts > EMAIL_RETRY_DELAYS_MS.length) return null;
  return new Date(at.getTime() + EMAIL_RETRY_DELAYS_MS[attempts - 1]!);
}
