// The slices of Rescue's API objects the dashboard reads (src/api/*-json.ts are the truth).

export interface List<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
}

export interface CurrencyFigures {
  currency: string;
  organicRevenue: number;
  organicCount: number;
  recoveredRevenue: number;
  recoveredCount: number;
  liftPercent: number | null;
  failedRevenue: number;
  failedCount: number;
  failedRecoveredCount: number;
  failedRecoveredRevenue: number;
  recoveryRate: number | null;
  recoveryRateByAmount: number | null;
}

export interface Lift {
  from: string;
  to: string;
  interval: 'day' | 'week' | 'month';
  totals: CurrencyFigures[];
  periods: { start: string; end: string; currencies: CurrencyFigures[] }[];
}

export interface DashboardJson {
  livemode: boolean;
  currency: string | null;
  currencies: string[];
  lift: Lift;
  experiment: {
    controlGroupPercent: number;
    treatment: { handOffs: number; decided: number; recovered: number; recoveryRate: number | null };
    control: { handOffs: number; decided: number; recovered: number; recoveryRate: number | null };
    incrementalRecoveryRate: { estimate: number; low: number; high: number } | null;
    significant: boolean;
  };
  mrrRecovered: { month: string; currency: string; recoveredCount: number; recoveredRevenue: number }[];
  retrySuccessByAttempt: { attempt: number; made: number; succeeded: number; successRate: number | null }[];
  recoveryByDeclineCode: { declineCode: string; declineCategory: string; failed: number; recovered: number; recoveryRate: number | null }[];
  recoveryByDeclineCategory: { declineCategory: string; failed: number; recovered: number; recoveryRate: number | null }[];
  recoveredInPeriod: number;
  averageDaysToRecover: number | null;
  medianDaysToRecover: number | null;
  customersAtRisk: { customer: string; email: string | null; name: string | null; activeRescues: number; churnScore: number; churnProbability: number; topDriver: string | null }[];
  webhookHealth: { succeeded: number; failed: number; pending: number; successRate: number | null; endpoints: number; disabledEndpoints: number };
}

export interface Customer {
  id: string;
  email: string | null;
  name: string | null;
  timezone: string;
  created_at: string;
  test_clock: string | null;
}

export interface ChurnPrediction {
  customer: string;
  churnProbability: number;
  score: number;
  drivers: { feature: string; value: number; effect: number; description: string }[];
  reasoning: string;
}

export interface Payment {
  id: string;
  amount: number;
  currency: string;
  status: string;
  customer: string | null;
  payment_method: string;
  payment_method_details: { type: string; card: { brand: string; last4: string | null } } | null;
  failure_code: string | null;
  failure_message: string | null;
  auto_rescue: {
    enabled: boolean;
    status: string;
    attempts_made: number;
    max_retries: number | null;
    retry_window_ends_at?: string | null;
    recovered_at?: string | null;
    ended_at?: string | null;
    end_reason?: string | null;
    cancelled_at?: string | null;
  };
  rescue_schedule: {
    next_retry_at: string | null;
    scheduled_retries: { retry_number: number; scheduled_at: string; predicted_p?: number; reason?: string | null }[];
  } | null;
  rescue_history: { attempt: number; attempted_at: string; result: 'succeeded' | 'failed'; failure_code?: string | null }[];
  off_session: boolean;
  livemode: boolean;
  metadata: Record<string, string>;
  created_at: string;
}

export interface StripeConnection {
  status: 'connected' | 'needs_attention' | 'needs_reconnect' | 'disconnected' | 'not_connected';
  status_reason: string | null;
  notice: string | null;
  /** One sender: Stripe's own failed-payment emails cannot be read through its API, so this says which to turn off. */
  customer_emails: { stripe_failed_payment_emails: null; rescue_emails_enabled: boolean; settings_url: string; advice: string } | null;
  kind: 'oauth' | 'api_key' | null;
  stripe_account: string | null;
  scope: string | null;
  mode: 'observe' | 'active' | null;
  connected_at: string | null;
  disconnected_at: string | null;
  livemode: boolean;
  backfill: { object: string; status: 'pending' | 'running' | 'done' | 'failed'; imported: number; since: string; last_error: string | null; finished_at: string | null }[];
  /** Invoices Rescue took over (auto_advance: false) and their hand-back to Stripe. */
  handback: { held: number; restoring: number; restored: number; not_handed_back: { invoice: string; payment: string | null; auto_advance: boolean; reason: string | null }[] };
}

export type EmailKind = 'payment_failed' | 'retry_reminder' | 'rescue_failed' | 'payment_recovered' | 'card_expiring';

/** GET /v2/emails (src/api/emails.ts#emailJson). `html` is the merchant's template output: never put it in the page's DOM. */
export interface Email {
  id: string;
  object: 'email';
  livemode: boolean;
  kind: EmailKind;
  status: 'queued' | 'sent' | 'failed';
  to: string;
  subject: string;
  text: string;
  html: string;
  payment: string | null;
  customer: string | null;
  transport: 'outbox' | 'smtp' | null;
  attempts: number;
  created_at: string;
  sent_at: string | null;
  error: string | null;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  enabled_events: string[];
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
}

export interface WebhookDelivery {
  id: string;
  event: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  response_status: number | null;
  latency_ms: number | null;
  error: string | null;
  next_retry_at: string | null;
  last_attempt_at: string | null;
  created_at: string;
}

export interface AutoRescueSettings {
  enabled: boolean;
  max_retries: number;
  retry_window_days: number;
  retry_schedule: 'automatic' | 'custom';
  custom_schedule_days: number[] | null;
  learned: boolean;
  qualifying: { subscription_payments: boolean; off_session_payments: boolean; amount_over: number | null };
}

export interface SchedulePreview {
  planner: 'learned' | 'automatic' | 'custom';
  max_retries: number;
  retry_window_days: number;
  decline: { code: string; category: string };
  failed_at: string;
  window_ends_at: string;
  stop_reason: string | null;
  scheduled_retries: { retry_number: number; scheduled_at: string; days_after_failure: number; predicted_p: number | null }[];
}

export interface DunningSettingsJson {
  enabled: boolean;
  from_name: string | null;
  reply_to: string | null;
  emails: Record<EmailKind, boolean>;
  update_payment_url: string | null;
  logo_url: string | null;
  brand_color: string | null;
  default_locale: string | null;
}

export interface EmailPreviewJson {
  kind: string;
  from_name: string;
  reply_to: string | null;
  subject: string;
  text: string;
  html: string;
}

export interface GatewayJson {
  name: string;
  default: boolean;
  type: 'sandbox' | 'http' | 'stripe' | 'none';
  url?: string;
  secret?: string;
  token_prefixes: string[];
}

export interface ApiKeyJson {
  id: string;
  livemode: boolean;
  hint: string;
  secret: string | null;
  created_at: string;
}
