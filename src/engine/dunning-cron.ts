import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/db.ts';
import { claimDueEmails } from '../store/emails.ts';
import type { LinkSettings } from './dunning-render.ts';
import { emailClaim, failInterrupted, sendClaimed, type EmailTransport } from './dunning-send.ts';
import { runPreDunning } from './pre-dunning.ts';
import type { GatewayResolver } from './run-attempts.ts';

// GET /api/cron/dunning: one round of the worker's email job, run by an external scheduler (a
// system cron, a serverless platform's cron) where no `rescue worker` runs. It claims due emails
// exactly as a worker does (FOR UPDATE SKIP LOCKED, a lease, handed-off marks: store/emails.ts), so
// a cron call overlapping another, or a worker, never sends an email twice; a call finding nothing
// due sends nothing. Pre-dunning checks run first (engine/pre-dunning.ts), so a scheduler alone
// drives the whole sequence.

export interface CronDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  transport: EmailTransport;
  fromAddress: string;
  links: () => Promise<LinkSettings>;
  leaseMs: number;
  gatewayFor: GatewayResolver;
}

export interface CronSent {
  id: string;
  kind: string;
  payment: string;
  to: string;
  status: string;
  transport: string | null;
}

/** Rounds until nothing due is left (bounded), and what each claimed email became. */
export async function runDueDunning(d: CronDeps, maxRounds = 20): Promise<CronSent[]> {
  const workerId = `cron_${randomUUID().slice(0, 12)}`;
  const { batch, leaseMs } = emailClaim(d.transport, d.leaseMs);
  await failInterrupted(d, d.clock.now());
  // Pre-dunning emails whose time has come are queued first, and sent in this same call.
  await runPreDunning(d);
  const ids: { id: string; account: string }[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const now = d.clock.now();
    const claimed = await claimDueEmails(d.db, { workerId, now, leaseUntil: new Date(now.getTime() + leaseMs), limit: batch });
    if (claimed.length === 0) break;
    await sendClaimed({ ...d, workerId }, claimed);
    ids.push(...claimed.map((c) => ({ id: c.id, account: c.account_id })));
  }
  if (ids.length === 0) return [];
  const rows = await d.db
    .selectFrom('emails')
    .select(['id', 'kind', 'payment_id', 'to_address', 'status', 'transport'])
    .where('id', 'in', ids.map((i) => i.id))
    .execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, payment: r.payment_id, to: r.to_address, status: r.status, transport: r.transport }));
}
