-- Revtain-style recovery hand-offs (seed 004): a payment whose first attempt failed elsewhere,
-- an ordered list of payment methods to cascade through, named gateways, organic successes (pulses)
-- for Lift, and the control-group assignment. Every table carries account_id.

-- One row per hand-off (POST /api/recovery/execute). The payment, its rescue and its attempts are
-- the Foundation's rows; this adds what the merchant handed over and how the hand-off was treated.
create table recoveries (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  payment_id text not null references payments(id),
  -- The merchant's idempotencyKey: a second hand-off with the same key is a 409, not a new recovery.
  idempotency_key text,
  original_decline_code text not null,
  card_origin text,
  payment_method_type text not null,
  -- Control-group experiment: treatment (the automatic policy), control (a plain fixed schedule), or
  -- null when the hand-off was not part of it (no experiment running, or nothing to retry).
  experiment_group text check (experiment_group in ('treatment', 'control')),
  -- Predicted chance of recovery at hand-off, 0..1 (domain/recovery-score.ts).
  predicted_recovery real,
  prediction_reasoning text,
  created_at timestamptz not null,
  seq bigint generated always as identity
);
create unique index recoveries_payment on recoveries (account_id, payment_id);
create unique index recoveries_idempotency on recoveries (account_id, livemode, idempotency_key) where idempotency_key is not null;
create index recoveries_created on recoveries (account_id, livemode, created_at);

-- The payment methods a rescue may charge, in order: position 0 is the primary, then the fallbacks.
-- Written once at hand-off; which one is being charged is rescues.payment_method_position.
create table rescue_payment_methods (
  account_id text not null references accounts(id),
  payment_id text not null references payments(id),
  position int not null,
  token text not null,
  -- The named gateway the token routes to; null is the account's default gateway.
  gateway text,
  type text not null,
  brand text not null,
  last4 text,
  fingerprint text not null,
  primary key (account_id, payment_id, position)
);

-- The rescue's current payment method, and the budget that method started with: a fallback gets a
-- fresh retry count and window (decisions.md, "Fallback payment methods").
alter table rescues add column payment_method_position int not null default 0;
alter table rescues add column method_started_at timestamptz;
alter table rescues add column method_retries_base int not null default 0;

-- What each attempt charged: the gateway it was routed to, the card's last 4, the wallet type, and
-- which of the rescue's payment methods it was.
alter table attempts add column gateway text;
alter table attempts add column card_last4 text;
alter table attempts add column payment_method_type text not null default 'card';
alter table attempts add column payment_method_position int not null default 0;

-- Named gateways beside the default one (`gateway`), and recovery settings (control group).
alter table account_settings add column gateways jsonb not null default '[]';
alter table account_settings add column recovery jsonb not null default '{}';

-- Organic successes the merchant logs (POST /api/recovery/pulse), one per transaction id.
create table pulses (
  account_id text not null references accounts(id),
  livemode boolean not null,
  transaction_id text not null,
  amount bigint not null check (amount > 0),
  currency text not null,
  created_at timestamptz not null,
  primary key (account_id, livemode, transaction_id)
);
create index pulses_created on pulses (account_id, livemode, created_at);

-- Lift reads recovered rescues and first-attempt successes by time.
create index rescues_ended on rescues (account_id, status, ended_at);
