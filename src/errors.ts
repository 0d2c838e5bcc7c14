// Typed errors shared by every layer. Each code maps to exactly one HTTP status and Stripe error
// type in api/error-handler.ts; nothing else decides a status.

export type ErrorCode =
  | 'parameter_invalid'
  | 'parameter_missing'
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'request_timeout'
  | 'headers_too_large'
  | 'resource_missing'
  | 'route_not_found'
  | 'email_taken'
  | 'resource_already_exists'
  | 'api_key_missing'
  | 'api_key_invalid'
  | 'sign_in_failed'
  | 'sign_in_throttled'
  | 'rate_limit'
  | 'signup_closed'
  | 'session_invalid'
  | 'dashboard_header_missing'
  | 'mode_invalid'
  | 'idempotency_key_reused'
  | 'idempotency_key_in_use'
  | 'payment_not_in_rescue'
  | 'test_clock_advancing'
  | 'test_clock_in_past'
  | 'test_clocks_live_mode'
  | 'gateway_url_not_allowed'
  | 'gateway_not_configured'
  | 'url_not_allowed'
  | 'webhook_endpoint_disabled'
  | 'recovery_blocked'
  | 'recovery_duplicate'
  | 'pulse_conflict'
  | 'stripe_not_configured'
  | 'stripe_not_connected'
  | 'stripe_account_in_use'
  | 'stripe_error'
  | 'smtp_not_configured'
  | 'smtp_error'
  | 'payment_not_updatable'
  | 'payment_method_update_limit'
  | 'not_ready'
  | 'cron_secret_invalid'
  | 'cron_disabled'
  | 'widget_token_missing'
  | 'widget_token_invalid'
  | 'internal_error';

export class RescueError extends Error {
  readonly code: ErrorCode;
  readonly param: string | undefined;
  /**
   * Fields shown beside `error` in the body, for refusals that are also outcomes (Revtain's
   * `{success: false, blocked: true, recoveryId, ...}`). Never used for anything else.
   */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(code: ErrorCode, message: string, param?: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'RescueError';
    this.code = code;
    this.param = param;
    this.details = details;
  }
}

/** A refusal that ends by itself: answered 429 with `Retry-After`. */
export class Throttled extends RescueError {
  readonly retryAfterSeconds: number;
  constructor(code: 'rate_limit' | 'sign_in_throttled', message: string, retryAfterMs: number) {
    super(code, message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}

export const invalid = (param: string, message: string) => new RescueError('parameter_invalid', message, param);
export const missingResource = (kind: string, id: string, param?: string) =>
  new RescueError('resource_missing', `No such ${kind}: '${id}'`, param);
