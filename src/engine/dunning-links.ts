import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/db.ts';
import type { Keyring } from '../stripe/crypto.ts';

// Update-payment links are signed and expire (DESIGN.md invariant 4). A token names one account,
// mode and payment, and its expiry in the payment's clock: base64url(JSON).base64url(HMAC-SHA256).
// The key is derived from RESCUE_ENCRYPTION_KEY when it is set (and every key in
// RESCUE_ENCRYPTION_OLD_KEYS still verifies, so a rotation does not break links already emailed);
// without it (the embedded default) a random key is generated once and kept in the database, where
// every API and worker process finds the same one.

export interface LinkClaims {
  accountId: string;
  livemode: boolean;
  paymentId: string;
  expiresAt: Date;
}

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export interface LinkSigner {
  sign(claims: LinkClaims): string;
  /** Signature and shape only; expiry is checked against the payment's clock by the caller (`isExpired`). */
  verify(token: string): LinkCheck;
}

const PURPOSE = 'rescue-update-payment-link:v1';
const SECRET_NAME = 'update_payment_link_key';
const b64 = (b: Buffer) => b.toString('base64url');

export function signerFromKeys(keys: readonly Buffer[]): LinkSigner {
  const macKeys = keys.map((k) => createHmac('sha256', k).update(PURPOSE).digest());
  const mac = (key: Buffer, body: string) => createHmac('sha256', key).update(body).digest();
  return {
    sign(c) {
      const body = b64(Buffer.from(JSON.stringify({ a: c.accountId, m: c.livemode ? 1 : 0, p: c.paymentId, exp: Math.floor(c.expiresAt.getTime() / 1000) })));
      return `${body}.${b64(mac(macKeys[0]!, body))}`;
    },
    verify(token) {
      const [body, sig, extra] = token.split('.');
      if (!body || !sig || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(body) || !/^[A-Za-z0-9_-]+$/.test(sig)) return { ok: false, reason: 'malformed' };
      const given = Buffer.from(sig, 'base64url');
      const valid = macKeys.some((k) => {
        const expected = mac(k, body);
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
      if (!valid) return { ok: false, reason: 'bad_signature' };
      try {
        const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { a?: unknown; m?: unknown; p?: unknown; exp?: unknown };
        if (typeof p.a !== 'string' || typeof p.p !== 'string' || (p.m !== 0 && p.m !== 1) || typeof p.exp !== 'number') return { ok: false, reason: 'malformed' };
        return { ok: true, claims: { accountId: p.a, livemode: p.m === 1, paymentId: p.p, expiresAt: new Date(p.exp * 1000) } };
      } catch {
        return { ok: false, reason: 'malformed' };
      }
    },
  };
}

export const isExpired = (claims: LinkClaims, now: Date) => claims.expiresAt.getTime() <= now.getTime();

/** The signer of this installation (see the header); the database key is created on first use. */
export async function loadLinkSigner(db: Db, ring: Keyring | null, clock: Clock): Promise<LinkSigner> {
  if (ring) return signerFromKeys([ring.current.key, ...[...ring.all].filter(([id]) => id !== ring.current.id).map(([, k]) => k)]);
  await db
    .insertInto('instance_secrets')
    .values({ name: SECRET_NAME, value: randomBytes(32).toString('base64'), created_at: clock.now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('instance_secrets').select('value').where('name', '=', SECRET_NAME).executeTakeFirstOrThrow();
  return signerFromKeys([Buffer.from(row.value, 'base64')]);
}

/** Memoised per process: the key never changes while it runs. */
export function linkSignerSource(db: Db, ring: Keyring | null, clock: Clock): () => Promise<LinkSigner> {
  let signer: Promise<LinkSigner> | null = null;
  return () => {
    signer ??= loadLinkSigner(db, ring, clock).catch((err) => {
      signer = null;
      throw err;
    });
    return signer;
  };
}

/**
 * Rescue's own page at the seed's path (`GET /api/update-payment/:invoiceId`), the token as its
 * signature. The older `/update-payment/:token` still serves links already emailed.
 */
export function hostedPageUrl(publicUrl: string, paymentId: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/update-payment/${encodeURIComponent(paymentId)}?sig=${encodeURIComponent(token)}`;
}

/** The merchant's own page, told which payment and given the token to prove the link is genuine. */
export function merchantPageUrl(base: string, paymentId: string, token: string): string {
  const url = new URL(base);
  url.searchParams.set('payment', paymentId);
  url.searchParams.set('token', token);
  return url.toString();
}
