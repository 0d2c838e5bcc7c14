import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { GatewayResolver } from '../engine/run-attempts.ts';
import type { EgressGuard } from '../egress/egress-guard.ts';
import type { Db } from '../store/db.ts';
import type { LinkSettings } from '../engine/dunning-render.ts';
import type { EmailTransport } from '../engine/dunning-send.ts';
import type { Throttles } from './throttles.ts';

/** What every route handler may use; built once in the composition root (server.ts). */
export interface AppContext {
  db: Db;
  clock: Clock;
  config: Config;
  log: Logger;
  gatewayFor: GatewayResolver;
  /** Tells an in-process worker that new work is waiting (no-op when the API runs alone). */
  wakeWorker: () => void;
  /** Identifies this process as the claimer of attempts it charges synchronously. */
  processId: string;
  /** How update-payment links are signed and where they point (engine/dunning-links.ts). */
  links: () => Promise<LinkSettings>;
  /** How GET /api/cron/dunning sends (the worker's transport: the outbox or SMTP). */
  emails: { transport: EmailTransport; fromAddress: string };
  /** Checks a merchant's URL when it is saved (the same rules that guard every request to it). */
  egress: EgressGuard;
  /** Rate limits and sign-in throttles, counted in the database (api/throttles.ts). */
  throttles: Throttles;
  /** Check every answer against its route's documented schema, failing loudly on a mismatch (the test harness turns it on). */
  validateResponses?: boolean;
}
