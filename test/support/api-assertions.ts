import { expect } from 'vitest';
import type { Reply } from './harness.ts';

// What a merchant checks on every refusal: the status, and a Stripe-style error body
// `{error: {type, code, message, param?}}` whose `param` names the offending field.

export interface ExpectedError {
  type?: 'invalid_request_error' | 'authentication_error' | 'idempotency_error' | 'api_error' | 'rate_limit_error';
  code?: string;
  /** A string: the error must name this param. null: the error must not carry a param. */
  param?: string | null;
}

export function expectError(reply: Reply, status: number, e: ExpectedError = {}): void {
  const context = `${reply.status} ${JSON.stringify(reply.body)}`;
  expect(reply.status, context).toBe(status);
  expect(reply.headers.get('content-type') ?? '', context).toMatch(/^application\/json/);
  expect(reply.body, context).toEqual({ error: expect.objectContaining({ type: expect.any(String), code: expect.any(String), message: expect.any(String) }) });
  expect(Object.keys(reply.body.error).every((k) => ['type', 'code', 'message', 'param'].includes(k)), context).toBe(true);
  expect(reply.body.error.message.length, context).toBeGreaterThan(0);
  if (e.type !== undefined) expect(reply.body.error.type, context).toBe(e.type);
  if (e.code !== undefined) expect(reply.body.error.code, context).toBe(e.code);
  if (e.param === null) expect(reply.body.error.param, context).toBeUndefined();
  else if (e.param !== undefined) expect(reply.body.error.param, context).toBe(e.param);
}

/** A request with full control over headers and the raw body (invalid JSON, other header spellings). */
export async function rawRequest(base: string, method: string, path: string, o: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const res = await fetch(base + path, { method, headers: o.headers ?? {}, body: o.body });
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

export const DAY_MS = 86_400_000;
