import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { launchChromium, newDashboardPage, signInThroughForm, usd } from './browser.ts';
import { expectNoHorizontalOverflow, newCheckedPage, screenshot, VIEWPORTS } from './page-checks.ts';
import { newMerchant, type Merchant } from './dashboard-client.ts';

// The merchant's day in the dashboard, in Chromium against the real app: sign in (and a wrong
// password first), the overview's figures against the API's, payments filtered and paged, a
// payment's timeline, Retry now and Cancel rescue.

const DECLINED = { amount: 4999, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } };
const RESCUING = 21; // one more than the dashboard's page of 20

let t: TestRescue;
let browser: Browser;
let m: Merchant;
let api: Client;
let recoverable: string;
let paidAtOnce: string;

beforeAll(async () => {
  [t, browser] = await Promise.all([startTestRescue({ worker: false }), launchChromium()]);
  m = await newMerchant(t, 'browser');
  api = t.client(m.testKey);
  for (let i = 0; i < RESCUING; i++) expect((await api.post('/v2/payments', { ...DECLINED, metadata: { n: String(i) } })).status).toBe(201);
  paidAtOnce = (await api.post('/v2/payments', { amount: 10_000, currency: 'USD', payment_method: 'pm_card_visa' })).body.id;
  // Declines until two seconds from now, then approves: Retry now, a little later, recovers it.
  const until = Math.floor(systemClock.now().getTime() / 1000) + 2;
  recoverable = (await api.post('/v2/payments', { ...DECLINED, amount: 2500, payment_method: `pm_card_insufficientFunds_until_${until}` })).body.id;
  await new Promise((r) => setTimeout(r, 2500));
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const rows = (page: Page) => page.locator('table[aria-label="Payments"] tbody tr');

describe('dashboard in a browser: payments', () => {
  it('a wrong password shows an error and stays on the sign-in form', async () => {
    const page = await newDashboardPage(browser);
    await signInThroughForm(page, t.url, m.email, 'not my password');
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('The email or password is not right.');
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    await page.context().close();
  });

  it('sign in, retry a payment now, see the overview match the API, filter and page payments, cancel a rescue, sign out', async () => {
    const page = await newDashboardPage(browser);
    await signInThroughForm(page, t.url, m.email);

    // Retry now from the payment's page: the card approves now, so the rescue recovers.
    await page.goto(`${t.url}/dashboard/payments/${recoverable}`);
    await expect.poll(() => page.getByTestId('rescue-status').textContent()).toBe('active');
    await page.getByRole('button', { name: 'Retry now' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Retried now' }).textContent()).toBe('Retried now: the payment is succeeded.');
    await expect.poll(() => page.getByTestId('rescue-status').textContent()).toBe('recovered');
    expect((await api.get(`/v2/payments/${recoverable}`)).body.auto_rescue.status).toBe('recovered');

    // Overview: the same figures as the API.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    const usdTotals = (await api.get('/api/dashboard')).body.lift.totals.find((x: any) => x.currency === 'USD');
    expect(usdTotals).toMatchObject({ recoveredRevenue: 2500, recoveredCount: 1, failedCount: RESCUING + 1 });
    await expect.poll(() => page.getByTestId('recovered-USD').textContent()).toBe(usd(usdTotals.recoveredRevenue));
    expect(await page.getByTestId('recovered-count-USD').textContent()).toBe(String(usdTotals.recoveredCount));
    expect(await page.getByTestId('in-progress').textContent()).toBe(String(RESCUING));
    const row = page.locator('tr[data-currency="USD"]');
    expect(await row.locator('[data-field="recovery-rate"]').textContent()).toBe(`${usdTotals.recoveryRate}%`);
    expect(await row.locator('[data-field="lift"]').textContent()).toBe(`${usdTotals.liftPercent}%`);
    expect(usdTotals.liftPercent).toBe(25); // 25.00 recovered on 100.00 paid at the first try

    // Payments: all of them over two pages, then only those being rescued.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments' }).click();
    await expect.poll(() => rows(page).count()).toBe(20);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => rows(page).count()).toBe(RESCUING + 2 - 20);
    await page.getByRole('button', { name: 'Previous' }).click();
    await expect.poll(() => rows(page).count()).toBe(20);
    await page.getByLabel('Status').selectOption('succeeded');
    await expect.poll(() => rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-payment')).sort())).toEqual([paidAtOnce, recoverable].sort());
    await page.getByLabel('Status').selectOption('requires_rescue');
    await expect.poll(() => page.url()).toContain('status=requires_rescue');
    await expect.poll(() => rows(page).count()).toBe(20);
    expect(await rows(page).locator('.badge').allTextContents()).toEqual(Array(20).fill('requires rescue'));

    // A payment's detail: the first attempt's decline and the planned retries, then cancel.
    const first = rows(page).first();
    const id = (await first.getAttribute('data-payment'))!;
    await first.getByRole('link', { name: id }).click();
    await expect.poll(() => page.url()).toBe(`${t.url}/dashboard/payments/${id}`);
    const timeline = page.locator('table[aria-label="Attempts timeline"] tbody tr');
    await expect.poll(() => timeline.count()).toBeGreaterThan(1);
    const attempted = page.locator('tr[data-kind="attempted"]');
    expect(await attempted.count()).toBe(1);
    expect(await attempted.first().textContent()).toContain('insufficient_funds');
    const planned = (await api.get(`/v2/payments/${id}`)).body.rescue_schedule.scheduled_retries;
    expect(await page.locator('tr[data-kind="planned"]').count()).toBe(planned.length);
    await page.getByRole('button', { name: 'Cancel rescue' }).click();
    await page.getByRole('button', { name: 'Yes, cancel rescue' }).click();
    await expect.poll(() => page.getByTestId('rescue-status').textContent()).toBe('cancelled');
    expect(await page.locator('h1 .badge').textContent()).toBe('rescue cancelled');
    expect(await page.locator('tr[data-kind="planned"]').count()).toBe(0);
    expect((await api.get(`/v2/payments/${id}`)).body.status).toBe('rescue_cancelled');

    // Reload on a client route works (the server answers index.html), still signed in.
    await page.reload();
    await expect.poll(() => page.getByTestId('rescue-status').textContent()).toBe('cancelled');

    // Sign out: back to the form, and the session is gone for good.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in to Rescue' }).count()).toBe(1);
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in to Rescue' }).count()).toBe(1);
    await page.context().close();
  });

  it("a rescue for insufficient funds: each planned retry says which paydays it follows and whose shares, on a phone and a desktop", async () => {
    const id = (await api.post('/v2/payments', { ...DECLINED, metadata: { n: 'payday' } })).body.id;
    const planned = (await api.get(`/v2/payments/${id}`)).body.rescue_schedule.scheduled_retries;
    expect(planned.length).toBeGreaterThan(0);
    for (const viewport of VIEWPORTS) {
      const { page, problems } = await newCheckedPage(browser, viewport);
      await signInThroughForm(page, t.url, m.email);
      await page.goto(`${t.url}/dashboard/payments/${id}`);
      const rows = page.locator('tr[data-kind="planned"]');
      await expect.poll(() => rows.count()).toBe(planned.length);
      // A new account has no calendars of its own: the first retry is on the next likely payday of the usual ones.
      const first = await rows.first().textContent();
      expect(first).toContain(planned[0].reason);
      expect(first).toMatch(/insufficient funds; on a likely payday \(.*\d+% of customers are paid then; by US pay frequencies; this account's own not learned yet\)/);
      await expectNoHorizontalOverflow(page);
      await screenshot(page, `payment-insufficient-funds-${viewport.name}`);
      expect(problems).toEqual([]);
      await page.context().close();
    }
  });
});
