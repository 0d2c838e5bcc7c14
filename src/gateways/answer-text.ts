import { z } from 'zod';
import type { ChargeResult } from './gateway.ts';

// Text a gateway hands back (transaction ids, decline codes, messages, tokens) ends up in text and
// jsonb columns, and Postgres refuses two things JavaScript strings may hold: NUL (U+0000, in text
// and in jsonb) and a lone UTF-16 surrogate (an unpaired `\ud800` escape in jsonb). One such string
// in a set-based batch write fails the whole batch, other accounts' attempts with it. So every
// gateway string is checked here before it is stored, and bounded in length.

/** Bounds on what a gateway may answer; longer is not an answer we store. */
export const ANSWER_LIMITS = {
  /** A charge's id at the gateway (`transaction_id`, a Stripe `pi_…`/`in_…`). */
  id: 255,
  /** A decline code (`insufficient_funds`, Visa `51`…). */
  code: 100,
  /** A network advice code (Mastercard `03`, `24`…). */
  adviceCode: 16,
  /** A human-readable decline message. */
  message: 1000,
  /** A payment-method token (`updated_payment_method`). */
  token: 255,
} as const;

/** Whether `s` can be stored as is: no NUL and no lone surrogate. */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && s.isWellFormed();
}

/** Why `s` cannot be stored within `max` characters, or null when it can. */
export function answerTextProblem(s: string, max: number): string | null {
  if (s.includes('\u0000')) return 'contains NUL (\\u0000)';
  if (!s.isWellFormed()) return 'contains a lone UTF-16 surrogate';
  if (s.length > max) return `longer than ${max} characters`;
  return null;
}

/**
 * The zod schema of a gateway string at the edge: refused (so the answer is unreadable, "unknown")
 * when it holds NUL or a lone surrogate, is empty (unless `min: 0`), or is longer than `max`.
 */
export function answerText(max: number, o: { min?: number } = {}) {
  return z
    .string()
    .min(o.min ?? 1)
    .max(max)
    .refine(isStorableText, { message: 'must not contain NUL or a lone surrogate' });
}

/**
 * The same text made storable, for gateways whose answer we take whatever it holds (Stripe's SDK
 * objects): NUL removed, lone surrogates replaced by U+FFFD, cut to `max` characters without
 * splitting a surrogate pair.
 */
export function cleanAnswerText(s: string, max: number): string {
  let out = s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
  if (!out.isWellFormed()) out = out.toWellFormed();
  if (out.length <= max) return out;
  // A high surrogate at the cut would be left alone: cut before it.
  const cut = /[\ud800-\udbff]/.test(out[max - 1]!) ? max - 1 : max;
  return out.slice(0, cut);
}

/** cleanAnswerText that keeps null and undefined as they are. */
export function cleanOptionalText<T extends string | null | undefined>(s: T, max: number): T {
  return (typeof s === 'string' ? cleanAnswerText(s, max) : s) as T;
}

/** A charge result with every gateway string made storable (for adapters that take an SDK's objects as they come). */
export function cleanChargeResult(r: ChargeResult): ChargeResult {
  if (r.status === 'succeeded') return { status: 'succeeded', transactionId: cleanAnswerText(r.transactionId, ANSWER_LIMITS.id) };
  if (r.status === 'unknown') return { status: 'unknown', reason: cleanAnswerText(r.reason, ANSWER_LIMITS.message) };
  return {
    status: 'failed',
    declineCode: cleanAnswerText(r.declineCode, ANSWER_LIMITS.code) || 'generic_decline',
    message: cleanAnswerText(r.message, ANSWER_LIMITS.message),
    adviceCode: cleanOptionalText(r.adviceCode, ANSWER_LIMITS.adviceCode) || null,
    ...(r.updatedPaymentMethod ? { updatedPaymentMethod: cleanAnswerText(r.updatedPaymentMethod, ANSWER_LIMITS.token) } : {}),
  };
}
