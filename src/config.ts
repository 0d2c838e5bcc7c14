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
  /** Attempts one worker claims per round. */
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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof EnvSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid settings in the environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
