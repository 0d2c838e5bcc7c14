import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clockSkew } from '../../src/operate/doctor.ts';
import { startEmailReceiver } from '../support/email-receiver.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { runCli } from './run-cli.ts';

// `rescue doctor` as an operator runs it: a real process against a real database, a real SMTP
// server and a real merchant gateway, each taken away to see the check fail in plain words.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function freshFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rescue-doctor-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const line = (out: string, check: string) => out.split('\n').filter((l) => new RegExp(`^(ok  |WARN|FAIL)  ${check}\\b`).test(l));

describe('rescue doctor', () => {
  it('an unmigrated data folder fails with what to run; after rescue migrate every check passes and it exits 0', async () => {
    const dir = freshFolder();
    const before = await runCli(['doctor'], { RESCUE_DATA_DIR: dir });
    expect(before.code).toBe(1);
    expect(line(before.stdout, 'migrations')[0]).toMatch(/^FAIL  migrations  \d+ of \d+ not applied .*run `rescue migrate`/);
    expect(before.stdout).toMatch(/problems? found\.\n$/);

    expect((await runCli(['migrate'], { RESCUE_DATA_DIR: dir })).code).toBe(0);
    const after = await runCli(['doctor'], { RESCUE_DATA_DIR: dir });
    expect(after.stdout).not.toContain('FAIL');
    for (const check of ['settings', 'database', 'migrations', 'clock', 'gateways', 'smtp', 'stripe']) expect(line(after.stdout, check)[0]).toMatch(/^ok  /);
    expect(after.stdout).toContain('No problems found.');
    expect(after.code).toBe(0);
  }, 150_000);

  it('a bad setting is a failure naming the variable, not a crash', async () => {
    const run = await runCli(['doctor'], { PORT: 'eighty' });
    expect(run.code).toBe(1);
    expect(line(run.stdout, 'settings')[0]).toMatch(/^FAIL  settings  .*PORT/);
  });

  it('Postgres: a merchant gateway that stops listening and an SMTP server that refuses fail; both up pass; the password never shows', async () => {
    const t: TestRescue = await startTestRescue({ engine: 'postgres', worker: false });
    cleanups.push(() => t.close());
    const { testKey } = await t.signup();
    const gateway: Server = createServer((_req, res) => res.writeHead(200).end('{}'));
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/rescue-charge`;
    expect((await t.client(testKey).post('/v2/settings/gateway', { type: 'http', url: gatewayUrl })).status).toBe(200);
    const smtp = await startEmailReceiver();
    cleanups.push(() => smtp.close());
    // The test SMTP server takes no login (a relay on the private network).
    const env = { DATABASE_URL: t.databaseUrl!, RESCUE_SMTP_URL: smtp.url };

    const healthy = await runCli(['doctor'], env);
    expect(healthy.stdout).not.toContain('FAIL');
    expect(line(healthy.stdout, 'gateway')[0]).toMatch(new RegExp(`^ok    gateway     ${new URL(gatewayUrl).origin} accepts connections`));
    expect(line(healthy.stdout, 'smtp')[0]).toMatch(/^ok    smtp        smtp:\/\/127\.0\.0\.1:\d+\/? accepted/);
    expect(line(healthy.stdout, 'database')[0]).toMatch(/^ok    database    Postgres at postgres:/);
    expect(healthy.code).toBe(0);

    await new Promise<void>((r) => gateway.close(() => r()));
    const deadSmtp = `smtp://doctor:hunter2secret@127.0.0.1:${(gateway.address() as AddressInfo | null)?.port ?? new URL(gatewayUrl).port}`;
    const broken = await runCli(['doctor'], { ...env, RESCUE_SMTP_URL: deadSmtp });
    expect(broken.code).toBe(1);
    expect(line(broken.stdout, 'gateway')[0]).toMatch(/^FAIL  gateway     .*cannot be reached \(.*ECONNREFUSED/);
    expect(line(broken.stdout, 'smtp')[0]).toMatch(/^FAIL  smtp        .*refused: .*ECONNREFUSED/);
    expect(line(broken.stdout, 'smtp')[0]).toContain('smtp://doctor:****@');
    expect(broken.stdout + broken.stderr).not.toContain('hunter2secret');
  }, 150_000);

  it('Stripe settings without the encryption key or the client id fail, each in its own words', async () => {
    const run = await runCli(['doctor'], { RESCUE_DATA_DIR: freshFolder(), RESCUE_STRIPE_SECRET_KEY: 'sk_test_doctor', RESCUE_STRIPE_API_BASE: 'http://127.0.0.1:1' });
    expect(run.code).toBe(1);
    const stripe = line(run.stdout, 'stripe');
    expect(stripe.some((l) => /^FAIL .*RESCUE_ENCRYPTION_KEY is not/.test(l))).toBe(true);
    expect(stripe.some((l) => /^FAIL .*needs both RESCUE_STRIPE_SECRET_KEY and RESCUE_STRIPE_CLIENT_ID/.test(l))).toBe(true);
    expect(stripe.some((l) => /^FAIL .*http:\/\/127\.0\.0\.1:1 cannot be reached/.test(l))).toBe(true);
    expect(run.stdout).not.toContain('sk_test_doctor');
  }, 150_000);

  it('the clock check fails past 5 s of skew between this machine and the database, either way', () => {
    const db = new Date('2026-12-03T12:00:00Z');
    expect(clockSkew(db, new Date(db.getTime() + 4_900)).verdict).toBe('ok');
    expect(clockSkew(db, new Date(db.getTime() + 7_000))).toMatchObject({ verdict: 'fail', says: expect.stringContaining('7.0 s ahead of') });
    expect(clockSkew(db, new Date(db.getTime() - 7_000))).toMatchObject({ verdict: 'fail', says: expect.stringContaining('7.0 s behind') });
  });
});
