// Seeded randomness for the sandbox card network. The simulator must be a pure function of its input
// (same token, amount, time and attempt key → same outcome) and cost microseconds per decision, so every
// "random" draw is a 32-bit hash of a string rather than a stateful generator or Math.random.

/** FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so that nearby strings spread evenly. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Re-hash an already hashed value with a salt: cheaper than hashing `${seed}|${label}` for every draw. */
export function mix32(h: number, salt: number): number {
  return fmix32((h ^ Math.imul(salt + 0x9e3779b9, 0x27d4eb2d)) >>> 0);
}

/** A uniform draw in the open interval (0, 1); never exactly 0 so that log() is safe. */
export function toUnit(h: number): number {
  return (h + 0.5) / 4294967296;
}

/** Uniform (0,1) draw named by a seed string and a label. */
export function unitOf(seed: string, label: string): number {
  return toUnit(hash32(`${seed}\u0000${label}`));
}

/** Standard normal from two uniforms (Box–Muller); the profile needs a few lognormal delays. */
export function normalFrom(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Pick an item by weight with one uniform draw; weights need not sum to 1. */
export function pickWeighted<T>(items: readonly (readonly [T, number])[], u: number): T {
  let total = 0;
  for (const [, w] of items) total += w;
  let target = u * total;
  for (const [item, w] of items) {
    target -= w;
    if (target < 0) return item;
  }
  const last = items[items.length - 1];
  if (last === undefined) throw new Error('pickWeighted: no items');
  return last[0];
}

/** 16 hex characters, the shape of a Stripe card fingerprint; stable per input. */
export function fingerprintOf(text: string): string {
  const a = hash32(text);
  const b = mix32(a, 0x5f3759df);
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
