import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decrypt, encrypt, keyringFrom, signToken, verifyToken } from '../../src/stripe/crypto.ts';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const now = new Date('2026-11-23T10:00:00Z');

describe('secrets at rest (AES-256-GCM with a key id)', () => {
  const k1 = key('k1');
  const k2 = key('k2');

  it('round-trips, with a fresh IV each time, and names its key', () => {
    const ring = keyringFrom(k1, undefined)!;
    const a = encrypt(ring, 'sk_test_secret');
    const b = encrypt(ring, 'sk_test_secret');
    expect(a).not.toBe(b);
    expect(a.startsWith('v1.k1.')).toBe(true);
    expect(decrypt(ring, a)).toBe('sk_test_secret');
  });

  it('reads old ciphertexts only while the old key is listed', () => {
    const old = encrypt(keyringFrom(k1, undefined)!, 'rt_refresh');
    expect(decrypt(keyringFrom(k2, k1)!, old)).toBe('rt_refresh');
    expect(() => decrypt(keyringFrom(k2, undefined)!, old)).toThrow(/k1/);
  });

  it('refuses a tampered ciphertext or a relabelled key id', () => {
    const ring = keyringFrom(k2, k1)!;
    const c = encrypt(ring, 'sk_test_secret');
    const parts = c.split('.');
    const flipped = [...parts.slice(0, 4), Buffer.from(Buffer.from(parts[4]!, 'base64url').map((x, i) => (i === 0 ? x ^ 1 : x))).toString('base64url')].join('.');
    expect(() => decrypt(ring, flipped)).toThrow();
    expect(() => decrypt(ring, ['v1', 'k1', ...parts.slice(2)].join('.'))).toThrow();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => keyringFrom(`k1:${randomBytes(16).toString('base64')}`, undefined)).toThrow(/32 bytes/);
  });
});

describe('signed, expiring tokens', () => {
  const ring = keyringFrom(key('k1'), undefined)!;

  it('verify for their purpose until they expire', () => {
    const t = signToken(ring, 'oauth-state', { a: 'acct_1' }, new Date(now.getTime() + 60_000));
    expect(verifyToken(ring, 'oauth-state', t, now)).toEqual({ ok: true, payload: expect.objectContaining({ a: 'acct_1' }) });
    expect(verifyToken(ring, 'oauth-state', t, new Date(now.getTime() + 61_000))).toEqual({ ok: false, reason: 'expired' });
    expect(verifyToken(ring, 'connect-link', t, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuse an altered payload and another key', () => {
    const t = signToken(ring, 'oauth-state', { a: 'acct_1' }, new Date(now.getTime() + 60_000));
    const [, mac] = t.split('.');
    const forged = `${Buffer.from(JSON.stringify({ a: 'acct_2', exp: 9999999999 })).toString('base64url')}.${mac}`;
    expect(verifyToken(ring, 'oauth-state', forged, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyToken(keyringFrom(key('k9'), undefined)!, 'oauth-state', t, now).ok).toBe(false);
    expect(verifyToken(ring, 'oauth-state', 'garbage', now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
