import type { ColumnType, Generated, Selectable } from 'kysely';
import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import type {
  StripeBackfillsTable,
  StripeCardUpdatesTable,
  StripeChargesTable,
  StripeConnectionsTable,
  StripeCustomersTable,
  StripeEventsTable,
  StripeHandbacksTable,
  StripeTestClocksTable,
  StripeInvoicesTable,
  StripePaymentIntentsTable,
  StripeSubscriptionsTable,
} from './schema-stripe.ts';
import type { CardExpiryChecksTable, EmailsTable, InstanceSecretsTable, PaymentMethodUpdatesTable } from './schema-dunning.ts';
import type { WidgetSettingsTable } from './schema-widget.ts';

export type * from './schema-stripe.ts';
export type * from './schema-dunning.ts';

// Row types for Kysely. The SQL migrations are the truth; these mirror them.

export type Json<T> = ColumnType<T, string | T, string | T>;
export type Seq = Generated<number>;

export interface AccountsTable {
  id: string;
  email: string;
  password_hash: string;
  business_name: string;
  created_at: Date;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  livemode: boolean;
  key_hash: string;
  key_hint: string;
  created_at: Date;
}

export interface AccountSettingsTable {
  account_id: string;
  livemode: boolean;
  auto_rescue: Json<unknown>;
  gateway: Json<unknown>;
  /** Named gateways beside the default one (0004). */
  gateways: ColumnType<unknown, string | undefined, string>;
  /** Recovery settings: the control group (0004). */
  recovery: ColumnType<unknown, string | undefined, string>;
  /** Dunning emails and the update-payment page (0009); null: the defaults. */
  dunning: ColumnType<unknown, string | undefined, string>;
  updated_at: Date;
}

export interface TestClocksTable {
  id: string;
  account_id: string;
  name: string | null;
  frozen_time: Date;
  target_time: Date;
  status: 'ready' | 'advancing';
  claimed_by: string | null;
  lease_expires_at: Date | null;
  created_at: Date;
  seq: Seq;
}

export interface CustomersTable {
  id: string;
  account_id: string;
  livemode: boolean;
  email: string | null;
  name: string | null;
  timezone: string;
  locale: string | null;
  metadata: Json<Record<string, string>>;
  test_clock: string | null;
  created_at: Date;
  seq: Seq;
}

export type PaymentStatus =
  | 'processing'
  | 'succeeded'
  | 'requires_rescue'
  | 'rescue_in_progress'
  | 'failed'
  | 'rescue_cancelled';

export interface PaymentsTable {
  id: string;
  account_id: string;
  livemode: boolean;
  customer_id: string | null;
  payment_method: string;
  amount: ColumnType<number, number, number>;
  currency: string;
  off_session: boolean;
  status: PaymentStatus;
  failure_code: string | null;
  failure_message: string | null;
  metadata: Json<Record<string, string>>;
  test_clock: string | null;
  idempotency_key: string | null;
  rescue_policy: Json<RescuePolicy | null>;
  sandbox_note: string | null;
  created_at: Date;
  updated_at: Date;
  seq: Seq;
}

export type RescueStatus = 'active' | 'recovered' | 'exhausted' | 'cancelled';

export interface PlannedRetry {
  retry_number: number;
  scheduled_at: string;
  /** The learned schedule's predicted chance that this retry succeeds (0006), and why it was chosen. */
  predicted_p?: number;
  reason?: string;
}

export interface RescuesTable {
  payment_id: string;
  account_id: string;
  status: RescueStatus;
  max_retries: number;
  retry_window_days: number;
  window_ends_at: Date;
  retry_schedule: 'automatic' | 'custom';
  custom_schedule_days: Json<number[] | null>;
  notify_customer: boolean;
  check_account_updater: boolean;
  retries_made: Generated<number>;
  schedule: Json<PlannedRetry[]>;
  end_reason: string | null;
  started_at: Date;
  ended_at: Date | null;
  /** Which of the rescue's payment methods is being charged (0 = the primary). */
  payment_method_position: Generated<number>;
  /** When the current payment method took over (null: the primary, since started_at). */
  method_started_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** retries_made when the current method's own budget began (its first charge is free). */
  method_retries_base: Generated<number>;
}

export type AttemptStatus = 'planned' | 'processing' | 'succeeded' | 'failed' | 'cancelled';

export interface AttemptsTable {
  id: string;
  account_id: string;
  livemode: boolean;
  payment_id: string;
  number: number;
  status: AttemptStatus;
  planned_at: Date;
  claimed_by: string | null;
  lease_expires_at: Date | null;
  attempted_at: Date | null;
  idempotency_key: string;
  decline_code: string | null;
  decline_category: string | null;
  advice_code: string | null;
  failure_message: string | null;
  transaction_id: string | null;
  card_fingerprint: string;
  card_brand: string;
  account_updater_checked: Generated<boolean>;
  card_was_updated: Generated<boolean>;
  gateway_errors: Generated<number>;
  test_clock: string | null;
  predicted_p: number | null;
  announced_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The named gateway this attempt charges through; null is the account's default (0004). */
  gateway: ColumnType<string | null, string | null | undefined, string | null>;
  card_last4: ColumnType<string | null, string | null | undefined, string | null>;
  /** credit / debit / prepaid as the gateway described the card; null: unknown (rows before 0012). */
  card_funding: ColumnType<string | null, string | null | undefined, string | null>;
  /** The card's issuing country (ISO 3166-1 alpha-2); null: unknown (0012). */
  card_country: ColumnType<string | null, string | null | undefined, string | null>;
  payment_method_type: Generated<string>;
  payment_method_position: Generated<number>;
}

export interface CardLeasesTable {
  account_id: string;
  fingerprint: string;
  claimed_by: string | null;
  lease_expires_at: Date | null;
}

export interface IdempotencyKeysTable {
  account_id: string;
  livemode: boolean;
  key: string;
  request_method: string;
  request_path: string;
  request_hash: string;
  response_status: number | null;
  response_body: Json<unknown> | null;
  created_at: Date;
}

export interface SandboxChargesTable {
  account_id: string;
  idempotency_key: string;
  payment_method: string;
  amount: number;
  outcome: Json<unknown>;
  created_at: Date;
}

export interface EventsTable {
  id: string;
  account_id: string;
  livemode: boolean;
  type: string;
  api_version: string;
  data: Json<Record<string, unknown>>;
  created_at: Date;
  object_id: string | null;
  seq: Seq;
}

export type WebhookEndpointStatus = 'enabled' | 'disabled';

export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  livemode: boolean;
  url: string;
  description: string | null;
  enabled_events: Json<string[]>;
  status: WebhookEndpointStatus;
  disabled_reason: 'requested' | 'failing' | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  consecutive_failures: Generated<number>;
  created_at: Date;
  updated_at: Date;
  seq: Seq;
}

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDeliveriesTable {
  id: string;
  account_id: string;
  livemode: boolean;
  event_id: string;
  endpoint_id: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
  claimed_by: string | null;
  lease_expires_at: Date | null;
  first_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_response_status: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  seq: Seq;
}

export type ExperimentGroup = 'treatment' | 'control';

export interface RecoveriesTable {
  id: string;
  account_id: string;
  livemode: boolean;
  payment_id: string;
  idempotency_key: string | null;
  original_decline_code: string;
  card_origin: string | null;
  payment_method_type: string;
  experiment_group: ExperimentGroup | null;
  predicted_recovery: number | null;
  prediction_reasoning: string | null;
  created_at: Date;
  seq: Seq;
}

export interface RescuePaymentMethodsTable {
  account_id: string;
  payment_id: string;
  position: number;
  token: string;
  gateway: string | null;
  type: string;
  brand: string;
  last4: string | null;
  fingerprint: string;
}

export interface PulsesTable {
  account_id: string;
  livemode: boolean;
  transaction_id: string;
  amount: ColumnType<number, number, number>;
  currency: string;
  created_at: Date;
}

export interface Database {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  account_settings: AccountSettingsTable;
  test_clocks: TestClocksTable;
  customers: CustomersTable;
  payments: PaymentsTable;
  rescues: RescuesTable;
  attempts: AttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  card_leases: CardLeasesTable;
  events: EventsTable;
  sandbox_charges: SandboxChargesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  recoveries: RecoveriesTable;
  rescue_payment_methods: RescuePaymentMethodsTable;
  pulses: PulsesTable;
  stripe_connections: StripeConnectionsTable;
  stripe_events: StripeEventsTable;
  stripe_customers: StripeCustomersTable;
  stripe_invoices: StripeInvoicesTable;
  stripe_charges: StripeChargesTable;
  stripe_subscriptions: StripeSubscriptionsTable;
  stripe_card_updates: StripeCardUpdatesTable;
  stripe_backfills: StripeBackfillsTable;
  stripe_payment_intents: StripePaymentIntentsTable;
  stripe_handbacks: StripeHandbacksTable;
  stripe_test_clocks: StripeTestClocksTable;
  models: ModelsTable;
  payment_method_risk: PaymentMethodRiskTable;
  emails: EmailsTable;
  instance_secrets: InstanceSecretsTable;
  payment_method_updates: PaymentMethodUpdatesTable;
  widget_settings: WidgetSettingsTable;
  card_expiry_checks: CardExpiryChecksTable;
}

/** A trained model and its stored evaluation (0006). */
export interface ModelsTable {
  id: string;
  account_id: string;
  livemode: boolean;
  kind: 'retry_timing' | 'payday_mix';
  version: number;
  status: 'active' | 'candidate' | 'retired';
  params: Json<unknown>;
  metrics: Json<unknown>;
  trained_at: Date;
}

/** The latest risk score of a stored payment method (0006), for predict.risk.high. */
export interface PaymentMethodRiskTable {
  account_id: string;
  livemode: boolean;
  payment_method: string;
  risk_score: number;
  high: boolean;
  updated_at: Date;
}

export type ModelRow = Selectable<ModelsTable>;
export type PaymentRow = Selectable<PaymentsTable>;
export type RescueRow = Selectable<RescuesTable>;
export type AttemptRow = Selectable<AttemptsTable>;
export type CustomerRow = Selectable<CustomersTable>;
export type TestClockRow = Selectable<TestClocksTable>;
export type AccountRow = Selectable<AccountsTable>;
export type EventRow = Selectable<EventsTable>;
export type RecoveryRow = Selectable<RecoveriesTable>;
export type RescuePaymentMethodRow = Selectable<RescuePaymentMethodsTable>;
export type PulseRow = Selectable<PulsesTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
