import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { widgetToken } from '../../src/domain/widget-token.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { phonePage } from '../support/phone-browser.ts';
import { launchChromium } from '../web/browser.ts';

// Seed 000's customer-portal widget, GET /api/widget/insights, as it is meant to be used: framed in
// the merchant's portal, a page served from another origin (a second local HTTP server), on a
// phone's screen. One click recovers a payment on the card on file. A portal on an origin the
// account did not allow sees the frame refused by the browser (CSP frame-ancestors).

const T0 = Date.parse('2026-06-01T09:00:00Z');
const unix = (ms: number) => Math.floor(ms / 1000);

/** A merchant's portal page: a heading and the widget in an iframe. */
function portal(title: string, src: () => string): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{margin:0;font:15px system-ui;padding:8px}iframe{width:100%;height:560px;border:0}</style></head>
<body><h1>${title}</h1><iframe id="rescue" title="Pagos" src="${src()}"></iframe></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let t: TestRescue;
let api: Client;
let browser: Browser;
let secret: string;
let customer: string;
let clock: string;
let allowed: { server: Server; origin: string };
let stranger: { server: Server; origin: string };
let src = '';

beforeAll(async () => {
  t = await startTestRescue();
  api = t.client((await t.signup()).testKey);
  allowed = await portal('Mi cuenta', () => src);
  stranger = await portal('Otro sitio', () => src);
  secret = (await api.post('/v2/settings/widget/rotate_secret')).body.secret;
  const saved = await api.post('/v2/settings/widget', { allowed_origins: [allowed.origin], branding: { accent_color: '#7a3cff' } });
  expect(saved.status).toBe(200);
  clock = (await api.post('/v2/test_clocks', { frozen_time: unix(T0) })).body.id;
  customer = (await api.post('/v2/customers', { email: 'lucia@example.es', name: 'Lucía', timezone: 'Europe/Madrid', locale: 'es-ES', test_clock: clock })).body.id;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  allowed?.server.close();
  stranger?.server.close();
  await t?.close();
});

describe('the portal widget in a browser', () => {
  it('framed by the allowed portal: the open payment, one click, recovered', async () => {
    // Declined until an hour after T0, then the same card goes through: the widget's retry, two hours in.
    const pay = await api.post('/v2/payments', { amount: 2500, currency: 'EUR', customer, payment_method: `pm_card_insufficientFunds_until_${unix(T0 + 3_600_000)}`, off_session: true, auto_rescue: { enabled: true, max_retries: 3, custom_schedule_days: [3, 6, 9] } });
    expect(pay.body.status).toBe('requires_rescue');
    await advanceClock(api, clock, new Date(T0 + 2 * 3_600_000));
    src = `${t.url}/api/widget/insights?token=${widgetToken({ secret, customer, expiresAt: new Date(Date.now() + 3_600_000) })}`;

    const p = await phonePage(browser, { locale: 'es-ES', timezoneId: 'Europe/Madrid' });
    try {
      await p.page.goto(allowed.origin);
      const frame = p.page.frameLocator('#rescue');
      await frame.locator('#merchant').waitFor();
      expect(await frame.locator('h1').textContent()).toBe('Tus pagos pendientes');
      const row = frame.locator(`li[data-payment="${pay.body.id}"]`);
      expect((await row.locator('.amount').textContent())!.replace(/\s/g, ' ')).toBe('25,00 €');
      expect(await row.locator('.reason').textContent()).toContain('no tenía fondos suficientes');
      expect(await row.locator('.next').textContent()).toContain('Próximo intento automático: 4 de junio de 2026');
      expect(await row.locator('a[data-action=update]').getAttribute('href')).toMatch(new RegExp(`^${t.url}/api/update-payment/${pay.body.id}\\?sig=`));
      await p.expectNoOverflow();
      await p.shot('widget-es-open');

      await row.locator('button[data-action=retry]').click();
      const result = frame.locator(`li[data-payment="${pay.body.id}"] [role=status]`);
      await result.waitFor();
      expect(await result.getAttribute('data-outcome')).toBe('paid');
      expect(await result.textContent()).toBe('Pagado: ¡gracias!');
      await p.expectNoOverflow();
      await p.shot('widget-es-paid');
      expect(p.errors).toEqual([]);
    } finally {
      await p.close();
    }
    const after = (await api.get(`/v2/payments/${pay.body.id}`)).body;
    expect(after.status).toBe('succeeded');
    expect(after.rescue_history.map((a: any) => a.result)).toEqual(['failed', 'succeeded']);
    // Nothing open any more: the widget says all is paid.
    const again = await fetch(src);
    expect(await again.text()).toContain('Todos tus pagos están al día');
  }, 90_000);

  it('framed by an origin the account did not allow: the browser refuses the frame', async () => {
    src = `${t.url}/api/widget/insights?token=${widgetToken({ secret, customer, expiresAt: new Date(Date.now() + 3_600_000) })}`;
    const p = await phonePage(browser, { locale: 'es-ES' });
    try {
      const refusal = p.page.waitForEvent('console', (m) => /frame-ancestors/.test(m.text()));
      await p.page.goto(stranger.origin);
      // Chromium names the policy that refused it: only the merchant's own portal may frame the widget.
      expect((await refusal).text()).toContain(`"frame-ancestors ${allowed.origin}". The request has been blocked.`);
      const frame = p.page.frames().find((f) => f !== p.page.mainFrame())!;
      await expect.poll(() => frame.locator('#merchant').count()).toBe(0);
      expect(await p.page.textContent('h1')).toBe('Otro sitio');
      await p.shot('widget-refused-origin');
      // The only console error is the browser's own refusal.
      expect(p.errors.filter((e) => !/frame-ancestors/.test(e))).toEqual([]);
    } finally {
      await p.close();
    }
  }, 60_000);
});
