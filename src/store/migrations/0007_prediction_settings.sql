-- Prediction settings per account and mode (issue 5): the risk score (0-100) at which a stored payment
-- method's score emits predict.risk.high. No row: the default (src/predict/risk.ts DEFAULT_RISK_THRESHOLD).
create table prediction_settings (
  account_id text not null references accounts(id),
  livemode boolean not null,
  risk_threshold real not null check (risk_threshold >= 0 and risk_threshold <= 100),
  updated_at timestamptz not null,
  primary key (account_id, livemode)
);
