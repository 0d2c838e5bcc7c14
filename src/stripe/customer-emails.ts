// One sender: Stripe can email a connected account's customers about failed payments itself
// (Billing settings, "Manage failed payments"). With Rescue's dunning emails on too, a customer would
// get two messages for one failure. Stripe's API offers no way to read those settings (they live only
// in the Stripe Dashboard), so Rescue cannot tell whether they are on: whenever Stripe is connected it
// says which to turn off, and where (docs/stripe.md, "One sender").

export const STRIPE_EMAIL_SETTINGS_URL = 'https://dashboard.stripe.com/settings/billing/automatic';

export interface CustomerEmailsNotice {
  /** Whether Stripe's own failed-payment emails are on: always null, Stripe's API does not tell. */
  stripe_failed_payment_emails: null;
  /** Rescue's dunning emails in this mode (GET /v2/settings/dunning `enabled`). */
  rescue_emails_enabled: boolean;
  settings_url: string;
  advice: string;
}

export function customerEmailsNotice(rescueEmailsEnabled: boolean): CustomerEmailsNotice {
  return {
    stripe_failed_payment_emails: null,
    rescue_emails_enabled: rescueEmailsEnabled,
    settings_url: STRIPE_EMAIL_SETTINGS_URL,
    advice: rescueEmailsEnabled
      ? "Rescue emails your customers when a payment fails. Stripe can too, and its API does not say whether it does: in Stripe, open Settings → Billing → Subscriptions and emails → Manage failed payments, and turn off \"Send emails when card payments fail\" (and \"Send a Stripe-hosted link for customers to update their card\"), so no customer gets two emails."
      : "Rescue's customer emails are off in this mode, so Stripe's failed-payment emails (Settings → Billing → Subscriptions and emails → Manage failed payments) can stay on. If you turn Rescue's on, turn Stripe's off so no customer gets two emails.",
  };
}
