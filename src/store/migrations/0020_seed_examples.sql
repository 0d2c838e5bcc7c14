-- Customer ids of the merchant's own choosing (`id` on POST /v2/customers, or the id a payment names
-- for a customer Rescue has not seen: seed 003's `"customer": "cus_abc123"`). Two merchants may both
-- have a cus_abc123, so an id is unique within its account, not across Rescue; every reference to
-- a customer already carries the account.
alter table payments drop constraint if exists payments_customer_id_fkey;
alter table emails drop constraint if exists emails_customer_id_fkey;
alter table customers drop constraint customers_pkey;
alter table customers add primary key (account_id, id);
alter table payments add constraint payments_customer_fkey foreign key (account_id, customer_id) references customers (account_id, id);
alter table emails add constraint emails_customer_fkey foreign key (account_id, customer_id) references customers (account_id, id);

-- How the sandbox card network read a test-mode payment's token, when that is worth saying: a token
-- it does not know is approved, and the payment says so instead of approving silently.
alter table payments add column sandbox_note text;
