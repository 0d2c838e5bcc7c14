import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFINITIONS } from '../../src/domain/analytics.ts';
import { allPayments, figuresFromPayments, PERIOD, playOutMonth, type Month } from '../support/analytics-month.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { LOCALE, TIME_ZONE, launchChromium, signInThroughForm, usd } from './browser.ts';
import { newMerchant, type Merchant } from './dashboard-client.ts';

// /analytics in Chromium on a month played out on a test clock: the page's figures against
// GET /api/dashboard and against what the payments themselves say; a customer found by search and
// their churn score; every page at a desktop width and at a 390 px phone, where the document must be
// no wider than the screen. Any console error fails the test; screenshots go to artifacts/screenshots.

const SHOTS = join(import.meta.dirname, '..', '..', 'artifacts', 'screenshots');
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const RANGE = `from=${PERIOD.from}&to=${PERIOD.to}`;
// The analytics answer trains the churn model on every call: on a busy two-core machine a page can
// take seconds to settle, so conditions are polled well past vitest's 1 s default.
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000, interval: 50 });

let t: TestRescue;
let browser: Browser;
let m: Merchant;
let api: Client;
let month: Month;

beforeAll(async () => {
  [t, browser] = await Promise.all([startTestRescue(), launchChromium()]);
  m = await newMerchant(t, 'analytics');
  api = t.client(m.testKey);
  month = await playOutMonth(api);
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** A signed-in page at this viewport that records every console error. */
async function open(viewport: (typeof VIEWPORTS)[number]): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ locale: LOCALE, timezoneId: TIME_ZONE, viewport: { width: viewport.width, height: viewport.height } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  // From the sign-in page on: signed out, the session check answers 200, so nothing is logged there either.
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`);
  });
  await signInThroughForm(page, t.url, m.email);
  return { page, errors };
}

/** The page fits the screen (tables scroll inside their cards), and a screenshot is kept. */
async function fitsAndShoot(page: Page, viewport: (typeof VIEWPORTS)[number], name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}-${viewport.name}.png`), fullPage: true });
  const width = await page.evaluate('document.documentElement.scrollWidth') as number;
  expect(width, `${name} at ${viewport.width} px`).toBeLessThanOrEqual(viewport.width);
}

const text = (page: Page, testId: string) => page.getByTestId(testId).textContent();
const cell = (page: Page, table: string, row: string, field: string) => page.locator(`table[aria-label="${table}"] tr[${row}] [data-field="${field}"]`).textContent();

describe.each(VIEWPORTS)('analytics and customers in Chromium ($name)', (viewport) => {
  it('/analytics shows the figures GET /api/dashboard gives, as the payments say, with charts and definitions', async () => {
    const { page, errors } = await open(viewport);
    await page.goto(`${t.url}/analytics?${RANGE}`);
    // The first currency of the period is chosen and kept in the URL.
    await poll(() => page.url()).toBe(`${t.url}/dashboard/analytics?${RANGE}&currency=USD`);
    const want = figuresFromPayments(await allPayments(api));
    const d = (await api.get(`/api/dashboard?${RANGE}&currency=USD`)).body;
    const usdTotals = d.lift.totals[0];

    await poll(() => text(page, 'recovery-rate')).toBe(`${want.recoveryRate}%`);
    expect(usdTotals.recoveryRate).toBe(want.recoveryRate);
    expect(await text(page, 'recovery-rate-amount')).toBe(`${want.recoveryRateByAmount}%`);
    expect(await text(page, 'recovered-revenue')).toBe(usd(want.recoveredRevenue));
    expect(await text(page, 'average-days')).toBe(`${want.averageDaysToRecover} days`);
    expect(await text(page, 'median-days')).toBe(`${want.medianDaysToRecover} days`);
    expect([d.averageDaysToRecover, d.medianDaysToRecover]).toEqual([want.averageDaysToRecover, want.medianDaysToRecover]);
    expect(await text(page, 'definition-recovery-rate')).toContain(DEFINITIONS.recoveryRate);

    // MRR recovered: the March bar and its row.
    expect(await cell(page, 'MRR recovered per month', 'data-month="2026-03"', 'recovered')).toBe(usd(d.mrrRecovered[0].recoveredRevenue));
    expect(d.mrrRecovered[0].recoveredRevenue).toBe(want.recoveredRevenue);
    expect(await page.getByTestId('chart-MRR recovered per month').locator('.recharts-bar-rectangle').count()).toBe(1);
    expect(await page.locator('.recharts-surface').count()).toBeGreaterThanOrEqual(4);

    // Retry success by attempt and recovery by decline code, row by row.
    for (const r of want.retrySuccessByAttempt) {
      expect(await cell(page, 'Retry success by attempt', `data-attempt="${r.attempt}"`, 'made')).toBe(String(r.made));
      expect(await cell(page, 'Retry success by attempt', `data-attempt="${r.attempt}"`, 'rate')).toBe(`${r.successRate}%`);
    }
    for (const [code, r] of Object.entries(want.recoveryByDeclineCode)) {
      expect(await cell(page, 'Recovery by decline code', `data-code="${code}"`, 'failed')).toBe(String(r.failed));
      expect(await cell(page, 'Recovery by decline code', `data-code="${code}"`, 'rate')).toBe(`${r.recoveryRate}%`);
    }
    expect(await cell(page, 'Recovery by decline category', 'data-category="hard"', 'failed')).toBe('1');

    // Control group: no instruction to call the API, a link to the settings page.
    const control = page.getByTestId('control-group');
    expect(await control.textContent()).not.toContain('POST');
    expect(await control.getByRole('link').getAttribute('href')).toBe('/dashboard/settings');

    // Customers at risk: the API's scores, highest first; a click on the header sorts the other way.
    const atRisk = page.locator('table[aria-label="Customers at risk"] tbody tr');
    const ids = () => atRisk.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-customer')));
    expect(await ids()).toEqual(d.customersAtRisk.map((c: any) => c.customer));
    for (const c of d.customersAtRisk) expect(await cell(page, 'Customers at risk', `data-customer="${c.customer}"`, 'score')).toBe(String(c.churnScore));
    // By keyboard: the sort control is a button in the column header.
    await page.getByRole('button', { name: /Churn score/ }).focus();
    await page.keyboard.press('Enter');
    await poll(ids).toEqual(d.customersAtRisk.map((c: any) => c.customer).reverse());
    for (const k of ['succeeded', 'failed', 'pending'] as const) expect(await page.getByTestId('webhook-health').locator(`[data-field="${k}"]`).textContent()).toBe(String(d.webhookHealth[k]));
    await fitsAndShoot(page, viewport, 'analytics');

    // The link opens the customer, whose page shows the same churn score.
    await page.locator(`tr[data-customer="${month.customers.ada}"]`).getByRole('link', { name: 'Ada Lovelace' }).click();
    await poll(() => page.url()).toBe(`${t.url}/dashboard/customers/${month.customers.ada}`);
    const score = d.customersAtRisk.find((c: any) => c.customer === month.customers.ada).churnScore;
    await poll(() => text(page, 'churn-score')).toBe(String(score));
    expect(await page.getByTestId('churn-drivers').locator('li').count()).toBeGreaterThan(0);
    await poll(() => page.locator('table[aria-label="Customer\'s payments"] tbody tr').count()).toBe(1);
    expect(await cell(page, "Customer's payments", `data-payment="${month.payments[0]}"`, 'card')).toBe('Visa •••• 9995');
    expect(await page.locator('table[aria-label="Customer\'s rescues"] .badge').textContent()).toBe('recovered');
    await fitsAndShoot(page, viewport, 'customer');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('finds a customer by search and opens their churn score', async () => {
    const { page, errors } = await open(viewport);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await poll(() => page.locator('table[aria-label="Customers"] tbody tr').count()).toBe(4);
    await page.getByLabel('Search customers').fill('RAMONE');
    await page.getByRole('button', { name: 'Search' }).click();
    await poll(() => page.url()).toContain('q=RAMONE');
    await poll(() => page.locator('table[aria-label="Customers"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-customer')))).toEqual([month.customers.dee]);
    await fitsAndShoot(page, viewport, 'customers');
    await page.getByRole('link', { name: 'Dee Dee Ramone' }).click();
    const own = (await api.post('/api/predict/churn', { customer: month.customers.dee })).body.prediction;
    await poll(() => text(page, 'churn-score')).toBe(String(own.score));
    expect(await page.getByTestId('churn-drivers').locator('li').first().textContent()).toContain(own.drivers[0].description);
    expect(await page.locator('table[aria-label="Customer\'s rescues"] .badge').textContent()).toBe('exhausted');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('the overview, payments and a payment fit the screen, naming customers and cards, never tokens', async () => {
    const { page, errors } = await open(viewport);
    await poll(() => page.getByRole('heading', { name: 'Overview' }).count()).toBe(1);
    await poll(() => page.getByTestId('control-group').count()).toBe(1);
    await fitsAndShoot(page, viewport, 'overview');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments' }).click();
    const row = (id: string) => page.locator(`table[aria-label="Payments"] tr[data-payment="${id}"]`);
    await poll(() => row(month.payments[3]!).locator('[data-field="customer"]').textContent()).toBe('Dee Dee Ramone');
    expect(await row(month.payments[1]!).locator('[data-field="card"]').textContent()).toBe('Visa •••• 4242');
    expect(await page.locator('table[aria-label="Payments"]').textContent()).not.toMatch(/pm_card|cus_/);
    await fitsAndShoot(page, viewport, 'payments');

    await row(month.payments[0]!).getByRole('link', { name: month.payments[0] }).click();
    await poll(() => page.getByTestId('payment-customer').textContent()).toBe('Ada Lovelace');
    expect(await page.getByTestId('payment-card').textContent()).toBe('Visa •••• 9995');
    expect(await page.locator('main').textContent()).not.toContain('pm_card');
    await fitsAndShoot(page, viewport, 'payment');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Emails' }).click();
    await poll(() => page.getByRole('heading', { name: 'Emails' }).count()).toBe(1);
    await fitsAndShoot(page, viewport, 'emails');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await poll(() => page.getByRole('heading', { name: 'Webhooks' }).count()).toBe(1);
    await fitsAndShoot(page, viewport, 'webhooks');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Stripe' }).click();
    await poll(() => page.getByRole('heading', { name: 'Stripe' }).count()).toBe(1);
    await fitsAndShoot(page, viewport, 'stripe');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('analytics refresh', () => {
  it('shows a new failed payment without a reload when the window regains focus', async () => {
    const { page, errors } = await open(VIEWPORTS[0]);
    await page.goto(`${t.url}/dashboard/analytics?${RANGE}&currency=USD`);
    const before = (await api.get(`/api/dashboard?${RANGE}&currency=USD`)).body.lift.totals[0];
    await poll(() => page.getByText(`${before.failedRecoveredCount} of ${before.failedCount} failed payments`).count()).toBe(1);
    // On the clock (still in March): the payment fails now, inside the period.
    expect((await api.post('/v2/payments', { amount: 700, currency: 'USD', customer: month.customers.cy, payment_method: 'pm_card_visa_chargeDeclinedLostCard', off_session: true })).status).toBe(201);
    await page.evaluate("window.dispatchEvent(new Event('focus'))");
    await poll(() => page.getByText(`${before.failedRecoveredCount} of ${before.failedCount + 1} failed payments`).count()).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
