export type RescueErrorType = 'invalid_request_error' | 'authentication_error' | 'idempotency_error' | 'card_error' | 'api_error' | 'rate_limit_error';
export interface ErrorBody {
    error: {
        type: RescueErrorType;
        code: string;
        message: string;
        param?: string | null;
    };
    [field: string]: unknown;
}
export declare class RescueError extends Error {
    name: string;
    readonly type: RescueErrorType | 'connection_error';
    readonly code: string;
    readonly param: string | null;
    /** The HTTP status; 0 when Rescue could not be reached. */
    readonly status: number;
    /** The answer's JSON body (`recoveryId`, `existingTransactionId`… on Revtain's routes). */
    readonly body: ErrorBody | null;
    constructor(message: string, o: {
        type: RescueErrorType | 'connection_error';
        code: string;
        param?: string | null;
        status: number;
        body?: ErrorBody | null;
    }, options?: {
        cause?: unknown;
    });
}
/** 400/404/409: a parameter is wrong or missing, an object does not exist, or the state forbids it. */
export declare class InvalidRequestError extends RescueError {
    name: string;
}
/** 401/403: no key, an unknown key, or a key that may not do this. */
export declare class AuthenticationError extends RescueError {
    name: string;
}
/** 409: an Idempotency-Key reused with other parameters, or (Revtain) an idempotencyKey already handed off. */
export declare class IdempotencyError extends RescueError {
    name: string;
}
/** 403 on /api/recovery/execute: the decline forbids any retry (hard decline, card network rule). */
export declare class CardError extends RescueError {
    name: string;
}
/** 429: slow down; `retryAfterSeconds` says for how long when Rescue said so. */
export declare class RateLimitError extends RescueError {
    name: string;
}
/** 5xx: Rescue, or a service it depends on (Stripe), failed. */
export declare class ApiError extends RescueError {
    name: string;
}
/** Rescue could not be reached at all (after the client's retries). */
export declare class RescueConnectionError extends RescueError {
    name: string;
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
export declare function errorFromResponse(status: number, body: unknown): RescueError;
