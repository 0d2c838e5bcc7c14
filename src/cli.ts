import { loadConfig } from './config.ts';
import { startRescue, type Rescue } from './server.ts';
import { openDb } from './store/db.ts';
import { migrate } from './store/migrate.ts';
import { ensureSandboxAccount } from './first-start.ts';
import { systemClock } from './clock.ts';
import { randomString } from './ids.ts';
import { createAccount, resetPassword } from './store/accounts.ts';
import { SignupBody } from './api/signup.ts';

const USAGE = `rescue <command>

  start     API and worker in one process (embedded PGlite unless DATABASE_URL is set)
  api       the HTTP API only
  worker    the retry worker only [--health-port N]: GET /health and /ready on port N
  migrate   apply database migrations and exit
  create-account <email> <business name>
            an account with a generated password and its test and live keys, shown once
            (the way to add accounts where self-service signup is closed: RESCUE_SIGNUP)
  account reset-password <email>
            a new password for the account (the first-start password is shown only once); prints
            it once and signs out the account's dashboard sessions
  demo      start Rescue and fill the sandbox account with a quarter of a subscription business
            (test clock, sandbox network, emails, webhooks to a local receiver), then keep serving
            [--customers 1000] [--days 91] [--key sk_test_...] [--exit: stop when filled]
  doctor    check the settings, database, migrations, clock, gateways, SMTP and Stripe; exit 1 on a failure
  config    print the effective settings (secrets masked) and where each came from
  train     retrain each account's retry-timing model on its own attempts
            [--account acct_...] [--live]; a new version replaces the active one only if it is no worse
`;

async function main(command: string | undefined): Promise<void> {
  if (command === 'doctor') return doctor();
  const config = loadConfig();
  switch (command) {
    case 'start':
    case 'api':
    case 'worker': {
      const healthPort = command === 'worker' ? (healthPortArg(process.argv.slice(3)) ?? config.RESCUE_WORKER_HEALTH_PORT) : undefined;
      const rescue = await startRescue(config, { api: command !== 'worker', worker: command !== 'api', healthPort });
      stopOnSignals(rescue, config.RESCUE_STOP_GRACE_MS);
      const where = config.DATABASE_URL ? 'Postgres (DATABASE_URL)' : `embedded PGlite in ${config.RESCUE_DATA_DIR}`;
      if (rescue.url) console.log(`Rescue ${command === 'start' ? 'API and worker' : 'API'} listening on ${rescue.url} — storage: ${where}`);
      else console.log(`Rescue worker ${rescue.worker?.id} running — storage: ${where}${rescue.healthUrl ? ` — health: ${rescue.healthUrl}` : ''}`);
      if (rescue.url) console.log(`Dashboard: ${rescue.url.replace(/\/$/, '')}/dashboard/ (sign in with your account's email and password)`);
      if (command === 'start') await ensureSandboxAccount(rescue.db, rescue.url);
      return;
    }
    case 'migrate': {
      const db = await openDb(config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.RESCUE_DATA_DIR });
      const applied = await migrate(db);
      console.log(applied.length ? `Applied ${applied.join(', ')}` : 'Database is up to date.');
      await db.destroy();
      return;
    }
    case 'create-account': {
      const [email, ...name] = process.argv.slice(3);
      if (!email || name.length === 0) throw new Error('usage: rescue create-account <email> <business name>');
      const db = await openDb(config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.RESCUE_DATA_DIR });
      try {
        await migrate(db);
        const password = randomString(20);
        const valid = SignupBody.parse({ email, password, business_name: name.join(' ') });
        const created = await createAccount(db, { email: valid.email, password, businessName: valid.business_name, now: systemClock.now() });
        console.log(`Created ${created.account.id} for ${email}. Shown once:\n  password:      ${password}\n  test API key:  ${created.apiKeys.test}\n  live API key:  ${created.apiKeys.live}`);
      } finally {
        await db.destroy();
      }
      return;
    }
    case 'account': {
      const [sub, email] = process.argv.slice(3);
      if (sub !== 'reset-password' || !email) throw new Error('usage: rescue account reset-password <email>');
      const db = await openDb(config.DATABASE_URL ? { kind: 'postgres', url: config.DATABASE_URL } : { kind: 'pglite', dataDir: config.RESCUE_DATA_DIR });
      try {
        await migrate(db);
        const password = randomString(20);
        await resetPassword(db, email, password);
        console.log(`New password for ${email}, shown once:\n  password:      ${password}`);
      } finally {
        await db.destroy();
      }
      return;
    }
    case 'demo': {
      const { demoCommand } = await import('./demo/demo-command.ts');
      await demoCommand(config, process.argv.slice(3), (rescue) => stopOnSignals(rescue, config.RESCUE_STOP_GRACE_MS));
      return;
    }
    case 'config': {
      const { formatReport, settingsReport } = await import('./operate/settings-report.ts');
      process.stdout.write(formatReport(settingsReport(config, process.env)));
      return;
    }
    case 'train': {
      const { runTrainCommand } = await import('./predict/train-command.ts');
      process.exitCode = await runTrainCommand(config, process.argv.slice(3));
      return;
    }
    default:
      process.stdout.write(USAGE);
      if (command && command !== 'help' && command !== '--help') process.exitCode = 1;
  }
}

/** `rescue doctor`: a bad setting is its first finding, not a crash before the checks. */
async function doctor(): Promise<void> {
  const { formatFindings, runDoctor } = await import('./operate/doctor.ts');
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stdout.write(formatFindings([{ check: 'settings', verdict: 'fail', says: err instanceof Error ? err.message.replace(/\n\s*/g, ' ') : String(err) }]));
    process.exitCode = 1;
    return;
  }
  const findings = await runDoctor(config);
  process.stdout.write(formatFindings(findings));
  const failed = findings.filter((f) => f.verdict === 'fail').length;
  process.stdout.write(failed ? `${failed} problem${failed > 1 ? 's' : ''} found.\n` : 'No problems found.\n');
  if (failed) process.exitCode = 1;
}

/**
 * SIGTERM or SIGINT: a graceful stop (Rescue.close) bounded by the grace period, then exit 0. A
 * second signal, or a stop that overruns the grace period by a second, exits at once with 1: the
 * work left is reconciled by other workers under its leases and idempotency keys.
 */
function stopOnSignals(rescue: Rescue, graceMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping (in-flight work has ${graceMs} ms to finish)`);
    setTimeout(() => {
      console.error(`did not stop within ${graceMs + 1000} ms: exiting`);
      process.exit(1);
    }, graceMs + 1000).unref();
    rescue.close({ graceMs }).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** `--health-port N` or `--health-port=N`. */
function healthPortArg(args: readonly string[]): number | undefined {
  const i = args.findIndex((a) => a === '--health-port' || a.startsWith('--health-port='));
  if (i < 0) return undefined;
  const raw = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--health-port: a port number (0–65535) expected, got ${raw ?? 'nothing'}`);
  return port;
}

main(process.argv[2]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
