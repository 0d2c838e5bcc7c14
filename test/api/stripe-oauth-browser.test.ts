import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeRescue, type StripeRescue } from '../support/stripe-harness.ts';

// The OAuth round trip in a real browser (Debian's Chromium): Rescue's link, the redirect to the
// (fake) Stripe authorize page, the click, Stripe's redirect back with the state and the cookie,
// and the page the merchant reads.

let s: StripeRescue;
let browser: Browser;
beforeAll(async () => {
  s = await startStripeRescue({ worker: false, fakeConnect: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('Stripe Connect in a browser', () => {
  it('connect: link → Stripe → back to Rescue, which shows the account and the mode', async () => {
    const api = s.t.client((await s.t.signup()).testKey);
    s.fake.authorizeAs = 'acct_inbrowser1';
    const link = (await api.post('/v2/stripe/connect_links', { mode: 'active' })).body;
    const page = await browser.newPage();
    try {
      await page.goto(link.url);
      expect(await page.textContent('h1')).toContain('read_write');
      await page.click('#connect');
      await page.waitForURL(/\/api\/stripe\/oauth\/callback/);
      expect(await page.textContent('#title')).toBe('Stripe connected');
      expect(await page.textContent('#stripe-account')).toBe('acct_inbrowser1');
      expect(await page.textContent('main')).toContain('Smart Retries off');
    } finally {
      await page.close();
    }
    expect((await api.get('/v2/stripe/connection')).body).toMatchObject({ status: 'connected', stripe_account: 'acct_inbrowser1', mode: 'active' });
  });

  it('deny: a clear page and nothing connected; a replayed callback in another browser is refused', async () => {
    const api = s.t.client((await s.t.signup()).testKey);
    const link = (await api.post('/v2/stripe/connect_links', {})).body;
    const context = await browser.newContext();
    const page = await context.newPage();
    let connectHref: string | null = null;
    try {
      await page.goto(link.url);
      connectHref = await page.getAttribute('#connect', 'href');
      await page.click('#deny');
      await page.waitForURL(/\/api\/stripe\/oauth\/callback/);
      expect(await page.textContent('#title')).toBe('Stripe was not connected');
      expect(await page.getAttribute('#reason', 'data-reason')).toBe('denied');
    } finally {
      await context.close();
    }
    // The same callback URL opened in another browser (no state cookie) is refused.
    const other = await browser.newContext();
    const stolen = await other.newPage();
    try {
      const res = await stolen.goto(connectHref!);
      expect(res!.status()).toBe(400);
      expect(await stolen.getAttribute('#reason', 'data-reason')).toBe('bad_state');
    } finally {
      await other.close();
    }
    expect((await api.get('/v2/stripe/connection')).body.status).toBe('not_connected');
  });
});
