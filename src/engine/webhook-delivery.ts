import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { stopwatch, type Clock } from '../clock.ts';
import { eventJson } from '../domain/event-json.ts';
import { afterFailure } from '../domain/webhook-retry.ts';
import { EgressRefused, type EgressGuard } from '../egress/egress-guard.ts';
import type { Db } from '../store/db.ts';
import { handBackDeliveries, recordDeliveryResults, type ClaimedDelivery, type DeliveryResult } from '../store/webhook-deliveries.ts';

// The worker's webhook round: claim due deliveries, POST each event to its endpoint signed with the
// Standard Webhooks scheme, record the results. 2xx is success; anything else (another status, a
// timeout, a refused connection, a redirect) is retried with exponential backoff and jitter for up
// to 3 days (domain/webhook-retry.ts). Ordering is not promised; `webhook-id` is the event id, the
// same on every retry and resend, so receivers can drop duplicates.

export interface WebhookDeliveryOptions {
  /** A request that has not answered (status line and headers) after this is a failure. */
  timeoutMs: number;
  /** Requests in flight at once per worker; also the size of one claim. */
  concurrency: number;
  /** Wall time for `webhook-timestamp`: receivers compare it with their own clock, also for test-clock events. */
  signingClock: Clock;
  /** Jitter source in [0, 1); injected so tests know every retry time. */
  random: () => number;
  /** Sends each request: resolves once, refuses what the endpoint's mode may not reach, connects to the checked address. */
  egress: EgressGuard;
}

export interface DeliveryRoundDeps extends WebhookDeliveryOptions {
  db: Db;
  /** Scheduling time: what is due, backoff, leases, secret overlap. */
  clock: Clock;
  log: Logger;
  workerId: string;
  /** Aborted when the worker stops: no new request is sent; the claim's unsent deliveries are handed back. */
  stopping?: AbortSignal | undefined;
}

const USER_AGENT = 'Rescue-Webhooks/1';
/** A claim holds this many lanes' worth of deliveries: fewer transactions, each recording more results. */
const CLAIM_ROUNDS = 4;

/** How the worker claims deliveries (engine/jobs.ts): `concurrency × CLAIM_ROUNDS` at a time. */
export function deliveryClaim(o: { concurrency: number; timeoutMs: number; leaseMs: number }): { batch: number; leaseMs: number } {
  // The lease covers the worst claim (every request timing out, CLAIM_ROUNDS after one another) and the write.
  return { batch: o.concurrency * CLAIM_ROUNDS, leaseMs: Math.max(o.leaseMs, CLAIM_ROUNDS * o.timeoutMs + 2000) };
}

/**
 * Sends a claim of deliveries, keeping `concurrency` requests in flight, and records the claim's
 * results in one transaction. Returns how many it sent.
 */
export async function deliverClaimed(d: DeliveryRoundDeps, claimed: readonly ClaimedDelivery[]): Promise<number> {
  const finished: DeliveryResult[] = [];
  let next = 0;
  // A stopping worker sends nothing new and hands the unsent deliveries back at once.
  let handedBack: Promise<void> = Promise.resolve();
  const stop = () => {
    handedBack = handBackDeliveries(d.db, claimed.slice(next), d.workerId);
    next = claimed.length;
  };
  if (d.stopping?.aborted) stop();
  d.stopping?.addEventListener('abort', stop, { once: true });
  const lane = async () => {
    while (next < claimed.length) finished.push(await deliverOne(d, claimed[next++]!));
  };
  try {
    await Promise.all(Array.from({ length: Math.min(d.concurrency, claimed.length) }, lane));
  } finally {
    d.stopping?.removeEventListener('abort', stop);
  }
  await handedBack;
  const disabled = await recordDeliveryResults(d.db, finished, { workerId: d.workerId, now: d.clock.now() });
  if (disabled.length) d.log.warn({ endpoints: disabled }, 'disabled webhook endpoints whose deliveries kept failing');
  return finished.length;
}

async function deliverOne(d: DeliveryRoundDeps, c: ClaimedDelivery): Promise<DeliveryResult> {
  const at = d.clock.now();
  let status: number | null = null;
  let latency: number | null = null;
  let error: string | null = null;
  try {
    const body = JSON.stringify(eventJson(c.event));
    const sentAt = d.signingClock.now();
    // During a rotation's overlap both secrets sign; a receiver holding either one verifies.
    const secrets = [c.secret, ...(c.previous_secret && c.previous_secret_expires_at && c.previous_secret_expires_at > at ? [c.previous_secret] : [])];
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': c.event.id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': secrets.map((s) => new Webhook(s).sign(c.event.id, sentAt, body)).join(' '),
    };
    // Redirects are answers, never followed: a public URL must not bounce a signed event to an internal address.
    const elapsed = stopwatch();
    const res = await d.egress.request(c.url, { method: 'POST', headers, body, livemode: c.livemode, timeoutMs: d.timeoutMs, maxResponseBytes: MAX_BODY_BYTES + 1 });
    // Latency is the time to the status line and headers.
    latency = Math.round(elapsed());
    status = res.status;
    // Only the status matters. A short body is read so the connection can be reused; a long or
    // slow one is dropped (the timeout covers it too), and neither changes the outcome.
    await drain(res, MAX_BODY_BYTES);
    if (status >= 300 && status <= 399) error = 'the endpoint answered with a redirect, which is not followed';
    else if (status < 200 || status > 299) error = `HTTP ${status}`;
  } catch (err) {
    error = failureText(err, d.timeoutMs);
  }
  const attempts = c.attempts + 1;
  const firstAttemptAt = c.first_attempt_at ?? at;
  const next = error === null ? null : afterFailure({ attempts, firstAttemptAt, at, random: d.random() });
  return {
    id: c.id,
    account_id: c.account_id,
    livemode: c.livemode,
    endpoint_id: c.endpoint_id,
    url: c.url,
    status: next === null ? 'succeeded' : next.status,
    attempts,
    next_attempt_at: next?.status === 'pending' ? next.nextAttemptAt : null,
    first_attempt_at: firstAttemptAt,
    last_attempt_at: at,
    last_response_status: status,
    last_latency_ms: latency,
    last_error: error,
  };
}

const MAX_BODY_BYTES = 64 * 1024;

async function drain(res: Response, limit: number): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (let read = 0; read <= limit; ) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // An answer cut short after its status line is still that answer.
  }
}

function failureText(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (err instanceof EgressRefused) return err.message;
  return ('code' in err && typeof err.code === 'string' ? err.code : null) ?? err.message;
}
