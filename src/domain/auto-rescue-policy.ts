// Which payments enter Auto Rescue and with what budget. Per-payment `auto_rescue` options win;
// otherwise the account defaults apply to payments that qualify (Plexy seed, "Account-Level Default").

export type RetrySchedule = { kind: 'automatic' } | { kind: 'custom'; days: readonly number[] };

export interface RescuePolicy {
  maxRetries: number;
  retryWindowDays: number;
  schedule: RetrySchedule;
  notifyCustomer: boolean;
  checkAccountUpdater: boolean;
}

/** Plexy's documented bounds and defaults (seed "Configuration Options"). */
export const RESCUE_LIMITS = {
  maxRetries: { min: 1, max: 8, default: 4 },
  retryWindowDays: { min: 7, max: 30, default: 14 },
  customDays: { min: 1, max: 30 },
} as const;

export interface AutoRescueDefaults {
  enabled: boolean;
  max_retries: number;
  retry_window_days: number;
  retry_schedule: 'automatic' | 'custom';
  custom_schedule_days: number[] | null;
  notify_customer: boolean;
  check_account_updater: boolean;
  /**
   * The automatic schedule uses the learned model (src/predict/learned-policy.ts); false falls back
   * to the rule-based one. On by default: the recovery benchmark shows it recovering more than the
   * rule-based and every fixed schedule, with fewer retries (docs/prediction.md).
   */
  learned: boolean;
  /**
   * The learned schedule's price of time: the share of a recovery's value lost per day the customer
   * waits unpaid (value e^(−h·days); DEFAULT_DAILY_CHURN_HAZARD). 0 values a day-13 recovery like one today.
   */
  daily_churn_hazard: number;
  /** A payment qualifies for the account default when it matches ANY selected type. */
  qualifying: {
    subscription_payments: boolean;
    off_session_payments: boolean;
    /** Minor units; null turns the threshold rule off. */
    amount_over: number | null;
  };
}

/**
 * The average share of a recovery's value lost per day the customer waits unpaid, over the first
 * 15 days (a hazard; the curve's shape is in src/predict/recovery-value.ts). From
 * Baremetrics' dunning emails (over a million, research/peers-2026.md): recovery per email falls from
 * 13.3% on day 0 to 4.2% on day 15, e^(−15h) = 4.2/13.3, h ≈ 0.077 — the customer's pull towards
 * paying fades that fast while access is cut. Slowly in the first week (11.5% on day 7), fast after
 * it, which is in line with Recurly's 90% of recovered transactions coming within the first 10 days
 * (research/retry-facts.md §2).
 */
export const DEFAULT_DAILY_CHURN_HAZARD = 0.077;

export const DEFAULT_AUTO_RESCUE: AutoRescueDefaults = {
  enabled: false,
  max_retries: RESCUE_LIMITS.maxRetries.default,
  retry_window_days: RESCUE_LIMITS.retryWindowDays.default,
  retry_schedule: 'automatic',
  custom_schedule_days: null,
  notify_customer: true,
  check_account_updater: true,
  learned: true,
  daily_churn_hazard: DEFAULT_DAILY_CHURN_HAZARD,
  qualifying: { subscription_payments: true, off_session_payments: true, amount_over: null },
};

/** The `auto_rescue` object of a payment request, already validated at the edge. */
export interface AutoRescueRequest {
  enabled?: boolean | undefined;
  max_retries?: number | undefined;
  retry_window_days?: number | undefined;
  retry_schedule?: 'automatic' | 'custom' | undefined;
  custom_schedule_days?: number[] | undefined;
  notify_customer?: boolean | undefined;
  check_account_updater?: boolean | undefined;
}

export interface PaymentFacts {
  amount: number;
  offSession: boolean;
  metadata: Readonly<Record<string, string>>;
}

export function qualifiesForDefault(payment: PaymentFacts, q: AutoRescueDefaults['qualifying']): boolean {
  const subscription = q.subscription_payments && typeof payment.metadata.subscription_id === 'string';
  const offSession = q.off_session_payments && payment.offSession;
  const large = q.amount_over !== null && payment.amount > q.amount_over;
  return subscription || offSession || large;
}

/**
 * The policy a payment's rescue runs under, or null when Auto Rescue does not apply.
 *
 * When only custom days are given: the count defaults to the number of days, and the window
 * defaults to the larger of the usual default (14) and the last day, so the seed's own example
 * (`[1, 2, 5, 10, 15]`, `max_retries: 5`) runs all five retries within a 15-day window. An explicit
 * window that a day falls beyond is rejected at the edge instead.
 */
export function resolveRescuePolicy(
  request: AutoRescueRequest | undefined,
  payment: PaymentFacts,
  defaults: AutoRescueDefaults,
): RescuePolicy | null {
  const enabled = request?.enabled ?? (defaults.enabled && qualifiesForDefault(payment, defaults.qualifying));
  if (!enabled) return null;
  // Fields the payment leaves out come from the account's defaults (themselves Plexy's defaults).
  const base = defaults;
  const kind = request?.retry_schedule ?? (request?.custom_schedule_days ? 'custom' : base.retry_schedule);
  const days = request?.custom_schedule_days ?? base.custom_schedule_days ?? null;
  const schedule: RetrySchedule = kind === 'custom' && days && days.length > 0 ? { kind: 'custom', days } : { kind: 'automatic' };
  const lastDay = schedule.kind === 'custom' ? schedule.days[schedule.days.length - 1]! : 0;
  const maxRetries = request?.max_retries ?? (schedule.kind === 'custom' && request?.custom_schedule_days ? schedule.days.length : base.max_retries);
  const retryWindowDays = request?.retry_window_days ?? Math.max(base.retry_window_days, lastDay);
  return {
    maxRetries,
    retryWindowDays,
    schedule,
    notifyCustomer: request?.notify_customer ?? base.notify_customer,
    checkAccountUpdater: request?.check_account_updater ?? base.check_account_updater,
  };
}
