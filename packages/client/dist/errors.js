// Rescue's errors as exceptions: one class per Stripe-style error type, each with the answer's
// type, code, param and HTTP status, and the whole body (Revtain's answers add fields beside `error`).
export class RescueError extends Error {
    name = 'RescueError';
    type;
    code;
    param;
    /** The HTTP status; 0 when Rescue could not be reached. */
    status;
    /** The answer's JSON body (`recoveryId`, `existingTransactionId`… on Revtain's routes). */
    body;
    constructor(message, o, options) {
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
    name = 'InvalidRequestError';
}
/** 401/403: no key, an unknown key, or a key that may not do this. */
export class AuthenticationError extends RescueError {
    name = 'AuthenticationError';
}
/** 409: an Idempotency-Key reused with other parameters, or (Revtain) an idempotencyKey already handed off. */
export class IdempotencyError extends RescueError {
    name = 'IdempotencyError';
}
/** 403 on /api/recovery/execute: the decline forbids any retry (hard decline, card network rule). */
export class CardError extends RescueError {
    name = 'CardError';
}
/** 429: slow down; `retryAfterSeconds` says for how long when Rescue said so. */
export class RateLimitError extends RescueError {
    name = 'RateLimitError';
}
/** 5xx: Rescue, or a service it depends on (Stripe), failed. */
export class ApiError extends RescueError {
    name = 'ApiError';
}
/** Rescue could not be reached at all (after the client's retries). */
export class RescueConnectionError extends RescueError {
    name = 'RescueConnectionError';
    constructor(message, options) {
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
};
export function errorFromResponse(status, body) {
    const e = body?.error;
    const type = e && e.type in CLASSES ? e.type : status >= 500 ? 'api_error' : 'invalid_request_error';
    const Class = CLASSES[type];
    return new Class(e?.message ?? `Rescue answered ${status}.`, { type, code: e?.code ?? `http_${status}`, param: e?.param ?? null, status, body: body ?? null });
}
