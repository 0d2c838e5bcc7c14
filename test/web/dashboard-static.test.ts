import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIST } from '../../src/api/dashboard-static.ts';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';

// The built dashboard as the server hands it out (globalSetup builds it: test/web/build-dashboard.setup.ts).

let t: TestRescue;
beforeAll(async () => {
  t = await startTestRescue({ worker: false });
});
afterAll(() => t?.close());

describe('serving the dashboard at /dashboard', () => {
  it('answers the app and its client routes with index.html, never cached, under a strict CSP', async () => {
    for (const path of ['/dashboard/', '/dashboard/payments', '/dashboard/payments/pay_123', '/dashboard/stripe']) {
      const res = await rawRequest(t.url, 'GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.body).toContain('<div id="root"></div>');
      expect(res.body).toMatch(/src="\/dashboard\/assets\/index-[\w-]+\.js"/);
    }
    const bare = await fetch(`${t.url}/dashboard`, { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/dashboard/');
  });

  it('serves hashed assets with a year-long immutable cache; a missing asset is a 404, not the app', async () => {
    const html = (await rawRequest(t.url, 'GET', '/dashboard/')).body as string;
    const script = html.match(/src="(\/dashboard\/assets\/[^"]+\.js)"/)![1]!;
    const css = html.match(/href="(\/dashboard\/assets\/[^"]+\.css)"/)![1]!;
    const js = await fetch(t.url + script);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(t.url + css)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${t.url}/dashboard/assets/index-gone.js`)).status).toBe(404);
    expect((await fetch(`${t.url}/dashboard/favicon.ico`)).status).toBe(404);
    expect((await fetch(`${t.url}/dashboard/..%2F..%2Fpackage.json`)).status).not.toBe(200);
    expectError(await rawRequest(t.url, 'GET', '/dashboard/api/nothing'), 404, { code: 'route_not_found' });
  });

  it('ships no secret in the bundle', () => {
    const assets = join(DASHBOARD_DIST, 'assets');
    for (const file of readdirSync(assets)) {
      const text = readFileSync(join(assets, file), 'utf8');
      expect(text, file).not.toMatch(/(sk|rk)_(test|live)_[A-Za-z0-9]{16,}/);
      expect(text, file).not.toMatch(/whsec_[A-Za-z0-9+/=]{16,}/);
      expect(text, file).not.toContain('RESCUE_');
    }
  });
});
