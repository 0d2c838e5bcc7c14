import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RescueError } from '../errors.ts';

// Serves the built dashboard (src/web/dashboard, built by scripts/build-dashboard.ts into
// dist/dashboard) at /dashboard. Client routes (/dashboard/payments/pay_…) get index.html; files
// under /dashboard/assets/ carry a content hash in their name, so they are cached for a year.

export const DASHBOARD_DIST = join(import.meta.dirname, '..', '..', 'dist', 'dashboard');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

// The app needs only its own origin: no inline script, no third party, never framed. One exception:
// inline style attributes (style-src-attr), because an email's HTML is shown in a sandboxed srcdoc
// frame, which inherits this policy, and emails can only be styled inline. <style> elements and
// stylesheets stay 'self' (style-src-elem), and no script can run in the frame to misuse it.
// Images may come over https: a merchant's logo in an email preview is on their own site.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-elem 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function registerDashboardStatic(app: FastifyInstance, dist = DASHBOARD_DIST) {
  const send = (reply: FastifyReply, file: string, cache: string) =>
    reply
      .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', cache)
      .header('x-content-type-options', 'nosniff')
      .send(readFileSync(file));

  const index = (reply: FastifyReply) => {
    const file = join(dist, 'index.html');
    if (!existsSync(file)) {
      return reply
        .status(503)
        .header('content-type', 'text/html; charset=utf-8')
        .send('<!doctype html><title>Rescue dashboard</title><h1>The dashboard is not built</h1><p>Run <code>npm run build:dashboard</code> (npm start does it for you) and reload.</p>');
    }
    // index.html names the current hashed assets, so browsers must ask again each time.
    return send(reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('referrer-policy', 'same-origin'), file, 'no-cache');
  };

  app.get('/dashboard', (_request, reply) => reply.redirect('/dashboard/', 302));
  // Seed 000 sends merchants to /analytics.
  app.get('/analytics', (request, reply) => {
    const q = request.url.indexOf('?');
    return reply.redirect(`/dashboard/analytics${q >= 0 ? request.url.slice(q) : ''}`, 302);
  });
  // A person typing Rescue's address, or the seed's /signup, lands in the app.
  app.get('/', (_request, reply) => reply.redirect('/dashboard/', 302));
  app.get('/signup', (_request, reply) => reply.redirect('/dashboard/signup', 302));
  app.get('/dashboard/*', async (request, reply) => {
    const rest = safeDecode((request.params as { '*': string })['*'] ?? '');
    if (rest === null) throw new RescueError('parameter_invalid', 'The path is not well-formed percent-encoded UTF-8.');
    if (rest.startsWith('api/')) throw new RescueError('route_not_found', `Unrecognized request URL (${request.method}: /dashboard/${rest}).`);
    const file = normalize(join(dist, rest));
    const inside = file.startsWith(dist + sep);
    if (inside && existsSync(file) && statSync(file).isFile()) {
      return send(reply, file, rest.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    // A missing asset is a 404 (a stale page asking for an old bundle), not the app's HTML.
    if (rest.startsWith('assets/') || extname(rest) !== '') {
      throw new RescueError('route_not_found', `No such dashboard file: /dashboard/${rest}`);
    }
    return index(reply);
  });
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
