import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Stripe-style ids: a prefix that names the object, then 24 base62 characters (~143 bits).
export function newId(prefix: 'acct' | 'key' | 'cus' | 'pay' | 'att' | 'clock' | 'evt' | 'we' | 'whd' | 'rec' | 'mdl'): string {
  return `${prefix}_${randomString(24)}`;
}

export function randomString(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i]!;
    // Rejection sampling keeps every character equally likely (248 = 4 × 62).
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out.length === length ? out : out + randomString(length - out.length);
}
