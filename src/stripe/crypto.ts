import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Secrets at rest (Stripe access and refresh tokens, pasted API keys, webhook signing secrets) are
// AES-256-GCM ciphertexts that carry the id of the key that made them: `v1.KEYID.IV.TAG.DATA`
// (base64url parts). Rotation: the new key becomes RESCUE_ENCRYPTION_KEY, the old one moves to
// RESCUE_ENCRYPTION_OLD_KEYS; old ciphertexts still decrypt and are re-encrypted with the current key
// when next read (store/stripe.ts). See docs/stripe.md#key-rotation.

export interface Keyring {
  current: { id: string; key: Buffer };
  all: Map<string, Buffer>;
}

function parseKey(spec: string): { id: string; key: Buffer } {
  const i = spec.indexOf(':');
  const id = spec.slice(0, i);
  const key = Buffer.from(spec.slice(i + 1), 'base64');
  if (i <= 0 || key.length !== 32) throw new Error(`encryption key '${id || spec.slice(0, 8)}' must be KEYID:BASE64 of exactly 32 bytes`);
  return { id, key };
}

/** From RESCUE_ENCRYPTION_KEY and RESCUE_ENCRYPTION_OLD_KEYS; null when no key is set. */
export function keyringFrom(current: string | undefined, old: string | undefined): Keyring | null {
  if (!current) return null;
  const cur = parseKey(current);
  const all = new Map<string, Buffer>();
  for (const spec of (old ?? '').split(',').filter(Boolean)) {
    const k = parseKey(spec);
    all.set(k.id, k.key);
  }
  all.set(cur.id, cur.key);
  return { current: cur, all };
}

const b64 = (b: Buffer) => b.toString('base64url');

export function encrypt(ring: Keyring, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', ring.current.key, iv);
  // The key id is authenticated too: a ciphertext cannot be relabelled to another key.
  cipher.setAAD(Buffer.from(ring.current.id));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', ring.current.id, b64(iv), b64(cipher.getAuthTag()), b64(data)].join('.');
}

/** Throws when the key is unknown or the ciphertext was tampered with. */
export function decrypt(ring: Keyring, ciphertext: string): string {
  const [version, id, iv, tag, data] = ciphertext.split('.');
  if (version !== 'v1' || !id || iv === undefined || tag === undefined || data === undefined) throw new Error('not a Rescue ciphertext');
  const key = ring.all.get(id);
  if (!key) throw new Error(`ciphertext was made with key '${id}', which is neither RESCUE_ENCRYPTION_KEY nor in RESCUE_ENCRYPTION_OLD_KEYS`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(id));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}

/** The key id a ciphertext was made with. */
export function keyIdOf(ciphertext: string): string | null {
  return ciphertext.split('.')[1] ?? null;
}

// Signed, expiring tokens (the connect link, the OAuth `state`): base64url(JSON).base64url(HMAC).
// The HMAC key is derived from the current encryption key, per purpose, so a connect-link token is
// never accepted as a state and the other way round. Rotating the encryption key invalidates links
// still in flight (they live minutes).

function macKey(ring: Keyring, purpose: string): Buffer {
  return createHmac('sha256', ring.current.key).update(`rescue-signed-token:${purpose}`).digest();
}

export function signToken(ring: Keyring, purpose: string, payload: Record<string, unknown>, expiresAt: Date): string {
  const body = b64(Buffer.from(JSON.stringify({ ...payload, exp: Math.floor(expiresAt.getTime() / 1000) })));
  const mac = b64(createHmac('sha256', macKey(ring, purpose)).update(body).digest());
  return `${body}.${mac}`;
}

export type TokenCheck<T> = { ok: true; payload: T } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export function verifyToken<T extends Record<string, unknown>>(ring: Keyring, purpose: string, token: string, now: Date): TokenCheck<T> {
  const [body, mac] = token.split('.');
  if (!body || !mac) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', macKey(ring, purpose)).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  let payload: T & { exp?: number };
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof payload.exp !== 'number' || payload.exp * 1000 < now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, payload };
}
