// Verifies a webhook delivery as Rescue signs it (Standard Webhooks): HMAC-SHA256 over
// `${webhook-id}.${webhook-timestamp}.${body}` with the endpoint's whsec_ secret, base64, in
// `webhook-signature` as `v1,<signature>` (two during a secret rotation). Web Crypto, so it runs in
// Node 20+ and browsers alike; hence it is async.

import { RescueError } from './errors.js';

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/** Deliveries older or newer than this are refused, so a captured one cannot be replayed later. */
const TOLERANCE_SECONDS = 5 * 60;

export class WebhookSignatureError extends RescueError {
  override name = 'WebhookSignatureError';
  constructor(message: string) {
    super(message, { type: 'invalid_request_error', code: 'webhook_signature_invalid', status: 0 });
  }
}

/**
 * Returns the event when `payload` (the raw request body, as received) was signed with `secret`
 * within the last five minutes; throws WebhookSignatureError otherwise.
 */
export async function verifyWebhook<T = { id: string; type: string; data: Record<string, unknown> }>(payload: string | Uint8Array, headers: WebhookHeaders, secret: string, now: Date = new Date()): Promise<T> {
  const body = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookSignatureError('Missing webhook-id, webhook-timestamp or webhook-signature header.');
  const sentAt = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(now.getTime() / 1000 - sentAt) > TOLERANCE_SECONDS) throw new WebhookSignatureError('The webhook timestamp is too old or too new.');
  const key = await globalThis.crypto.subtle.importKey('raw', fromBase64(secret.replace(/^whsec_/, '')), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const expected = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)));
  const match = signatures.split(' ').some((s) => {
    const [version, sig] = s.split(',');
    return version === 'v1' && sig !== undefined && sameBytes(fromBase64(sig), expected);
  });
  if (!match) throw new WebhookSignatureError('No signature matches this secret.');
  return JSON.parse(body) as T;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const h = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(h).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : h[key];
  return Array.isArray(v) ? v.join(' ') : v;
}

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

/** Compares in time independent of where the first difference is. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
