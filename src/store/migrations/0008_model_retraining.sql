-- Scheduled retraining (issue 5): per account, mode and clock ('' = real time, else a test clock's id),
-- when the account last retrained on that clock and when the worker should look again. The worker
-- reads only rows whose check_after has passed (one indexed query per round when nothing is due).
create table model_retraining (
  account_id text not null references accounts(id),
  livemode boolean not null,
  kind text not null check (kind in ('retry_timing')),
  clock text not null,
  last_trained_at timestamptz,
  check_after timestamptz not null,
  primary key (account_id, livemode, kind, clock)
);
create index model_retraining_due on model_retraining (check_after) where clock = '';
