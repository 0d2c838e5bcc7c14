-- Events are written in the same transaction as the state change that causes them
-- (DESIGN.md invariant 3), and delivered from here to webhook endpoints at least once.
create table events (
  id text primary key,
  account_id text not null references accounts(id),
  livemode boolean not null,
  type text not null,
  api_version text not null,
  data jsonb not null,
  -- The clock's time of the change: a test clock's time for objects living on one.
  created_at timestamptz not null,
  -- The object the event is about, for "all events of this payment".
  object_id text,
  seq bigint generated always as identity
);
create index events_list on events (account_id, livemode, seq);
create index events_type on events (account_id, livemode, type, seq);
create index events_object on events (account_id, object_id);

-- A retry announces itself (payment.rescue_retry) once, before its charge.
alter table attempts add column announced_at timestamptz;
