import { connect } from 'node:net';
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import { openDb, type Db } from '../store/db.ts';
import { migrationFiles } from '../store/migrate.ts';
import type { GatewaySettings, NamedGateway } from '../store/settings.ts';
import { mask } from './settings-report.ts';

// `rescue doctor`: what an operator checks before blaming the code, in plain words. Every check
// reports ok, warn (works, but look at it) or fail (Rescue will not work as configured); any fail
// makes the command exit 1. Nothing is changed: no migration is applied, no email sent, no charge.

export type Verdict = 'ok' | 'warn' | 'fail';
export interface Finding {
  check: string;
  verdict: Verdict;
  says: string;
}

const TIMEOUT_MS = 5000;
/** More than this between this machine's clock and the database's, and leases and schedules drift. */
const MAX_SKEW_MS = 5000;

export async function runDoctor(config: Config): Promise<Finding[]> {
  const findings: Finding[] = [{ check: 'settings', verdict: 'ok', says: 'every variable in the environment is valid' }];
  const where = config.DATABASE_URL ? `Postgres at ${mask('DATABASE_URL', config.DATABASE_URL)}` : `embedded PGlite in ${config.RESCUE_DATA_DIR}`;
  let db: Db | null = null;
  try {
    db = await within(openDb(config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.RESCUE_DATA_DIR }), 'opening the database');
    const t0 = performance.now();
    const now = await within(sql<{ now: Date }>`select now() as now`.execute(db), 'the database');
    findings.push({ check: 'database', verdict: 'ok', says: `${where} answered in ${Math.round(performance.now() - t0)} ms` });
    const schema = await migrations(db);
    findings.push(schema, clockSkew(new Date(now.rows[0]!.now), new Date()));
    if (schema.verdict === 'ok') findings.push(...(await gateways(db)));
  } catch (err) {
    findings.push({ check: 'database', verdict: 'fail', says: `${where} cannot be used: ${reason(err)}` });
  } finally {
    await db?.destroy().catch(() => {});
  }
  findings.push(await smtp(config));
  findings.push(...(await stripe(config)));
  return findings;
}

async function migrations(db: Db): Promise<Finding> {
  const expected = migrationFiles();
  const applied = await sql<{ version: string }>`select version from schema_migrations`.execute(db).then(
    (r) => new Set(r.rows.map((x) => x.version)),
    () => new Set<string>(),
  );
  const pending = expected.filter((f) => !applied.has(f));
  if (pending.length === 0) return { check: 'migrations', verdict: 'ok', says: `all ${expected.length} applied` };
  return { check: 'migrations', verdict: 'fail', says: `${pending.length} of ${expected.length} not applied (${pending[0]}${pending.length > 1 ? ' …' : ''}): run \`rescue migrate\` (rescue start and rescue api apply them too)` };
}

export function clockSkew(database: Date, here: Date): Finding {
  const skew = here.getTime() - database.getTime();
  if (Math.abs(skew) <= MAX_SKEW_MS) return { check: 'clock', verdict: 'ok', says: `this machine and the database agree within ${Math.abs(skew)} ms (${here.toISOString()})` };
  return { check: 'clock', verdict: 'fail', says: `this machine's clock is ${(Math.abs(skew) / 1000).toFixed(1)} s ${skew > 0 ? 'ahead of' : 'behind'} the database's: leases and retry times drift; run NTP (chrony, systemd-timesyncd) on both` };
}

/** Every merchant http gateway the accounts charge through: can a connection be opened to it? */
async function gateways(db: Db): Promise<Finding[]> {
  const rows = await db.selectFrom('account_settings').select(['gateway', 'gateways']).execute();
  const urls = new Set<string>();
  for (const r of rows) {
    for (const g of [r.gateway as GatewaySettings, ...((r.gateways as NamedGateway[] | null) ?? []).map((n) => n.gateway)]) if (g?.type === 'http') urls.add(g.url);
  }
  if (urls.size === 0) return [{ check: 'gateways', verdict: 'ok', says: 'no http gateway configured (sandbox or Stripe only)' }];
  return Promise.all([...urls].map(async (url) => {
    const u = new URL(url);
    const target = `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
    try {
      await within(tcpConnect(u.hostname, Number(u.port || (u.protocol === 'https:' ? 443 : 80))), `connecting to ${target}`);
      return { check: 'gateway', verdict: 'ok' as const, says: `${u.origin} accepts connections` };
    } catch (err) {
      return { check: 'gateway', verdict: 'fail' as const, says: `${u.origin} cannot be reached (${reason(err)}): charges through it stay "unknown" and are asked again later` };
    }
  }));
}

async function smtp(config: Config): Promise<Finding> {
  if (!config.RESCUE_SMTP_URL) return { check: 'smtp', verdict: 'ok', says: 'RESCUE_SMTP_URL unset: dunning emails stay in the outbox (nothing is sent)' };
  const where = mask('RESCUE_SMTP_URL', config.RESCUE_SMTP_URL);
  const transporter = nodemailer.createTransport(config.RESCUE_SMTP_URL, { connectionTimeout: TIMEOUT_MS, greetingTimeout: TIMEOUT_MS, socketTimeout: TIMEOUT_MS } as never);
  try {
    await within(transporter.verify(), 'the SMTP server');
    return { check: 'smtp', verdict: 'ok', says: `${where} accepted a connection and the login` };
  } catch (err) {
    return { check: 'smtp', verdict: 'fail', says: `${where} refused: ${reason(err)}; emails wait and are retried` };
  } finally {
    transporter.close();
  }
}

async function stripe(config: Config): Promise<Finding[]> {
  const set = [config.RESCUE_STRIPE_SECRET_KEY, config.RESCUE_STRIPE_CLIENT_ID, config.RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET].filter(Boolean).length;
  if (set === 0) return [{ check: 'stripe', verdict: 'ok', says: 'not configured (RESCUE_STRIPE_* unset): Stripe Connect is off' }];
  const out: Finding[] = [];
  if (!config.RESCUE_ENCRYPTION_KEY) out.push({ check: 'stripe', verdict: 'fail', says: 'RESCUE_STRIPE_* is set but RESCUE_ENCRYPTION_KEY is not: Stripe stays off (tokens are only stored encrypted)' });
  if (!config.RESCUE_STRIPE_SECRET_KEY || !config.RESCUE_STRIPE_CLIENT_ID) out.push({ check: 'stripe', verdict: 'fail', says: 'Connect OAuth needs both RESCUE_STRIPE_SECRET_KEY and RESCUE_STRIPE_CLIENT_ID' });
  else if (!/^(sk|rk)_(test|live)_/.test(config.RESCUE_STRIPE_SECRET_KEY)) out.push({ check: 'stripe', verdict: 'fail', says: 'RESCUE_STRIPE_SECRET_KEY does not look like a Stripe key (sk_… or rk_…)' });
  else if (!config.RESCUE_STRIPE_CLIENT_ID.startsWith('ca_')) out.push({ check: 'stripe', verdict: 'fail', says: 'RESCUE_STRIPE_CLIENT_ID does not look like a Connect client id (ca_…)' });
  if (!config.RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET) out.push({ check: 'stripe', verdict: 'warn', says: 'RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET unset: /api/stripe/webhook refuses Stripe\'s events' });
  const api = new URL(config.RESCUE_STRIPE_API_BASE);
  try {
    await within(tcpConnect(api.hostname, Number(api.port || (api.protocol === 'https:' ? 443 : 80))), `connecting to ${api.host}`);
    out.push({ check: 'stripe', verdict: out.some((f) => f.verdict === 'fail') ? 'warn' : 'ok', says: `${api.origin} accepts connections` });
  } catch (err) {
    out.push({ check: 'stripe', verdict: 'fail', says: `${api.origin} cannot be reached (${reason(err)})` });
  }
  return out;
}

function tcpConnect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The error's code or first line: enough to act on, without a driver's full message (which may quote a URL with its password). */
function reason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message.split('\n')[0]!.replace(/\/\/[^@/\s]*@/g, '//****@') : String(err);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

export function formatFindings(findings: readonly Finding[]): string {
  const label = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  return findings.map((f) => `${label[f.verdict]}  ${f.check.padEnd(10)}  ${f.says}`).join('\n') + '\n';
}
