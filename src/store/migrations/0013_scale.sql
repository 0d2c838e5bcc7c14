-- Scale (issue 10, docs/scaling.md): the due-attempt indexes at a million planned attempts.
-- attempts_due (planned_at) held every planned attempt, real-time and test-clock alike. Test-clock
-- attempts are planned on their clock's time, usually long before the wall clock, so the real-time
-- claim walked through all of them on every round. Real-time and test-clock attempts now have their
-- own partial indexes.
create index attempts_due_realtime on attempts (planned_at, id) where status = 'planned' and test_clock is null;
-- A test clock's advance claims that clock's attempts, by time.
create index attempts_due_clock on attempts (test_clock, planned_at, id) where status = 'planned' and test_clock is not null;
-- The claim one account at a time (or one shard's accounts at a time) when attempts are
-- distributed or partitioned by account_id: due attempts of the given accounts, by time.
create index attempts_due_account on attempts (account_id, planned_at) where status = 'planned';
drop index attempts_due;
-- attempts_payment (payment_id, number) is the same index as the unique constraint
-- attempts_payment_id_number_key: one fewer index to write on every attempt.
drop index attempts_payment;
