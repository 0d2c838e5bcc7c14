-- Stripe, issue 15: a connection can need the merchant's attention while it still works (Stripe
-- refused a lookup with a 4xx: a restricted key lacking a permission, an object it cannot see), and
-- every invoice Rescue takes over (auto_advance: false) is handed back when Rescue lets go of it.

-- Set when a webhook's lookup was refused; cleared when the permissions check passes again.
alter table stripe_connections add column attention_reason text;
alter table stripe_connections add column attention_at timestamptz;

-- One row per invoice Rescue took over. held: Rescue retries it (auto_advance false in Stripe);
-- pending: Rescue let go, auto_advance is to be restored (a worker job, retried while Stripe is down);
-- restored: done; impossible: Rescue can no longer reach the account (deauthorized) — listed for the
-- merchant to restore by hand.
create table stripe_handbacks (
  account_id text not null references accounts(id),
  livemode boolean not null,
  invoice_id text not null,
  payment_id text references payments(id),
  -- auto_advance as it was before Rescue took the invoice over: what a hand-back restores.
  auto_advance_before boolean not null,
  -- How many times Rescue took this invoice over: part of the restore's idempotency key.
  generation integer not null default 1,
  status text not null check (status in ('held', 'pending', 'restored', 'impossible')),
  reason text,
  next_run_at timestamptz,
  claimed_by text,
  lease_expires_at timestamptz,
  failures integer not null default 0,
  last_error text,
  taken_at timestamptz not null,
  released_at timestamptz,
  restored_at timestamptz,
  primary key (account_id, livemode, invoice_id)
);
create index stripe_handbacks_due on stripe_handbacks (status, next_run_at);

-- A Stripe test clock (an invoice's `test_clock`) tied to the Rescue test clock its payments live on:
-- the payment's first attempt is at the Stripe clock's time, its retries run as the Rescue clock advances.
create table stripe_test_clocks (
  account_id text not null references accounts(id),
  livemode boolean not null,
  stripe_test_clock_id text not null,
  test_clock_id text not null references test_clocks(id),
  primary key (account_id, livemode, stripe_test_clock_id)
);
