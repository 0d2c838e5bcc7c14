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

-- Pre-dunning (engine/pre-dunning.ts): a customer's latest paid payment, checked once — does its card
-- expire before the next expected payment? `send_at` is when to tell them (null: it does not),
-- `done_at` when that was settled: the email queued, or skipped because the card was replaced.
create table card_expiry_checks (
  account_id text not null references accounts(id),
  payment_id text not null references payments(id),
  livemode boolean not null,
  test_clock text references test_clocks(id),
  send_at timestamptz,
  next_payment_at timestamptz,
  card_expires_at timestamptz,
  done_at timestamptz,
  outcome text check (outcome in ('queued', 'card_replaced', 'not_notified')),
  checked_at timestamptz not null,
  primary key (account_id, payment_id)
);
create index card_expiry_checks_due on card_expiry_checks (send_at) where done_at is null and send_at is not null;

-- The pre-dunning email joins the sequence.
alter table emails drop constraint emails_kind_check;
alter table emails add constraint emails_kind_check check (kind in ('payment_failed', 'retry_reminder', 'rescue_failed', 'payment_recovered', 'card_expiring'));
