-- Card facts the retry-timing model reads (docs/prediction.md): the card's funding (credit, debit,
-- prepaid) and issuing country, as the gateway described the card when the attempt was built
-- (Stripe: payment_method_details.card.funding / country). Rows written before this migration stay
-- null: unknown to the model, never guessed.
alter table attempts add column card_funding text null;
alter table attempts add column card_country text null;
