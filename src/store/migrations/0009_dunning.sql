-- Dunning: the emails Rescue sends a customer around a rescue, the account's dunning settings, the
-- update-payment links' signing secret for installs without RESCUE_ENCRYPTION_KEY, the payment
-- methods customers submitted, and the Stripe hosted invoice page a link may point to.

-- One row per (payment, kind): unique, so the same message is never queued twice. Created in the
-- transaction of the event that causes it (store/emails-queue.ts), sent by a worker that claims it
-- with FOR UPDATE SKIP LOCKED and a lease (engine/dunning-send.ts).
create table emails (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  payment_id text not null references payments(id),
  customer_id text references customers(id),
  kind text not null check (kind in ('payment_failed', 'retry_reminder', 'rescue_failed', 'payment_recovered')),
  status text not null check (status in ('queued', 'sent', 'failed')),
  to_address text not null,
  -- What the templates render (amount, merchant, dates, link token…), fixed when queued.
  facts jsonb not null,
  -- Rendered when sent (the message as it left), null while queued.
  subject text,
  text_body text,
  html_body text,
  -- 'outbox' (kept here, nothing leaves) or 'smtp'.
  transport text,
  message_id text,
  -- SMTP tries so far; the next is due at next_attempt_at (wall time; null: at once).
  attempts int not null default 0,
  next_attempt_at timestamptz,
  claimed_by text,
  lease_expires_at timestamptz,
  -- Set just before the message is handed to SMTP: a worker that dies after this may have sent it,
  -- so the row is never sent again (failed, "interrupted") rather than risk a second copy.
  handed_off_at timestamptz,
  error text,
  test_clock text references test_clocks(id),
  -- The account's clock: the test clock's time for payments on one.
  created_at timestamptz not null,
  sent_at timestamptz,
  updated_at timestamptz not null,
  seq bigint generated always as identity,
  unique (account_id, payment_id, kind)
);
create index emails_list on emails (account_id, livemode, seq);
create index emails_due on emails (next_attempt_at nulls first, seq) where status = 'queued';

alter table account_settings add column dunning jsonb;

-- The key update-payment links are signed with when RESCUE_ENCRYPTION_KEY is not set (the embedded
-- default): generated once, shared by every process through the database.
create table instance_secrets (
  name text primary key,
  value text not null,
  created_at timestamptz not null
);

-- Payment methods a customer submitted on the update-payment page (or the merchant reported through
-- POST /v2/payments/:id/payment_method): an audit trail and the bound on reopening a failed payment.
create table payment_method_updates (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  payment_id text not null references payments(id),
  payment_method text not null,
  card_fingerprint text not null,
  source text not null check (source in ('hosted_page', 'api')),
  -- What it did: moved the planned retry, reopened a failed payment for one retry, or was saved only.
  outcome text not null check (outcome in ('retry_moved', 'reopened', 'saved')),
  created_at timestamptz not null
);
create index payment_method_updates_payment on payment_method_updates (account_id, payment_id, created_at);

alter table stripe_invoices add column hosted_invoice_url text;
