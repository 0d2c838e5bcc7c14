import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { EgressAnswerTooLarge, EgressRefused, type EgressGuard } from '../egress/egress-guard.ts';
import { ANSWER_LIMITS, answerText } from './answer-text.ts';
import type { CardDetails, ChargeRequest, ChargeResult, Gateway } from './gateway.ts';
import { chargeInLanes } from './charge-lanes.ts';

// The merchant's own charge endpoint. Each attempt is one signed POST (Standard Webhooks headers,
// so the merchant verifies it with the same library it would use for our events) carrying an
// Idempotency-Key derived from the attempt: the merchant must charge at most once per key.

// Every string of the answer is checked at this edge (answer-text.ts): NUL, a lone surrogate or an
// overlong value makes the whole answer unreadable, so "unknown" (asked again under the same key),
// and it never reaches a batch write where it would fail other accounts' attempts.
const Answer = z.discriminatedUnion('status', [
  z.object({ status: z.literal('succeeded'), transaction_id: answerText(ANSWER_LIMITS.id) }),
  z.object({
    status: z.literal('failed'),
    decline_code: answerText(ANSWER_LIMITS.code),
    message: answerText(ANSWER_LIMITS.message, { min: 0 }).optional(),
    network_advice_code: answerText(ANSWER_LIMITS.adviceCode).nullish(),
    /** The card on file was replaced (the merchant's own updater, a new card from the customer): retry on it at once. */
    updated_payment_method: answerText(ANSWER_LIMITS.token).nullish(),
  }),
]);

/** An answer is a few hundred bytes; past this it is not read any further (and is "unknown"). */
export const MAX_ANSWER_BYTES = 64 * 1024;

const MAX_IN_FLIGHT = 8;

export interface HttpGatewayOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  /** Wall time for the signature timestamp (receivers compare it with their own clock). */
  wallClock: Clock;
  /** Every charge goes through it: resolved once, checked for the attempt's mode, connected to the checked address. */
  egress: EgressGuard;
}

export function httpGateway(o: HttpGatewayOptions): Gateway {
  const signer = new Webhook(o.secret);
  return {
    type: 'http',
    // A stopping worker sends nothing new; what is in flight is awaited (engine/worker.ts).
    charge: (requests, co) => chargeInLanes(requests, MAX_IN_FLIGHT, chargeOne, co),
    describeCard(paymentMethod): CardDetails {
      // The merchant's tokens are opaque to us; the token itself is the card for network limits. Its
      // fingerprint is a hash, so events and the API can name the card without repeating the token.
      return { brand: 'unknown', funding: 'unknown', country: null, last4: null, expMonth: null, expYear: null, fingerprint: tokenFingerprint(paymentMethod) };
    },
    accountUpdater: () => null,
  };

  async function chargeOne(r: ChargeRequest): Promise<ChargeResult> {
    const body = JSON.stringify({
      type: 'charge',
      idempotency_key: r.idempotencyKey,
      attempt_id: r.attemptId,
      payment: r.payment.id,
      customer: r.customer,
      payment_method: r.paymentMethod,
      payment_method_type: r.paymentMethodType ?? 'card',
      amount: r.payment.amount,
      currency: r.payment.currency,
      attempted_at: r.attemptedAt.toISOString(),
      retry_number: r.retryNumber,
      livemode: r.livemode,
      metadata: r.payment.metadata,
    });
    // The signature timestamp is when the message is sent, which on a test clock differs from
    // attempted_at; receivers check it against their own wall clock.
    const sentAt = o.wallClock.now();
    const headers = {
      'content-type': 'application/json',
      'idempotency-key': r.idempotencyKey,
      'webhook-id': r.idempotencyKey,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': signer.sign(r.idempotencyKey, sentAt, body),
    };
    try {
      // Redirects are answers (not ok), never followed: a public gateway URL must not bounce a signed charge to an internal address.
      const res = await o.egress.request(o.url, { method: 'POST', headers, body, livemode: r.livemode, timeoutMs: o.timeoutMs, maxResponseBytes: MAX_ANSWER_BYTES + 1 });
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        return { status: 'unknown', reason: `merchant gateway answered HTTP ${res.status}` };
      }
      const read = await readAnswerBody(res, MAX_ANSWER_BYTES);
      if (!read.ok) return { status: 'unknown', reason: `merchant gateway answer ${read.problem}` };
      const parsed = Answer.safeParse(safeJson(read.text));
      if (!parsed.success) return { status: 'unknown', reason: `merchant gateway answer was not {status:"succeeded"|"failed", ...}${problemOf(parsed.error)}` };
      const a = parsed.data;
      if (a.status === 'succeeded') return { status: 'succeeded', transactionId: a.transaction_id };
      return {
        status: 'failed',
        declineCode: a.decline_code,
        message: a.message ?? '',
        adviceCode: a.network_advice_code ?? null,
        ...(a.updated_payment_method && a.updated_payment_method !== r.paymentMethod ? { updatedPaymentMethod: a.updated_payment_method } : {}),
      };
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      if (err instanceof EgressRefused) return { status: 'unknown', reason: `merchant gateway not reached: ${err.message}` };
      // The guard's cap can end the stream before readAnswerBody's own check sees the bytes.
      if (err instanceof EgressAnswerTooLarge) return { status: 'unknown', reason: `merchant gateway answer was larger than ${MAX_ANSWER_BYTES} bytes` };
      return { status: 'unknown', reason: timeout ? 'merchant gateway timed out' : `merchant gateway unreachable: ${(err as Error).message}` };
    }
  }
}

/** 16 hex characters, the shape of a Stripe card fingerprint; one per token. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(`http-token:${token}`).digest('hex').slice(0, 16);
}

/**
 * The body of an answer, read as a stream and given up (the connection aborted) as soon as it passes
 * `maxBytes`, so an endless or huge answer costs at most that much memory; a body that is not UTF-8
 * is unreadable. The request's timeout signal still bounds the time it takes.
 */
export async function readAnswerBody(res: Response, maxBytes: number): Promise<{ ok: true; text: string } | { ok: false; problem: string }> {
  const tooLarge = { ok: false as const, problem: `was larger than ${maxBytes} bytes` };
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    return tooLarge;
  }
  if (!res.body) return { ok: true, text: '' };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return tooLarge;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, problem: 'was not UTF-8' };
  }
}

/** The first refused field, in our own words (never the merchant's text). */
function problemOf(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue && issue.path.length ? `: ${issue.path.join('.')} ${issue.message}` : '';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
