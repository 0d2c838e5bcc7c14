-- The dashboard's analytics (src/store/analytics.ts) read attempts, rescues and webhook deliveries of
-- one account by time; without these each figure scans every row of the account.
create index attempts_account_time on attempts (account_id, attempted_at) where status in ('succeeded', 'failed');
create index rescues_account_started on rescues (account_id, started_at);
create index webhook_deliveries_account_time on webhook_deliveries (account_id, created_at);
