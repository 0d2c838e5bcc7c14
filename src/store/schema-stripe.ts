import type { ColumnType, Generated, Selectable } from 'kysely';
import type { Json, Seq } from './schema.ts';

// Row types of the Stripe tables (migrations 0005 and 0010), part of `Database` in schema.ts.

export type StripeMode = 'observe' | 'active';

/** needs_reconnect: Rescue holds no working key (refresh refused, key revoked); webhooks still arrive. */
export type StripeConnectionStatus = 'connected' | 'needs_reconnect' | 'disconnected';

export interface StripeConnectionsTable {
  account_id: string;
  livemode: boolean;
  status: StripeConnectionStatus;
  kind: 'oauth' | 'api_key';
  stripe_account_id: string | null;
  scope: string | null;
  mode: StripeMode;
  access_token_enc: string | null;
  refresh_token_enc: string | null;
  api_key_enc: string | null;
  webhook_secret_enc: string | null;
  connected_at: Date;
  disconnected_at: Date | null;
  updated_at: Date;
  /** Why it is not connected (0010). */
  status_reason: ColumnType<string | null, string | null | undefined, string | null>;
  token_refreshed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Why the connection needs the merchant's attention while it still works (0014): a refused lookup. */
  attention_reason: ColumnType<string | null, string | null | undefined, string | null>;
  attention_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface StripeEventsTable {
  account_id: string;
  livemode: boolean;
  stripe_event_id: string;
  type: string;
  source: 'connect' | 'billing';
  received_at: Date;
}

export interface StripeCustomersTable {
  account_id: string;
  livemode: boolean;
  stripe_customer_id: string;
  customer_id: string;
}

export interface StripeInvoicesTable {
  account_id: string;
  livemode: boolean;
  invoice_id: string;
  stripe_customer_id: string | null;
  subscription_id: string | null;
  payment_id: string | null;
  status: string | null;
  amount_due: ColumnType<number, number, number>;
  amount_paid: ColumnType<number, number, number>;
  currency: string;
  attempt_count: number;
  billing_reason: string | null;
  created_at: Date;
  paid_at: Date | null;
  updated_at: Date;
}

export interface StripeChargesTable {
  account_id: string;
  livemode: boolean;
  charge_id: string;
  stripe_customer_id: string | null;
  invoice_id: string | null;
  payment_intent_id: string | null;
  amount: ColumnType<number, number, number>;
  currency: string;
  status: string;
  failure_code: string | null;
  decline_code: string | null;
  advice_code: string | null;
  card_brand: string | null;
  card_country: string | null;
  card_funding: string | null;
  card_wallet: string | null;
  card_fingerprint: string | null;
  created_at: Date;
}

export interface StripeSubscriptionsTable {
  account_id: string;
  livemode: boolean;
  subscription_id: string;
  stripe_customer_id: string | null;
  status: string;
  created_at: Date;
  canceled_at: Date | null;
  ended_at: Date | null;
  cancellation_reason: string | null;
  churned_at: Date | null;
  updated_at: Date;
}

export interface StripeCardUpdatesTable {
  account_id: string;
  livemode: boolean;
  stripe_event_id: string;
  payment_method: string;
  stripe_customer_id: string | null;
  card_brand: string | null;
  card_last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  card_fingerprint: string | null;
  updated_at: Date;
}

/** One-off payment intents (no invoice) whose failure became a Rescue payment (0010). */
export interface StripePaymentIntentsTable {
  account_id: string;
  livemode: boolean;
  payment_intent_id: string;
  stripe_customer_id: string | null;
  payment_id: string | null;
  status: string;
  amount: ColumnType<number, number, number>;
  currency: string;
  created_at: Date;
  updated_at: Date;
}

export type StripeHandbackStatus = 'held' | 'pending' | 'restored' | 'impossible';

/** An invoice Rescue took over (auto_advance: false) and hands back when it lets go (0014). */
export interface StripeHandbacksTable {
  account_id: string;
  livemode: boolean;
  invoice_id: string;
  payment_id: string | null;
  auto_advance_before: boolean;
  generation: Generated<number>;
  status: StripeHandbackStatus;
  reason: string | null;
  next_run_at: Date | null;
  claimed_by: string | null;
  lease_expires_at: Date | null;
  failures: Generated<number>;
  last_error: string | null;
  taken_at: Date;
  released_at: Date | null;
  restored_at: Date | null;
}

/** A Stripe test clock → the Rescue test clock its invoices' payments live on (0014). */
export interface StripeTestClocksTable {
  account_id: string;
  livemode: boolean;
  stripe_test_clock_id: string;
  test_clock_id: string;
}

export type StripeHandbackRow = Selectable<StripeHandbacksTable>;

export type StripeBackfillObject = 'invoices' | 'charges' | 'subscriptions';

export interface StripeBackfillsTable {
  account_id: string;
  livemode: boolean;
  object_type: StripeBackfillObject;
  since: Date;
  cursor: string | null;
  imported: Generated<number>;
  status: 'pending' | 'running' | 'done' | 'failed';
  next_run_at: Date;
  claimed_by: string | null;
  lease_expires_at: Date | null;
  failures: Generated<number>;
  last_error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export type StripeConnectionRow = Selectable<StripeConnectionsTable>;
export type StripeBackfillRow = Selectable<StripeBackfillsTable>;
