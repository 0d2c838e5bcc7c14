import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { CardDetails, ChargeRequest, ChargeResult, Gateway } from './gateway.ts';

// The merchant's own charge endpoint. Each attempt is one signed POST (Standard Webhooks headers,
// so the merchant verifies it with the same library it would use for our events) carrying an
// Idempotency-Key derived from the attempt: the merchant must charge at most once per key.

const Answer = z.discriminatedUnion('status', [
  z.object({ status: z.literal('succeeded'), transaction_id: z.string().min(1) }),
  z.object({
    status: z.literal('failed'),
    decline_code: z.string().min(1),
    message: z.string().optional(),
    network_advice_code: z.string().nullish(),
    /** The card on file was replaced (the merchant's own updater, a new card from the customer): retry on it at once. */
    updated_payment_method: z.string().min(1).max(255).nullish(),
  }),
]);

const MAX_IN_FLIGHT = 8;

export interface HttpGatewayOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  /** Wall time for the signature timestamp (receivers compare it with their own clock). */
  wallClock: Clock;
}

export function httpGateway(o: HttpGatewayOptions): Gateway {
  const signer = new Webhook(o.secret);
  return {
    type: 'http',
    async charge(requests) {
      const results: ChargeResult[] = new Array(requests.length);
      let next = 0;
      const lane = async () => {
        while (next < requests.length) {
          const i = next++;
          results[i] = await chargeOne(requests[i]!);
        }
      };
      await Promise.all(Array.from({ length: Math.min(MAX_IN_FLIGHT, requests.length) }, lane));
      return results;
    },
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
      // No redirects: a public gateway URL must not bounce a signed charge to an internal address.
      const res = await fetch(o.url, { method: 'POST', headers, body, redirect: 'error', signal: AbortSignal.timeout(o.timeoutMs) });
      const text = await res.text();
      if (!res.ok) return { status: 'unknown', reason: `merchant gateway answered HTTP ${res.status}` };
      const parsed = Answer.safeParse(safeJson(text));
      if (!parsed.success) return { status: 'unknown', reason: 'merchant gateway answer was not {status:"succeeded"|"failed", ...}' };
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
      return { status: 'unknown', reason: timeout ? 'merchant gateway timed out' : `merchant gateway unreachable: ${(err as Error).message}` };
    }
  }
}

/** 16 hex characters, the shape of a Stripe card fingerprint; one per token. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(`http-token:${token}`).digest('hex').slice(0, 16);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
