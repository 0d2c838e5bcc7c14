-- Foundation schema. Every table holding merchant data carries account_id; every query filters by it.
-- Times are timestamptz (UTC inside); money is bigint minor units with an ISO 4217 code.

create table accounts (
  id text primary key,
  email text not null unique,
  password_hash text not null,
  business_name text not null,
  created_at timestamptz not null
);

create table api_keys (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  key_hash text not null unique,
  key_hint text not null,
  created_at timestamptz not null
);
create index api_keys_account on api_keys (account_id);

-- Settings per account and mode: a test key and a live key may point at different gateways.
create table account_settings (
  account_id text not null references accounts(id),
  livemode boolean not null,
  auto_rescue jsonb not null,
  gateway jsonb not null,
  updated_at timestamptz not null,
  primary key (account_id, livemode)
);

create table test_clocks (
  id text primary key,
  account_id text not null references accounts(id),
  name text,
  frozen_time timestamptz not null,
  -- Where an advance is heading; equals frozen_time when ready.
  target_time timestamptz not null,
  status text not null check (status in ('ready', 'advancing')),
  -- The worker moving the clock, with a lease so a dead worker's advance is picked up by another.
  claimed_by text,
  lease_expires_at timestamptz,
  created_at timestamptz not null,
  seq bigint generated always as identity
);
create index test_clocks_account on test_clocks (account_id, seq);
create index test_clocks_advancing on test_clocks (status) where status = 'advancing';

create table customers (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  email text,
  name text,
  timezone text not null,
  locale text,
  metadata jsonb not null,
  test_clock text references test_clocks(id),
  created_at timestamptz not null,
  seq bigint generated always as identity
);
create index customers_list on customers (account_id, livemode, seq);

create table payments (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  customer_id text references customers(id),
  payment_method text not null,
  amount bigint not null check (amount > 0),
  currency text not null,
  off_session boolean not null,
  status text not null check (status in ('processing', 'succeeded', 'requires_rescue', 'rescue_in_progress', 'failed', 'rescue_cancelled')),
  failure_code text,
  failure_message text,
  metadata jsonb not null,
  test_clock text references test_clocks(id),
  idempotency_key text,
  -- The Auto Rescue policy resolved when the payment was created (null: Auto Rescue does not apply).
  -- Kept on the payment so whoever finishes the first attempt — the API or a reconciling worker —
  -- starts the rescue the merchant asked for.
  rescue_policy jsonb,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  seq bigint generated always as identity
);
create index payments_list on payments (account_id, livemode, seq);
create index payments_status on payments (account_id, livemode, status, seq);
create index payments_customer on payments (account_id, customer_id, seq);
create unique index payments_idempotency on payments (account_id, livemode, idempotency_key) where idempotency_key is not null;

-- One rescue per payment that entered Auto Rescue. `schedule` is the policy's current plan of the
-- remaining retries (what the API shows as scheduled_retries); the next one is also an attempts row.
create table rescues (
  payment_id text primary key references payments(id),
  account_id text not null references accounts(id),
  status text not null check (status in ('active', 'recovered', 'exhausted', 'cancelled')),
  max_retries int not null,
  retry_window_days int not null,
  window_ends_at timestamptz not null,
  retry_schedule text not null check (retry_schedule in ('automatic', 'custom')),
  custom_schedule_days jsonb,
  notify_customer boolean not null,
  check_account_updater boolean not null,
  retries_made int not null default 0,
  schedule jsonb not null,
  end_reason text,
  started_at timestamptz not null,
  ended_at timestamptz
);
create index rescues_account on rescues (account_id, status);

-- Attempts are both the schedule (status planned) and the history. A planned attempt is claimed by
-- exactly one worker (processing, with a lease); the gateway call carries idempotency_key.
create table attempts (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  payment_id text not null references payments(id),
  number int not null,
  status text not null check (status in ('planned', 'processing', 'succeeded', 'failed', 'cancelled')),
  planned_at timestamptz not null,
  claimed_by text,
  lease_expires_at timestamptz,
  attempted_at timestamptz,
  idempotency_key text not null,
  decline_code text,
  decline_category text,
  advice_code text,
  failure_message text,
  transaction_id text,
  card_fingerprint text not null,
  card_brand text not null,
  account_updater_checked boolean not null default false,
  card_was_updated boolean not null default false,
  -- Times the gateway gave no answer for this attempt; it is re-asked with the same key.
  gateway_errors int not null default 0,
  test_clock text references test_clocks(id),
  predicted_p real,
  unique (payment_id, number),
  unique (account_id, idempotency_key)
);
create index attempts_due on attempts (planned_at) where status = 'planned';
create index attempts_processing on attempts (lease_expires_at) where status = 'processing';
create index attempts_card on attempts (account_id, card_fingerprint, attempted_at);
create index attempts_payment on attempts (payment_id, number);

-- One row per card a real-time worker has charged. A worker leases the card while it charges it, so
-- workers running side by side never charge one card at once and each sees the card's full history
-- when it checks the network retry limits (DESIGN.md invariant 1).
create table card_leases (
  account_id text not null references accounts(id),
  fingerprint text not null,
  claimed_by text,
  lease_expires_at timestamptz,
  primary key (account_id, fingerprint)
);

create table idempotency_keys (
  account_id text not null references accounts(id),
  livemode boolean not null,
  key text not null,
  request_method text not null,
  request_path text not null,
  request_hash text not null,
  response_status int,
  response_body jsonb,
  created_at timestamptz not null,
  primary key (account_id, livemode, key)
);

-- The sandbox card network's own ledger: what a real network would remember about each charge,
-- keyed by the caller's idempotency key, so a repeated call returns the first answer.
create table sandbox_charges (
  account_id text not null references accounts(id),
  idempotency_key text not null,
  payment_method text not null,
  amount bigint not null,
  outcome jsonb not null,
  created_at timestamptz not null,
  primary key (account_id, idempotency_key)
);
