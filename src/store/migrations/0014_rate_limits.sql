-- Throttles shared by every API process (src/store/rate-limits.ts): one fixed-window counter per key
-- (`key:<api key id>`, `badkey:<address>`, `signin:addr:<address>`, `signin:email:<email>`,
-- `signup:<address>`, and `signin:known:<email>:<address>` marking an address that signed in). A key
-- is counted in one statement, so concurrent requests in any number of processes all count.
-- Unlogged: a count is written on every API request, and skipping the WAL (and the flush at each
-- commit) keeps that cheap. A crash or a failover to a replica empties the table, which only
-- forgets the current windows' counts.
create unlogged table rate_limit_counters (
  key text primary key,
  hits integer not null,
  window_ends_at timestamptz not null
);
create index rate_limit_counters_window on rate_limit_counters (window_ends_at);
-- Replaced by rate_limit_counters: failures counted after the password check could be raced.
drop table dashboard_sign_in_failures;
