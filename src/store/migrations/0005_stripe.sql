-- Stripe as a gateway and an event source (issue 6): the connection (OAuth or a pasted restricted
-- key, tokens encrypted at rest), the Stripe events already processed, the mapping from Stripe's
-- customers and invoices to Rescue's rows, the history imported on connect (invoices, charges,
-- subscriptions, for the prediction models), and the resumable backfill. Every table has account_id.

-- One connection per account and mode. Secrets are AES-256-GCM ciphertexts carrying their key id
-- (src/stripe/crypto.ts); a disconnected row keeps no secret.
create table stripe_connections (
  account_id text not null references accounts(id),
  livemode boolean not null,
  status text not null check (status in ('connected', 'disconnected')),
  -- oauth: Stripe Connect (Standard); api_key: a restricted key the merchant pasted.
  kind text not null check (kind in ('oauth', 'api_key')),
  stripe_account_id text,
  scope text,
  -- observe: read-only, Stripe's own retries run; active: Rescue retries through the SDK.
  mode text not null check (mode in ('observe', 'active')),
  access_token_enc text,
  refresh_token_enc text,
  api_key_enc text,
  -- The signing secret of the merchant's own webhook endpoint (POST /api/stripe/billing-webhook).
  webhook_secret_enc text,
  connected_at timestamptz not null,
  disconnected_at timestamptz,
  updated_at timestamptz not null,
  primary key (account_id, livemode)
);
-- A connected Stripe account belongs to one Rescue account at a time (connected-account webhooks
-- are routed by it).
create unique index stripe_connections_stripe_account on stripe_connections (stripe_account_id, livemode) where status = 'connected';

-- Each Stripe event id is processed once, even when Stripe redelivers it.
create table stripe_events (
  account_id text not null references accounts(id),
  livemode boolean not null,
  stripe_event_id text not null,
  type text not null,
  source text not null check (source in ('connect', 'billing')),
  received_at timestamptz not null,
  primary key (account_id, stripe_event_id)
);

-- Stripe customers known to Rescue, and the Rescue customer each one is.
create table stripe_customers (
  account_id text not null references accounts(id),
  livemode boolean not null,
  stripe_customer_id text not null,
  customer_id text not null,
  primary key (account_id, livemode, stripe_customer_id)
);

-- Invoices: imported history, and the Rescue payment an invoice's failure became (payment_id).
create table stripe_invoices (
  account_id text not null references accounts(id),
  livemode boolean not null,
  invoice_id text not null,
  stripe_customer_id text,
  subscription_id text,
  payment_id text references payments(id),
  status text,
  amount_due bigint not null,
  amount_paid bigint not null,
  currency text not null,
  attempt_count int not null default 0,
  billing_reason text,
  created_at timestamptz not null,
  paid_at timestamptz,
  updated_at timestamptz not null,
  primary key (account_id, livemode, invoice_id)
);
create unique index stripe_invoices_payment on stripe_invoices (account_id, payment_id) where payment_id is not null;

-- Charges: imported history with the card and the decline, for the models.
create table stripe_charges (
  account_id text not null references accounts(id),
  livemode boolean not null,
  charge_id text not null,
  stripe_customer_id text,
  invoice_id text,
  payment_intent_id text,
  amount bigint not null,
  currency text not null,
  status text not null,
  failure_code text,
  decline_code text,
  advice_code text,
  card_brand text,
  card_country text,
  card_funding text,
  card_wallet text,
  card_fingerprint text,
  created_at timestamptz not null,
  primary key (account_id, livemode, charge_id)
);

-- Subscriptions: imported history, and the churn label (churned_at) for churn prediction.
create table stripe_subscriptions (
  account_id text not null references accounts(id),
  livemode boolean not null,
  subscription_id text not null,
  stripe_customer_id text,
  status text not null,
  created_at timestamptz not null,
  canceled_at timestamptz,
  ended_at timestamptz,
  cancellation_reason text,
  churned_at timestamptz,
  updated_at timestamptz not null,
  primary key (account_id, livemode, subscription_id)
);

-- Card-updater signals (payment_method.automatically_updated, customer.source.updated).
create table stripe_card_updates (
  account_id text not null references accounts(id),
  livemode boolean not null,
  stripe_event_id text not null,
  payment_method text not null,
  stripe_customer_id text,
  card_brand text,
  card_last4 text,
  exp_month int,
  exp_year int,
  card_fingerprint text,
  updated_at timestamptz not null,
  primary key (account_id, stripe_event_id)
);

-- The import on connect: one row per object type, its cursor (the last id imported), so a crashed
-- or rate-limited import resumes where it stopped. Claimed by one worker at a time with a lease.
create table stripe_backfills (
  account_id text not null references accounts(id),
  livemode boolean not null,
  object_type text not null check (object_type in ('invoices', 'charges', 'subscriptions')),
  since timestamptz not null,
  cursor text,
  imported int not null default 0,
  status text not null check (status in ('pending', 'running', 'done', 'failed')),
  next_run_at timestamptz not null,
  claimed_by text,
  lease_expires_at timestamptz,
  failures int not null default 0,
  last_error text,
  started_at timestamptz not null,
  finished_at timestamptz,
  primary key (account_id, livemode, object_type)
);
create index stripe_backfills_due on stripe_backfills (status, next_run_at);
