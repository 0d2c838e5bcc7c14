import { RescueError } from '@rescue/client';
import { expect } from 'vitest';

// The client's side of expectError (api-assertions.ts): a call that must be refused, and how.

export interface ExpectedRejection {
  type?: string;
  code?: string;
  param?: string | null;
}

/** Awaits a call that must be refused with `status`; returns the typed error. */
export async function expectRejected(call: Promise<unknown>, status: number, e: ExpectedRejection = {}): Promise<RescueError> {
  const err = await call.then(
    (value) => {
      throw new Error(`expected a ${status} refusal, got ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  expect(err).toBeInstanceOf(RescueError);
  const r = err as RescueError;
  expect(r.status).toBe(status);
  expect(r.message.length).toBeGreaterThan(0);
  if (e.type) expect(r.type).toBe(e.type);
  if (e.code) expect(r.code).toBe(e.code);
  if (e.param !== undefined) expect(r.param).toBe(e.param);
  return r;
}
