import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../support/api-assertions.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { launchChromium } from '../web/browser.ts';

// /docs/api as a developer opens it: Swagger UI, served by Rescue itself (no CDN), renders the
// document with its response schemas, in Chromium, under the page's CSP, without a console error,
// on a desktop and on a 390 px phone. Screenshots: $TMPDIR/rescue-screenshots/api-docs-*.png.

const SHOTS = join(tmpdir(), 'rescue-screenshots');

let t: TestRescue;
let browser: Browser;
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [t, browser] = await Promise.all([startTestRescue({ worker: false }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** Opens the page; every console error, page error and request to another origin is collected. */
async function open(width: number): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(t.url) && !r.url().startsWith('data:')) problems.push(`request to another origin: ${r.url()}`);
  });
  await page.goto(`${t.url}/docs/api`);
  await expect.poll(() => page.locator('.opblock').count(), { timeout: 30_000 }).toBeGreaterThan(40);
  return { page, problems };
}

describe('/docs/api', () => {
  it('is served with a strict CSP, and only the renderer\'s own files are reachable', async () => {
    const res = await rawRequest(t.url, 'GET', '/docs/api');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await rawRequest(t.url, 'GET', '/docs/api/swagger-ui-bundle.js')).status).toBe(200);
    expect((await rawRequest(t.url, 'GET', '/docs/api/package.json')).status).toBe(404);
    expect((await rawRequest(t.url, 'GET', '/docs/api/..%2F..%2Fpackage.json')).status).toBe(404);
  });

  it('renders every operation with its response schema, offline and without a console error', async () => {
    const { page, problems } = await open(1280);
    await expect.poll(() => page.getByRole('heading', { name: /Rescue API/ }).count()).toBeGreaterThan(0);
    const operations = await page.locator('.opblock').count();
    const doc: any = (await rawRequest(t.url, 'GET', '/openapi.json')).body;
    expect(operations).toBe(Object.values(doc.paths).flatMap((ops: any) => Object.keys(ops)).length);
    // Open POST /v2/payments: its 201 answer shows the Payment's fields.
    await page.locator('#operations-Payments-post_v2_payments .opblock-summary').click();
    const op = page.locator('#operations-Payments-post_v2_payments');
    await expect.poll(() => op.locator('.responses-table').first().innerText()).toContain('201');
    await expect.poll(() => op.innerText()).toContain('rescue_schedule');
    await page.screenshot({ path: join(SHOTS, 'api-docs-desktop.png'), fullPage: false });
    expect(problems).toEqual([]);
  }, 60_000);

  it('fits a 390 px phone screen', async () => {
    const { page, problems } = await open(390);
    await page.locator('#operations-Payments-post_v2_payments .opblock-summary').click();
    await expect.poll(() => page.locator('#operations-Payments-post_v2_payments').innerText()).toContain('rescue_schedule');
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    await page.screenshot({ path: join(SHOTS, 'api-docs-phone.png'), fullPage: false });
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
  }, 60_000);
});
