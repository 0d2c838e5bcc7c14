// Rescue's errors as exceptions: one class per Stripe-style error type, each with the answer's
// type, code, param and HTTP status, and the whole body (Revtain's answers add fields beside `error`).

export type RescueErrorType = 'invalid_request_error' | 'authentication_error' | 'idempotency_error' | 'card_error' | 'api_error' | 'rate_limit_error';

export interface ErrorBody {
  error: { type: RescueErrorType; code: string; message: string; param?: string | null };
  [field: string]: unknown;
}

export class RescueError extends Error {
  override name = 'RescueError';
  readonly type: RescueErrorType | 'connection_error';
  readonly code: string;
  readonly param: string | null;
  /** The HTTP status; 0 when Rescue could not be reached. */
  readonly status: number;
  /** The answer's JSON body (`recoveryId`, `existingTransactionId`… on Revtain's routes). */
  readonly body: ErrorBody | null;

  constructor(message: string, o: { type: RescueErrorType | 'connection_error'; code: string; param?: string | null; status: number; body?: ErrorBody | null }, options?: { cause?: unknown }) {
    super(message, options);
    this.type = o.type;
    this.code = o.code;
    this.param = o.param ?? null;
    this.status = o.status;
    this.body = o.body ?? null;
  }
}

/** 400/404/409: a parameter is wrong or missing, an object does not exist, or the state forbids it. */
export class InvalidRequestError extends RescueError {
  override name = 'InvalidRequestError';
}
/** 401/403: no key, an unknown key, or a key that may not do this. */
export class AuthenticationError extends RescueError {
  override name = 'AuthenticationError';
}
/** 409: an Idempotency-Key reused with other parameters, or (Revtain) an idempotencyKey already handed off. */
export class IdempotencyError extends RescueError {
  override name = 'IdempotencyError';
}
/** 403 on /api/recovery/execute: the decline forbids any retry (hard decline, card network rule). */
export class CardError extends RescueError {
  override name = 'CardError';
}
/** 429: slow down; `retryAfterSeconds` says for how long when Rescue said so. */
export class RateLimitError extends RescueError {
  override name = 'RateLimitError';
}
/** 5xx: Rescue, or a service it depends on (Stripe), failed. */
export class ApiError extends RescueError {
  override name = 'ApiError';
}
/** Rescue could not be reached at all (after the client's retries). */
export class RescueConnectionError extends RescueError {
  override name = 'RescueConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { type: 'connection_error', code: 'connection_failed', status: 0 }, options);
  }
}

const CLASSES = {
  invalid_request_error: InvalidRequestError,
  authentication_error: AuthenticationError,
  idempotency_error: IdempotencyError,
  card_error: CardError,
  rate_limit_error: RateLimitError,
  api_error: ApiError,
} as const;

export function errorFromResponse(status: number, body: unknown): RescueError {
  const e = (body as ErrorBody | null)?.error;
  const type: RescueErrorType = e && e.type in CLASSES ? e.type : status >= 500 ? 'api_error' : 'invalid_request_error';
  const Class = CLASSES[type];
  return new Class(e?.message ?? `Rescue answered ${status}.`, { type, code: e?.code ?? `http_${status}`, param: e?.param ?? null, status, body: (body as ErrorBody) ?? null });
}
