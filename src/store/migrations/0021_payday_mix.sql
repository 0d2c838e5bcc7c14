-- An account's pay-calendar mixture (issue 16, src/predict/payday-mix.ts) is a model of its own kind:
-- it is judged on its own held-out test at each retraining and is active or not whatever the
-- retry-timing model's fate, so an account still on the shipped prior can use it.
alter table models drop constraint models_kind_check;
alter table models add constraint models_kind_check check (kind in ('retry_timing', 'payday_mix'));
