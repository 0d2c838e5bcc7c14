import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, request } from '../support/harness.ts';
import { REPO, spawnRescue, type WorkerProcess } from '../support/workers.ts';
import { launchChromium, newDashboardPage } from '../web/browser.ts';
import { runCli } from '../operate/run-cli.ts';

const ARTIFACTS = join(REPO, 'test-artifacts');

// `rescue demo` as a newcomer runs it: a real process on a fresh data folder, a quarter of a business
// with thousands of renewals (the default's 1,000 customers took 46 s on an idle 2-core VM; 700 keep
// the test well inside its time on a busy one), then everything it claims is looked up through the API
// with the key it printed.

const CUSTOMERS = 700;
// A quarter, as the default: every customer renews three times.
const DAYS = 91;

const spawned: WorkerProcess[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const p of spawned.splice(0)) await p.kill();
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

async function all(base: string, key: string, path: string): Promise<any[]> {
  const items: any[] = [];
  let after = '';
  for (;;) {
    const page = await request(base, 'GET', `${path}${path.includes('?') ? '&' : '?'}limit=100${after}`, key);
    expect(page.status).toBe(200);
    items.push(...page.body.data);
    if (!page.body.has_more) return items;
    after = `&starting_after=${page.body.data.at(-1).id}`;
  }
}

describe('rescue demo', () => {
  it('fills a fresh data folder with customers, renewals, recoveries, emails and webhooks, prints the key, and keeps serving', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rescue-demo-'));
    folders.push(dataDir);
    const demo = spawnRescue('demo', '', { LOG_LEVEL: 'warn', RESCUE_DATA_DIR: dataDir }, ['--customers', String(CUSTOMERS), '--days', String(DAYS)]);
    spawned.push(demo);
    const printed = await eventually(async () => {
      const out = demo.output();
      const key = /test key:\s+(sk_test_\S+)/.exec(out)?.[1];
      const base = /API:\s+curl "(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
      const payments = /payments:\s+([\d,]+) renewals/.exec(out)?.[1];
      const webhooks = /webhooks received:\s+([\d,]+)/.exec(out)?.[1];
      if (key && base && payments && webhooks && out.includes('Still serving')) return { key, base, payments: Number(payments.replace(/,/g, '')), webhooks: Number(webhooks.replace(/,/g, '')) };
      if (demo.child.exitCode !== null) throw new Error(`rescue demo exited:\n${out}`);
      return undefined;
    }, 180_000);
    const out = demo.output();
    // A progress bar (a line per tenth on a pipe), and where to look.
    expect(out).toMatch(new RegExp(`\\[#{30}\\] 100% ${DAYS} days`));
    expect(out).toContain(`${printed.base}/dashboard/`);
    expect(out).toMatch(/sandbox@rescue\.local, password \S+/);

    const customers = await all(printed.base, printed.key, '/v2/customers');
    expect(customers).toHaveLength(CUSTOMERS);
    expect(new Set(customers.map((c) => c.timezone)).size).toBeGreaterThanOrEqual(8);
    expect(new Set(customers.map((c) => c.locale)).size).toBeGreaterThanOrEqual(8);
    expect(customers.every((c) => c.test_clock?.startsWith('clock_'))).toBe(true);

    // Every renewal of those days is a payment, charged through the sandbox network.
    const payments = await all(printed.base, printed.key, '/v2/payments');
    expect(payments.length).toBe(printed.payments);
    expect(payments.length).toBeGreaterThanOrEqual(2 * CUSTOMERS);
    expect(payments.length).toBeGreaterThan(1_000);
    const recovered = payments.filter((p) => p.status === 'succeeded' && p.auto_rescue?.status === 'recovered');
    expect(recovered.length).toBeGreaterThan(0);
    expect(payments.some((p) => p.status === 'failed' || p.status === 'requires_rescue')).toBe(true);

    // Recovered revenue, as the dashboard's figures report it over the quarter played.
    const dashboard = await request(printed.base, 'GET', `/api/dashboard?from=${new Date(Date.now() - (DAYS + 10) * 86_400_000).toISOString()}&interval=month`, printed.key);
    expect(dashboard.status).toBe(200);
    const usd = dashboard.body.lift.totals.find((t: any) => t.currency === 'USD');
    expect(usd.recoveredCount).toBe(recovered.length);
    expect(usd.recoveredRevenue).toBe(recovered.reduce((sum, p) => sum + p.amount, 0));
    expect(usd.recoveredRevenue).toBeGreaterThan(0);

    // Dunning emails in the outbox, and the outcomes delivered to the demo's own receiver.
    const emails = await request(printed.base, 'GET', '/v2/emails?limit=100', printed.key);
    expect(emails.body.data.length).toBeGreaterThan(0);
    expect(new Set(emails.body.data.map((e: any) => e.kind)).size).toBeGreaterThanOrEqual(2);
    expect(printed.webhooks).toBeGreaterThanOrEqual(recovered.length);
    const endpoints = await request(printed.base, 'GET', '/v2/webhook_endpoints', printed.key);
    const deliveries = await request(printed.base, 'GET', `/v2/webhook_endpoints/${endpoints.body.data[0].id}/deliveries?status=succeeded&limit=100`, printed.key);
    expect(deliveries.body.data.length).toBeGreaterThan(0);

    // What a newcomer sees: the dashboard's overview, signed in with the printed password, full of the
    // quarter's figures, on a desktop and on a 390 px phone without sideways scrolling or console errors.
    const password = /sandbox@rescue\.local, password (\S+)\)/.exec(out)![1]!;
    const browser = await launchChromium();
    try {
      const page = await newDashboardPage(browser);
      const consoleErrors: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
      const failed: string[] = [];
      page.on('response', (r) => void (r.status() >= 400 && failed.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`)));
      await page.goto(`${printed.base}/dashboard/`);
      await page.getByLabel('Email').fill('sandbox@rescue.local');
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const tile = page.getByTestId('recovered-count-USD');
      await expect.poll(() => tile.count(), { timeout: 20_000 }).toBe(1);
      expect(Number((await tile.textContent())!.replace(/\D/g, ''))).toBeGreaterThan(0);
      // Signed out and signed in alike, nothing may be logged.
      await page.reload();
      await expect.poll(() => tile.count(), { timeout: 20_000 }).toBe(1);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'demo-overview-desktop.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await expect.poll(() => page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
      await page.screenshot({ path: join(ARTIFACTS, 'demo-overview-phone.png'), fullPage: true });
      expect(consoleErrors, failed.join('\n')).toEqual([]);
    } finally {
      await browser.close();
    }

    demo.signal('SIGTERM');
    expect((await demo.exited).code).toBe(0);
  }, 240_000);

  it('run again on the same folder: the same sandbox account, a new key, the earlier receiver disabled', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rescue-demo-'));
    folders.push(dataDir);
    const env = { RESCUE_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
    const first = await runCli(['demo', '--customers', '20', '--days', '3', '--exit'], env);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(/sandbox@rescue\.local, password \S+\)/);
    const second = await runCli(['demo', '--customers', '20', '--days', '3', '--exit'], env);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain('sandbox@rescue.local, the password printed at first start');
    const keys = [first, second].map((r) => /test key:\s+(sk_test_\S+)/.exec(r.stdout)![1]!);
    expect(keys[0]).not.toBe(keys[1]);

    const api = spawnRescue('start', '', env);
    spawned.push(api);
    const { url } = await api.up;
    const base = url!.replace(/\/$/, '');
    for (const key of keys) expect((await request(base, 'GET', '/v2/customers?limit=100', key)).body.data).toHaveLength(40);
    const endpoints = (await request(base, 'GET', '/v2/webhook_endpoints', keys[1])).body.data;
    expect(endpoints.map((e: any) => e.status).sort()).toEqual(['disabled', 'enabled']);
  }, 150_000);
});
