-- Prediction (issue 5): versioned models with their stored evaluation, risk scores of stored payment
-- methods (for predict.risk.high), and the account's prediction settings. Every table carries account_id.

-- One row per trained model. `status`: active (the one in use for its kind), candidate (trained but
-- judged no better than the active one, kept for the record), retired (replaced by a better one).
-- A model an account has not trained yet is the prior shipped with Rescue (src/predict/*.json).
create table models (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  kind text not null check (kind in ('retry_timing')),
  version int not null,
  status text not null check (status in ('active', 'candidate', 'retired')),
  params jsonb not null,
  -- {model: Evaluation, baseline: Evaluation, incumbent: Evaluation | null, examples, held_out}
  metrics jsonb not null,
  trained_at timestamptz not null,
  unique (account_id, livemode, kind, version)
);
create unique index models_active on models (account_id, livemode, kind) where status = 'active';

-- The latest risk score of each stored payment method the merchant asked about, so crossing the
-- account's threshold (upwards) emits predict.risk.high once, not on every request.
create table payment_method_risk (
  account_id text not null references accounts(id),
  livemode boolean not null,
  payment_method text not null,
  risk_score real not null,
  high boolean not null,
  updated_at timestamptz not null,
  primary key (account_id, livemode, payment_method)
);

-- Success lookups for payday learning: a card's recovered retries.
create index attempts_card_successes on attempts (account_id, card_fingerprint, attempted_at) where status = 'succeeded' and number > 1;
