import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { PASSWORD } from './dashboard-client.ts';

// Debian's Chromium through playwright-core, as in test/api/stripe-oauth-browser.test.ts; a fixed
// locale and time zone so the figures the test computes read exactly as the page shows them.

export const LOCALE = 'en-US';
export const TIME_ZONE = 'America/New_York';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function newDashboardPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ locale: LOCALE, timezoneId: TIME_ZONE });
  const page = await context.newPage();
  // A failing script must fail the test, not leave a blank page to time out on.
  page.on('pageerror', (err) => {
    throw err;
  });
  return page;
}

export async function signInThroughForm(page: Page, baseUrl: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/dashboard/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (password === PASSWORD) await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
}

export const usd = (minor: number) => new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'USD' }).format(minor / 100);
