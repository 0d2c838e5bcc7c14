// When a webhook delivery that failed is tried again, when it is given up, and when an endpoint that
// keeps failing is disabled. Pure: time and randomness are passed in.

import type { NewEvent } from './events.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** A delivery is retried for this long after its first request, then marked failed. */
export const DELIVERY_WINDOW_MS = 3 * 24 * HOUR_MS;
/** The first retry waits a minute; each later one twice as long as the one before… */
export const FIRST_RETRY_DELAY_MS = MINUTE_MS;
/** …up to eight hours: 1, 2, 4, … 128, 256 min, then every 8 h (17 requests in 3 days without jitter). */
export const MAX_RETRY_DELAY_MS = 8 * HOUR_MS;
/** Each delay is stretched or shrunk by up to this fraction, so receivers coming back up are not hit all at once. */
export const JITTER = 0.2;
/** An endpoint is disabled when this many deliveries in a row have ended failed (each after 3 days of retries). */
export const DISABLE_AFTER_FAILED_DELIVERIES = 5;

/**
 * The wait after the `attempts`-th failed request (1 for the first), with `random` in [0, 1):
 * 0.5 gives the nominal delay, 0 and 1 its ends (±20%).
 */
export function retryDelayMs(attempts: number, random: number): number {
  const nominal = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(nominal * (1 - JITTER + 2 * JITTER * random));
}

export type AfterFailure = { status: 'pending'; nextAttemptAt: Date } | { status: 'failed' };

/** After a failed request at `at`: the next try, or give up when it would fall outside the window. */
export function afterFailure(o: { attempts: number; firstAttemptAt: Date; at: Date; random: number }): AfterFailure {
  const next = o.at.getTime() + retryDelayMs(o.attempts, o.random);
  if (next > o.firstAttemptAt.getTime() + DELIVERY_WINDOW_MS) return { status: 'failed' };
  return { status: 'pending', nextAttemptAt: new Date(next) };
}

/** Rescue's own event: an endpoint was disabled because its deliveries kept failing. */
export function webhookEndpointDisabled(e: { id: string; url: string; failedDeliveries: number }): NewEvent {
  return {
    type: 'webhook_endpoint.disabled',
    objectId: e.id,
    data: { webhook_endpoint: e.id, url: e.url, reason: 'failing', failed_deliveries: e.failedDeliveries },
  };
}
