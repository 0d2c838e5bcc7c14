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
  recoveryRate: number | null;
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
  lift: Lift;
  experiment: {
    controlGroupPercent: number;
    incrementalRecoveryRate: { estimate: number; low: number; high: number } | null;
    significant: boolean;
  };
}

export interface Payment {
  id: string;
  amount: number;
  currency: string;
  status: string;
  customer: string | null;
  payment_method: string;
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
