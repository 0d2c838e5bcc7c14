import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { LOCALE, TIME_ZONE } from './browser.ts';

// What every page of the merchant app must be, checked as a user would meet it: no console error
// (a CSP refusal is one), no page wider than the screen, and a screenshot kept for a person to look at.

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

export const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

export type Viewport = (typeof VIEWPORTS)[number];

export interface CheckedPage {
  page: Page;
  /** Console errors and uncaught exceptions so far, as text. */
  problems: string[];
}

/**
 * An answer the test provokes on purpose, which Chromium logs as "Failed to load resource":
 * a wrong value the page sends for the API to refuse (400).
 */
export interface ExpectedRefusal {
  status: number;
  path: RegExp;
}


export async function newCheckedPage(browser: Browser, viewport: Viewport, expected: readonly ExpectedRefusal[] = []): Promise<CheckedPage> {
  const context = await browser.newContext({ locale: LOCALE, timezoneId: TIME_ZONE, viewport: { width: viewport.width, height: viewport.height } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const refused = /^Failed to load resource: the server responded with a status of (\d+)/.exec(m.text());
    const path = m.location().url ? new URL(m.location().url).pathname : '';
    if (refused && expected.some((e) => e.status === Number(refused[1]) && e.path.test(path))) return;
    problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { page, problems };
}

/** The page is no wider than the window: anything wide scrolls inside its own box. */
export async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  // Runs in the page (the test's tsconfig has no DOM types, hence the `any`).
  const { scroll, inner, wide } = await page.evaluate(() => {
    const w = globalThis as any;
    const inner: number = w.innerWidth;
    // The elements that stick out (outside any box that scrolls them), to say which when the check fails.
    const wide: string[] = [...w.document.querySelectorAll('body *')]
      .filter((el: any) => el.getBoundingClientRect().right > inner + 0.5)
      .filter((el: any) => {
        for (let a = el.parentElement; a && a !== w.document.body; a = a.parentElement) if (w.getComputedStyle(a).overflowX !== 'visible') return false;
        return true;
      })
      .slice(0, 5)
      .map((el: any) => `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''} (${Math.round(el.getBoundingClientRect().right)} px)`);
    return { scroll: w.document.documentElement.scrollWidth as number, inner, wide };
  });
  expect(scroll, `page is ${scroll} px wide in a ${inner} px window: ${wide.join(', ')}`).toBeLessThanOrEqual(inner);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The input labelled `label` and the error shown beside it (in the same field), if any. */
export async function fieldError(page: Page, label: string): Promise<string | null> {
  const input = page.getByLabel(label, { exact: true });
  const describedBy = await input.getAttribute('aria-describedby');
  if (!describedBy) return null;
  for (const id of describedBy.split(' ')) {
    if (!id.endsWith('-error')) continue;
    return page.locator(`[id="${id}"]`).textContent();
  }
  return null;
}

/** One part of a page, at its full size (a long page's screenshot is too small to read it in). */
export async function screenshotOf(part: Locator, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await part.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** What the window shows now (a sandboxed frame renders here, not in an element screenshot). */
export async function screenshotWindow(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
