-- Stripe, the remaining gaps: a connection can need reconnecting (its OAuth token was refused and
-- could not be refreshed, or a pasted key was revoked) and says why it ended; one-off payment intents
-- (not invoices) that failed become payments, mapped here so each one is rescued once.

-- needs_reconnect: Rescue holds no working key any more (its tokens are forgotten), but the merchant
-- has not revoked Rescue: webhooks are still routed to it, nothing is charged, a reconnect restores it.
alter table stripe_connections drop constraint stripe_connections_status_check;
alter table stripe_connections add constraint stripe_connections_status_check check (status in ('connected', 'needs_reconnect', 'disconnected'));
-- Why the connection is not connected (deauthorized in Stripe, disconnected in Rescue, refresh refused).
alter table stripe_connections add column status_reason text;
-- When Rescue last refreshed the OAuth access token with the refresh token.
alter table stripe_connections add column token_refreshed_at timestamptz;
-- A Stripe account needing a reconnect still belongs to its Rescue account.
drop index stripe_connections_stripe_account;
create unique index stripe_connections_stripe_account on stripe_connections (stripe_account_id, livemode) where status <> 'disconnected';

-- One-off payment intents (no invoice) whose failure became a Rescue payment.
create table stripe_payment_intents (
  account_id text not null references accounts(id),
  livemode boolean not null,
  payment_intent_id text not null,
  stripe_customer_id text,
  payment_id text references payments(id),
  status text not null,
  amount bigint not null,
  currency text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (account_id, livemode, payment_intent_id)
);
create unique index stripe_payment_intents_payment on stripe_payment_intents (account_id, payment_id) where payment_id is not null;
