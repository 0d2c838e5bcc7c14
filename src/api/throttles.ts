import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { RescueError, Throttled } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { hitCounter, readCounter, refundCounter } from '../store/rate-limits.ts';
import { LocalCounter } from './local-counter.ts';

// Every throttle of the API, counted in the database through @fastify/rate-limit and
// rate-limit-store.ts so all API processes share the counts (the per-key limit, on every request,
// through local-counter.ts: exact from half the limit on). Each one counts a try *before* the step
// it guards (the password check, the key lookup, the signup), in one statement: a hundred concurrent
// tries each get their own count, and only those within the limit go on. Settings: README "Settings"
// and SECURITY.md.

const MINUTE = 60_000;

/**
 * Sign-in: the address is locked first (10 tries in 15 minutes, any emails), so one address cannot
 * guess much. The email's own limit is higher and shorter (20 tries in 5 minutes from all addresses)
 * and never applies to an address that signed in to it within 30 days: an attacker can slow the
 * owner down from many addresses at once, but cannot keep the owner out.
 */
export const SIGN_IN_LIMITS = {
  address: { max: 10, windowMs: 15 * MINUTE },
  email: { max: 20, windowMs: 5 * MINUTE },
  knownAddressMs: 30 * 24 * 60 * MINUTE,
} as const;

/** Unknown API keys one address may send per this window (RESCUE_RATE_LIMIT_INVALID_KEYS). */
export const INVALID_KEY_WINDOW_MS = 10 * MINUTE;
const HOUR = 60 * MINUTE;

export interface Throttles {
  /** Counts a request of an authenticated key (or dashboard session); 429 past RESCUE_RATE_LIMIT_PER_KEY. */
  apiKey(request: FastifyRequest, keyId: string): Promise<void>;
  /** Before a key is looked up: 429 while the address has sent too many unknown keys. */
  unknownKeysAllowed(request: FastifyRequest): Promise<void>;
  /** After a key was not found: counts it against the address. */
  unknownKeySeen(request: FastifyRequest): Promise<void>;
  /** Counts a sign-in try before the password is checked; call `succeeded` when it was right. */
  signInTry(request: FastifyRequest, email: string): Promise<{ succeeded(): Promise<void> }>;
  /** Refuses signup when closed, or past RESCUE_SIGNUP_PER_HOUR for the address. */
  signupTry(request: FastifyRequest): Promise<void>;
}

/** The client's address as the throttles see it: an IPv6 client is its /64 (one subscriber's network). */
export function clientAddress(request: FastifyRequest): string {
  return normalizeIP(request.ip, 64);
}

export function throttles(app: FastifyInstance, ctx: { db: Db; clock: Clock; config: Config }): Throttles {
  const { config } = ctx;
  /** Counts (or only reads) `key` in a fixed window; the count and when the window ends. */
  const count = async (request: FastifyRequest, key: string, max: number, windowMs: number, increment = true) => {
    const limiter = app.createRateLimit({ keyGenerator: () => key, max, timeWindow: windowMs });
    const r = await limiter(request, { increment });
    if (r.isAllowed) return { over: false, full: false, retryMs: 0 };
    // `current` is max - remaining (remaining bottoms out at 0).
    return { over: r.isExceeded, full: r.remaining === 0, retryMs: r.ttl };
  };

  const perKey = new LocalCounter(ctx.db);
  // An address's unknown-key gate is read on every keyed request; a pass is remembered for a second
  // (GATE_PASS_MS), and forgotten at once when this process sees that address send an unknown key.
  const gatePasses = new Map<string, number>();
  const GATE_PASS_MS = 1_000;

  return {
    async apiKey(request, keyId) {
      const max = config.RESCUE_RATE_LIMIT_PER_KEY;
      if (max === 0) return;
      const now = ctx.clock.now();
      const c = await perKey.hit(`key:${keyId}`, now, max, config.RESCUE_RATE_LIMIT_WINDOW_MS);
      if (c.hits > max) throw new Throttled('rate_limit', `Too many requests with this API key: at most ${max} per ${config.RESCUE_RATE_LIMIT_WINDOW_MS / 1000} s. Retry after the Retry-After header's seconds.`, c.resetsAt.getTime() - now.getTime());
    },

    async unknownKeysAllowed(request) {
      const max = config.RESCUE_RATE_LIMIT_INVALID_KEYS;
      if (max === 0) return;
      const address = clientAddress(request);
      const now = ctx.clock.now().getTime();
      if ((gatePasses.get(address) ?? 0) > now) return;
      const r = await count(request, `badkey:${address}`, max, INVALID_KEY_WINDOW_MS, false);
      if (r.full) throw tooManyUnknownKeys(r.retryMs);
      if (gatePasses.size > 10_000) gatePasses.clear();
      gatePasses.set(address, now + GATE_PASS_MS);
    },

    async unknownKeySeen(request) {
      const max = config.RESCUE_RATE_LIMIT_INVALID_KEYS;
      if (max === 0) return;
      const address = clientAddress(request);
      gatePasses.delete(address);
      const r = await count(request, `badkey:${address}`, max, INVALID_KEY_WINDOW_MS);
      if (r.over) throw tooManyUnknownKeys(r.retryMs);
    },

    async signInTry(request, email) {
      const address = clientAddress(request);
      const byAddress = await count(request, `signin:addr:${address}`, SIGN_IN_LIMITS.address.max, SIGN_IN_LIMITS.address.windowMs);
      if (byAddress.over) throw signInThrottled('from this address', byAddress.retryMs);
      const knownKey = `signin:known:${email}:${address}`;
      const known = (await readCounter(ctx.db, knownKey, ctx.clock.now())).hits > 0;
      if (!known) {
        const byEmail = await count(request, `signin:email:${email}`, SIGN_IN_LIMITS.email.max, SIGN_IN_LIMITS.email.windowMs);
        if (byEmail.over) throw signInThrottled('for this email', byEmail.retryMs);
      }
      return {
        // The owner's own try does not count against them; the address is remembered for the email.
        async succeeded() {
          const now = ctx.clock.now();
          await refundCounter(ctx.db, `signin:addr:${address}`, now);
          if (!known) await refundCounter(ctx.db, `signin:email:${email}`, now);
          await hitCounter(ctx.db, knownKey, now, SIGN_IN_LIMITS.knownAddressMs);
        },
      };
    },

    async signupTry(request) {
      if (config.RESCUE_SIGNUP === 'closed') throw new RescueError('signup_closed', 'Signup is closed on this Rescue: ask its operator for an account (rescue create-account).');
      const max = config.RESCUE_SIGNUP_PER_HOUR;
      if (max === 0) return;
      const r = await count(request, `signup:${clientAddress(request)}`, max, HOUR);
      if (r.over) throw new Throttled('rate_limit', `Too many signups from this address: at most ${max} an hour.`, r.retryMs);
    },
  };
}

function tooManyUnknownKeys(retryMs: number): Throttled {
  return new Throttled('rate_limit', 'Too many requests with invalid API keys from this address.', retryMs);
}

function signInThrottled(scope: string, retryMs: number): Throttled {
  const minutes = Math.max(1, Math.ceil(retryMs / MINUTE));
  return new Throttled('sign_in_throttled', `Too many sign-in tries ${scope}. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, retryMs);
}
