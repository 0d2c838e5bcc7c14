import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';

// Customer-facing pages as a customer sees them: a phone's screen (390 px wide), the customer's
// language, every console error and page error collected (a test asserts there are none), and
// screenshots kept under artifacts/screenshots/ for a person to look at.

export const PHONE = { width: 390, height: 844 };
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'artifacts', 'screenshots');

export interface PhonePage {
  page: Page;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
  shot(name: string): Promise<void>;
  /** The page's content is no wider than the phone. */
  expectNoOverflow(): Promise<void>;
  close(): Promise<void>;
}

export async function phonePage(browser: Browser, o: { locale: string; timezoneId?: string }): Promise<PhonePage> {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: o.locale, timezoneId: o.timezoneId ?? 'UTC' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    page,
    errors,
    shot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    expectNoOverflow: async () => {
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(PHONE.width);
    },
    close: () => context.close(),
  };
}
