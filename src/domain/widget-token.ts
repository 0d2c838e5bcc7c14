import { createHmac, timingSafeEqual } from 'node:crypto';

// The customer-portal widget's token: the merchant's server says which customer a widget is for,
// signed with the account's widget secret (HMAC-SHA256) and expiring. `widgetToken` is all a
// merchant needs (the client library wraps it); Rescue reads the key id to find the account's
// secret, then verifies. Format: `wt1.<base64url JSON {k, c, exp}>.<base64url HMAC of "wt1.<body>">`.
// Pure: no I/O, no clock (the caller passes `now`).

/** A widget token may live at most this long: it sits in a page's HTML, so keep it short. */
export const MAX_WIDGET_TOKEN_SECONDS = 24 * 3600;

const SECRET = /^wsec_([A-Za-z0-9]{24})_([A-Za-z0-9_-]{32,})$/;
const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const mac = (secret: string, signed: string) => createHmac('sha256', secret).update(signed).digest();

/** The key id inside a widget secret (`wsec_<key id>_<random>`), or null for something else. */
export function widgetKeyId(secret: string): string | null {
  return SECRET.exec(secret)?.[1] ?? null;
}

/**
 * A token for one customer's widget, valid until `expiresAt` (at most 24 h ahead). Make it on your
 * server, per page view; never put the secret itself in a page.
 */
export function widgetToken(o: { secret: string; customer: string; expiresAt: Date }): string {
  const keyId = widgetKeyId(o.secret);
  if (!keyId) throw new Error('not a widget secret (wsec_…): create one with POST /v2/settings/widget/rotate_secret');
  const body = b64(JSON.stringify({ k: keyId, c: o.customer, exp: Math.floor(o.expiresAt.getTime() / 1000) }));
  const signed = `wt1.${body}`;
  return `${signed}.${b64(mac(o.secret, signed))}`;
}

export interface WidgetClaims {
  keyId: string;
  customer: string;
  expiresAt: Date;
}

/** The claims a token states, unverified: only to find which secret checks it. */
export function readWidgetToken(token: string): WidgetClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'wt1' || !/^[A-Za-z0-9_-]+$/.test(parts[1]!) || !/^[A-Za-z0-9_-]+$/.test(parts[2]!)) return null;
  try {
    const p = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { k?: unknown; c?: unknown; exp?: unknown };
    if (typeof p.k !== 'string' || typeof p.c !== 'string' || typeof p.exp !== 'number' || !Number.isFinite(p.exp)) return null;
    return { keyId: p.k, customer: p.c, expiresAt: new Date(p.exp * 1000) };
  } catch {
    return null;
  }
}

/** The token's claims when `secret` signed it and it has not expired (nor lives too long); else null. */
export function verifyWidgetToken(token: string, secret: string, now: Date): WidgetClaims | null {
  const claims = readWidgetToken(token);
  if (!claims || claims.keyId !== widgetKeyId(secret)) return null;
  const [tag, body, sig] = token.split('.');
  const expected = mac(secret, `${tag}.${body}`);
  const given = Buffer.from(sig!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const left = claims.expiresAt.getTime() - now.getTime();
  if (left <= 0 || left > MAX_WIDGET_TOKEN_SECONDS * 1000 + 60_000) return null;
  return claims;
}
