import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { widgetToken } from '@rescue/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { widgetToken as serverWidgetToken } from '../../src/domain/widget-token.ts';
import { rawRequest } from '../support/api-assertions.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { launchChromium } from '../web/browser.ts';

// "Node 20+ and browsers": Chromium loads @rescue/client's dist/ as a page's ES module would (no
// bundler, no node: built-ins), makes a widget token with Web Crypto, and that token opens the
// customer's widget on the real server, equal to the one Rescue's own module makes.

const dist = join(import.meta.dirname, '../../packages/client/dist');
/** A page importing the package as a browser does, by URL, and handing its export to the test. */
const PAGE = `<!doctype html><title>portal</title><script type="module">
import { widgetToken } from '/index.js';
window.widgetToken = widgetToken;
</script>`;
type PortalWindow = { widgetToken: typeof widgetToken };

let t: TestRescue;
let browser: Browser;

beforeAll(async () => {
  [t, browser] = await Promise.all([startTestRescue({ worker: false }), launchChromium()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

it('a token made in a browser opens the widget, the same token the server module makes', async () => {
  const { testKey } = await t.signup();
  const api = t.client(testKey);
  const secret = (await api.post('/v2/settings/widget/rotate_secret')).body.secret as string;
  const customer = (await api.post('/v2/customers', { email: 'ana@example.es', timezone: 'Europe/Madrid' })).body.id as string;
  const open = (await api.post('/v2/payments', { amount: 2500, currency: 'EUR', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } })).body;

  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  // localhost is a secure context, where browsers offer Web Crypto; the package's files are served as they ship.
  await page.route('http://localhost/**', (route) => {
    const file = new URL(route.request().url()).pathname.slice(1);
    if (file === '') return route.fulfill({ contentType: 'text/html', body: PAGE });
    return route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(dist, file.replace(/[^\w.-]/g, '')), 'utf8') });
  });
  await page.goto('http://localhost/');
  const expiresAt = Date.now() + 10 * 60_000;
  await page.waitForFunction(() => 'widgetToken' in globalThis);
  const token = await page.evaluate(({ secret, customer, expiresAt }) => (globalThis as unknown as PortalWindow).widgetToken({ secret, customer, expiresAt: new Date(expiresAt) }), { secret, customer, expiresAt });
  expect(errors).toEqual([]);

  expect(token).toBe(serverWidgetToken({ secret, customer, expiresAt: new Date(expiresAt) }));
  const res = await rawRequest(t.url, 'GET', `/api/widget/insights?token=${encodeURIComponent(token)}`, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(200);
  expect(res.body.data.map((p: { id: string }) => p.id)).toEqual([open.id]);
}, 60_000);
