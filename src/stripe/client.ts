import Stripe from 'stripe';
import type { Config } from '../config.ts';

// Every Stripe call goes through the official SDK, built here. RESCUE_STRIPE_API_BASE points the SDK
// (API and OAuth-token calls alike: the SDK sends every base to an overridden host) at another
// server, a local fake in tests.

/** The platform key is here for the OAuth calls made on a connection's behalf (refreshing its token). */
export type StripeSettings = Pick<Config, 'RESCUE_STRIPE_API_BASE' | 'RESCUE_STRIPE_MAX_NETWORK_RETRIES' | 'RESCUE_STRIPE_TIMEOUT_MS' | 'RESCUE_STRIPE_SECRET_KEY'>;

export function stripeClient(config: StripeSettings, apiKey: string): Stripe {
  const base = new URL(config.RESCUE_STRIPE_API_BASE);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(apiKey, {
    host: base.hostname,
    port: base.port ? Number(base.port) : protocol === 'http' ? 80 : 443,
    protocol,
    maxNetworkRetries: config.RESCUE_STRIPE_MAX_NETWORK_RETRIES,
    timeout: config.RESCUE_STRIPE_TIMEOUT_MS,
    telemetry: false,
    appInfo: { name: 'Rescue', url: 'https://github.com/rescue' },
  });
}

/** Signature checks need no key; one shared instance does them. */
export const stripeWebhooks = new Stripe('sk_unused_for_signature_checks').webhooks;
