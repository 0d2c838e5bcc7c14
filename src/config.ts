import { z } from 'zod';

// Settings come from the environment, parsed once at start; a bad value stops the process with a
// message naming the variable instead of surfacing later as a confusing failure.
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().url().optional(),
  RESCUE_DATA_DIR: z.string().min(1).default('./.rescue'),
  /** Public base URL printed at start and used in links (defaults to http://HOST:PORT). */
  RESCUE_PUBLIC_URL: z.string().url().optional(),
  /** How often an idle worker looks for due attempts. */
  RESCUE_WORKER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** `rescue worker` serves GET /health and /ready on this port (also `--health-port`); unset: no health server. */
  RESCUE_WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /**
   * On SIGTERM/SIGINT, how long calls in flight (gateway charges, webhooks, API requests) may still
   * finish; the process exits about a second after, inside a platform's usual 10 s.
   */
  RESCUE_STOP_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(8000),
  /** Attempts one worker claims per round. */
  RESCUE_WORKER_LOOPS: z.coerce.number().int().min(1).max(32).default(1),
  RESCUE_WORKER_BATCH: z.coerce.number().int().min(1).max(5000).default(200),
  /** Attempts one test-clock advance runs per transaction (they share one instant window). */
  RESCUE_CLOCK_BATCH: z.coerce.number().int().min(1).max(20_000).default(2000),
  /** How long a claimed attempt stays with its worker before another worker reconciles it. */
  RESCUE_ATTEMPT_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  /** Timeout for one call to the merchant's http gateway. */
  RESCUE_HTTP_GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Timeout of one webhook delivery: no answer (status line) within it is a failure, retried later. */
  RESCUE_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Webhook requests one worker has in flight at once. */
  RESCUE_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /**
   * Let live mode charge through a gateway, and send webhooks to endpoints, on a loopback or private
   * address. Off by default (a live key must not reach into Rescue's own network); turn it on when
   * your charge service or webhook receiver runs inside the same private network as Rescue.
   */
  RESCUE_LIVE_GATEWAY_PRIVATE_ADDRESSES: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /**
   * Let test mode reach loopback and private addresses (a merchant's gateway or webhook receiver on
   * localhost). Default: on while Rescue listens on loopback (the embedded default), off otherwise, so
   * a public Rescue's test keys are not a port scanner into its network. Link-local and cloud
   * metadata addresses are refused whatever this says (src/egress/).
   */
  RESCUE_TEST_PRIVATE_ADDRESSES: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')),
  /**
   * Self-service `POST /signup`: `open` or `closed` (accounts are then made with `rescue create-account`).
   * Default: open while Rescue listens on loopback, closed otherwise.
   */
  RESCUE_SIGNUP: z.enum(['open', 'closed']).optional(),
  /** Signups one client address may make per hour when signup is open (0: no limit). */
  RESCUE_SIGNUP_PER_HOUR: z.coerce.number().int().min(0).max(1_000_000).default(20),
  /** Requests one API key may make per RESCUE_RATE_LIMIT_WINDOW_MS (0: no limit). */
  RESCUE_RATE_LIMIT_PER_KEY: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  /** The fixed window of the per-key limit. */
  RESCUE_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  /** Requests with an unknown API key one client address may make per 10 minutes before all its keyed requests get 429 (0: no limit). */
  RESCUE_RATE_LIMIT_INVALID_KEYS: z.coerce.number().int().min(0).max(1_000_000).default(50),
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (sign-in, signup and invalid-key
   * throttles): `false` (default: the socket's address), `true` (any: only behind a proxy that
   * overwrites the header), a hop count, or comma-separated addresses/CIDRs (`10.0.0.0/8,loopback`).
   */
  RESCUE_TRUST_PROXY: z.string().min(1).default('false'),
  /**
   * The key that encrypts secrets at rest (Stripe tokens and keys): `KEYID:BASE64` of 32 random bytes
   * (AES-256-GCM), e.g. `k1:$(openssl rand -base64 32)`. Required for Stripe. See docs/stripe.md#key-rotation.
   */
  RESCUE_ENCRYPTION_KEY: z.string().regex(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=$/, 'KEYID:BASE64 of 32 bytes expected').optional(),
  /** Earlier keys, comma-separated `KEYID:BASE64`, still accepted for decryption during a rotation. */
  RESCUE_ENCRYPTION_OLD_KEYS: z.string().regex(/^([A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=)(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=)*$/, 'comma-separated KEYID:BASE64 keys expected').optional(),
  /** Your Stripe platform secret key (sk_… or rk_…): exchanges OAuth codes and revokes connections. */
  RESCUE_STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** Your Connect platform's client id (ca_…), for Stripe Connect OAuth. */
  RESCUE_STRIPE_CLIENT_ID: z.string().min(1).optional(),
  /** Signing secret of the Connect webhook endpoint (connected accounts) pointing at /api/stripe/webhook. */
  RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Where the SDK sends API and OAuth-token calls (a local fake in tests). */
  RESCUE_STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.stripe.com'),
  /** Where merchants are sent to authorize the connection. */
  RESCUE_STRIPE_CONNECT_BASE: z.url({ protocol: /^https?$/ }).default('https://connect.stripe.com'),
  /** The SDK's retries of a connection error, 409 or 5xx (with its own backoff). */
  RESCUE_STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /** Timeout of one Stripe API call. */
  RESCUE_STRIPE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(30_000),
  /** Each account retrains its retry model at most once per this many days of its clock (0: never on a schedule). */
  RESCUE_RETRAIN_PERIOD_DAYS: z.coerce.number().min(0).max(365).default(7),
  /** Finished retries since an account's last training needed before the schedule retrains it. */
  RESCUE_RETRAIN_MIN_NEW_RETRIES: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /**
   * Real email: `smtp://user:pass@host:587` or `smtps://…:465`. Unset (the embedded default): dunning
   * emails stay in the outbox (GET /v2/emails, the dashboard) and nothing leaves the machine.
   */
  RESCUE_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /** Each SMTP step (connect, greeting, each reply) must answer within this; a send that does not is retried later. */
  RESCUE_SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** The address dunning emails are sent from; the sender's name is the merchant's (dunning settings). */
  RESCUE_EMAIL_FROM: z.email().default('rescue@localhost'),
  /**
   * The bearer secret of GET /api/cron/dunning (an external scheduler runs the due dunning sends).
   * Unset: that endpoint is turned off.
   */
  RESCUE_CRON_SECRET: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  /** How long an update-payment link in an email works, in days of the payment's clock. */
  RESCUE_UPDATE_LINK_DAYS: z.coerce.number().int().min(1).max(60).default(7),
  /** How long a client may take to send one whole request (headers and body); a slower one gets a 408. */
  RESCUE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /**
   * A connection with no traffic this long is closed. Longer than the slowest call a request waits on
   * (a payment charged synchronously through the http gateway or Stripe).
   */
  RESCUE_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(180_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

// Defaults that depend on where Rescue is reached: listening on loopback (the embedded default) and
// published nowhere else, only this machine reaches it, so signup is open and test mode may call
// local services. Listening beyond loopback, or published at a public RESCUE_PUBLIC_URL (a reverse
// proxy in front of 127.0.0.1, a worker told where the API is), both are closed.
const Settings = EnvSchema.transform((c) => {
  const loopback = isLoopbackHost(c.HOST) && (!c.RESCUE_PUBLIC_URL || isLoopbackHost(new URL(c.RESCUE_PUBLIC_URL).hostname));
  return { ...c, RESCUE_TEST_PRIVATE_ADDRESSES: c.RESCUE_TEST_PRIVATE_ADDRESSES ?? loopback, RESCUE_SIGNUP: c.RESCUE_SIGNUP ?? (loopback ? ('open' as const) : ('closed' as const)) };
});

export type Config = z.output<typeof Settings>;

/** Every setting Rescue reads from the environment, in the order above (`rescue config`, docs/configuration.md). */
export const SETTING_NAMES = Object.keys(EnvSchema.shape) as (keyof typeof EnvSchema.shape)[];

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Settings.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid settings in the environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
