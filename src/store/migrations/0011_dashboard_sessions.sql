-- Dashboard sign-in (docs/dashboard.md): a browser session is a random token kept in an HttpOnly
-- cookie; only its SHA-256 is stored, so a copy of this table signs nobody in. Sessions end at
-- expires_at, or when signed out (the row is deleted).
create table dashboard_sessions (
  id text primary key,
  account_id text not null references accounts(id),
  token_hash text not null unique,
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index dashboard_sessions_account on dashboard_sessions (account_id);
create index dashboard_sessions_expiry on dashboard_sessions (expires_at);

-- Failed sign-ins per email address (lowercased; unknown addresses too, so throttling does not tell
-- which addresses have accounts). Kept in the database so every API process counts the same failures.
create table dashboard_sign_in_failures (
  email text primary key,
  failures integer not null,
  first_failed_at timestamptz not null,
  locked_until timestamptz
);
