-- The customer-portal widget (GET /api/widget/insights), per account and mode: the secret the
-- merchant's server signs widget tokens with (key_id names it inside each token, so a token finds its
-- account without saying which), the origins allowed to frame the widget (CSP frame-ancestors), and
-- its branding. Rotating the secret replaces key_id too: tokens signed with the old one stop working.
create table widget_settings (
  account_id text not null references accounts(id),
  livemode boolean not null,
  key_id text unique,
  secret text,
  secret_created_at timestamptz,
  allowed_origins jsonb not null default '[]',
  branding jsonb not null default '{}',
  updated_at timestamptz not null,
  primary key (account_id, livemode)
);
