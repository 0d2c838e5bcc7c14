-- Webhook endpoints (per account and mode) and one delivery row per (event, endpoint), created in
-- the same transaction as the event (store/events.ts#insertEvents), so an event committed is an
-- event that will be delivered, whatever crashes afterwards (DESIGN.md invariant 3).
create table webhook_endpoints (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  url text not null,
  description text,
  -- Event types this endpoint receives; ["*"] means every type.
  enabled_events jsonb not null,
  status text not null check (status in ('enabled', 'disabled')),
  -- Why a disabled endpoint is disabled: 'requested' (the merchant) or 'failing' (deliveries kept failing).
  disabled_reason text,
  -- Standard Webhooks secret (whsec_…). After a rotation the previous one keeps signing beside it
  -- until previous_secret_expires_at.
  secret text not null,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  -- Deliveries that ended failed since the last delivery that succeeded.
  consecutive_failures int not null default 0,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  seq bigint generated always as identity
);
create index webhook_endpoints_list on webhook_endpoints (account_id, livemode, seq);
create index webhook_endpoints_enabled on webhook_endpoints (account_id, livemode) where status = 'enabled';

create table webhook_deliveries (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  event_id text not null references events(id),
  endpoint_id text not null references webhook_endpoints(id) on delete cascade,
  status text not null check (status in ('pending', 'succeeded', 'failed')),
  -- Requests sent so far.
  attempts int not null default 0,
  -- When the next request is due (wall time); null: as soon as a worker sees it.
  next_attempt_at timestamptz,
  -- The worker sending it, with a lease: a delivery whose worker died is sent again after it.
  claimed_by text,
  lease_expires_at timestamptz,
  first_attempt_at timestamptz,
  last_attempt_at timestamptz,
  last_response_status int,
  last_latency_ms int,
  last_error text,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  seq bigint generated always as identity
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at nulls first, seq) where status = 'pending';
create index webhook_deliveries_endpoint on webhook_deliveries (account_id, endpoint_id, seq);
create index webhook_deliveries_event on webhook_deliveries (account_id, event_id);
