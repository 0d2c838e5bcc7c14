import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { emailRetryAt } from '../domain/dunning.ts';
import type { Db } from '../store/db.ts';
import type { EmailFacts } from '../store/emails-queue.ts';
import { failInterruptedEmails, markHandedOff, recordEmailResults, type EmailResult } from '../store/emails.ts';
import type { EmailRow } from '../store/schema.ts';
import { renderRow, type LinkSettings } from './dunning-render.ts';

// The worker's email round: claim due emails, render each, and send it — into the outbox (nothing
// leaves; the embedded default) or through SMTP (RESCUE_SMTP_URL) with nodemailer. Sending is at
// most once: a row is marked handed off just before SMTP gets it, and a row handed off by a worker
// that then died is failed as "interrupted", never resent (store/emails.ts). An SMTP refusal or a
// connection error is retried with backoff (domain/dunning.ts#emailRetryAt), a rejected recipient
// is failed at once.

export interface Mail {
  from: { name: string; address: string };
  to: string;
  replyTo: string | null;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

export type EmailTransport = { kind: 'outbox' } | { kind: 'smtp'; timeoutMs: number; send(mail: Mail): Promise<void>; close(): void };

export function emailTransport(smtpUrl: string | undefined, timeoutMs = 15_000): EmailTransport {
  if (!smtpUrl) return { kind: 'outbox' };
  // Bounded steps: a hung server must not hold a claim past its lease (see emailClaim).
  const transporter = nodemailer.createTransport(smtpUrl, { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs } as never);
  return {
    kind: 'smtp',
    timeoutMs,
    async send(m) {
      await transporter.sendMail({ from: m.from, to: m.to, ...(m.replyTo ? { replyTo: m.replyTo } : {}), subject: m.subject, text: m.text, html: m.html, messageId: m.messageId, headers: m.headers });
    },
    close: () => transporter.close(),
  };
}

export interface EmailSendDeps {
  db: Db;
  /** Scheduling time (what is due, backoff, leases); sent_at of real-time emails. */
  clock: Clock;
  log: Logger;
  workerId: string;
  transport: EmailTransport;
  /** The address emails come from (RESCUE_EMAIL_FROM); the name is the merchant's. */
  fromAddress: string;
  links: () => Promise<LinkSettings>;
}

const SMTP_LANES = 4;
const SMTP_CLAIM = 16;
const OUTBOX_CLAIM = 500;

/** How the worker claims emails (engine/jobs.ts): a few at a time for SMTP, many for the outbox. */
export function emailClaim(transport: EmailTransport, leaseMs: number): { batch: number; leaseMs: number } {
  if (transport.kind !== 'smtp') return { batch: OUTBOX_CLAIM, leaseMs };
  // The lease covers the worst claim: each send stalling at its three timed steps (connect,
  // greeting, a reply), the sends of a lane one after another.
  return { batch: SMTP_CLAIM, leaseMs: Math.max(leaseMs, Math.ceil(SMTP_CLAIM / SMTP_LANES) * 3 * transport.timeoutMs + 2000) };
}

/** Before claiming: emails handed to SMTP by a worker that stopped are failed, never resent. */
export async function failInterrupted(d: Pick<EmailSendDeps, 'db' | 'log'>, now: Date): Promise<void> {
  const interrupted = await failInterruptedEmails(d.db, now);
  if (interrupted) d.log.warn({ count: interrupted }, 'emails handed to SMTP by a worker that stopped were marked failed, not resent');
}

/** Renders and sends a claim of emails (SMTP in a few lanes) and records the results. */
export async function sendClaimed(d: EmailSendDeps, claimed: readonly EmailRow[]): Promise<number> {
  const smtp = d.transport.kind === 'smtp';
  const links = await d.links();
  const results: EmailResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < claimed.length) {
      const result = await sendOne(d, links, claimed[next++]!);
      if (result) results.push(result);
    }
  };
  await Promise.all(Array.from({ length: smtp ? Math.min(SMTP_LANES, claimed.length) : 1 }, lane));
  await recordEmailResults(d.db, results, { workerId: d.workerId, now: d.clock.now() });
  return claimed.length;
}

async function sendOne(d: EmailSendDeps, links: LinkSettings, row: EmailRow): Promise<EmailResult | null> {
  const at = d.clock.now();
  // A test clock's email is sent at once, in the clock's world when it was queued.
  const sentAt = row.test_clock ? row.created_at : at;
  let rendered;
  try {
    rendered = renderRow(row, links);
  } catch (err) {
    d.log.error({ err, email: row.id }, 'could not render an email');
    return { ...blank(row), transport: d.transport.kind, status: 'failed', attempts: row.attempts, error: `could not render: ${err instanceof Error ? err.message : String(err)}` };
  }
  const base = { id: row.id, account_id: row.account_id, subject: rendered.subject, text_body: rendered.text, html_body: rendered.html, transport: d.transport.kind, message_id: null, next_attempt_at: null, error: null, sent_at: null } as const;
  if (d.transport.kind === 'outbox') return { ...base, status: 'sent', attempts: row.attempts + 1, sent_at: sentAt };
  if (!(await markHandedOff(d.db, { id: row.id, accountId: row.account_id, workerId: d.workerId, now: at }))) return null;
  const facts = row.facts as EmailFacts;
  const messageId = `<${row.id}@${d.fromAddress.split('@')[1] ?? 'rescue'}>`;
  try {
    await d.transport.send({
      from: { name: facts.from_name ?? facts.business_name, address: d.fromAddress },
      to: row.to_address,
      replyTo: facts.reply_to,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId,
      headers: { 'X-Rescue-Email': row.id, 'X-Rescue-Payment': row.payment_id },
    });
    return { ...base, status: 'sent', attempts: row.attempts + 1, message_id: messageId, sent_at: sentAt };
  } catch (err) {
    const attempts = row.attempts + 1;
    const e = err as Error & { responseCode?: number; code?: string; command?: string; response?: string };
    const error = [e.code, e.responseCode, e.response ?? e.message].filter((x) => x !== undefined && x !== '').join(' ').slice(0, 500);
    // The server answered with a refusal, or was never reached: nothing was delivered, try again.
    // Silence after the message went out (a timeout, a dropped connection) may hide a delivery:
    // never resent, like an interrupted worker's.
    const undelivered = typeof e.responseCode === 'number' || e.command === 'CONN' || ['ECONNECTION', 'EDNS', 'EAUTH', 'ETLS'].includes(e.code ?? '');
    if (!undelivered) return { ...base, status: 'failed', attempts, error: `no answer after the message was handed to SMTP; it may have been delivered, so it is not sent again (${error})` };
    // A recipient the server refuses for good (550 no such user) will be refused again.
    const permanent = e.code === 'EENVELOPE' && typeof e.responseCode === 'number' && e.responseCode >= 500;
    const retryAt = emailRetryAt(attempts, d.clock.now(), permanent);
    return { ...base, status: retryAt ? 'queued' : 'failed', attempts, next_attempt_at: retryAt, error };
  }
}

function blank(row: EmailRow): Omit<EmailResult, 'status' | 'attempts' | 'error'> {
  return { id: row.id, account_id: row.account_id, subject: row.subject ?? '', text_body: row.text_body ?? '', html_body: row.html_body ?? '', transport: 'outbox', message_id: null, next_attempt_at: null, sent_at: null };
}
