import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Stripe from 'stripe';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { RescueError, Throttled, type ErrorCode } from '../errors.ts';
import { zodParam } from './zod-param.ts';

type StripeErrorType = 'invalid_request_error' | 'authentication_error' | 'idempotency_error' | 'card_error' | 'api_error' | 'rate_limit_error';

// The single map from error code to HTTP status and Stripe-style error type. As in Stripe, a
// missing object named by a parameter (`customer`, `starting_after`) is a bad request (400); only
// the object the URL names is "not found" (404).
function httpFor(code: ErrorCode, param?: string): { status: number; type: StripeErrorType } {
  if (code === 'resource_missing' && param) return { status: 400, type: 'invalid_request_error' };
  switch (code) {
    case 'parameter_invalid':
    case 'parameter_missing':
    case 'invalid_json':
    case 'test_clock_in_past':
    case 'test_clocks_live_mode':
    case 'gateway_url_not_allowed':
    case 'gateway_not_configured':
    case 'url_not_allowed':
    case 'stripe_not_configured':
    case 'smtp_not_configured':
    case 'mode_invalid':
      return { status: 400, type: 'invalid_request_error' };
    case 'api_key_missing':
    case 'api_key_invalid':
    case 'sign_in_failed':
    case 'session_invalid':
    case 'cron_secret_invalid':
    case 'widget_token_missing':
      return { status: 401, type: 'authentication_error' };
    // The widget: a token tampered with, expired or for no customer; the cron endpoint turned off.
    case 'widget_token_invalid':
    case 'cron_disabled':
      return { status: 403, type: 'authentication_error' };
    // A dashboard cookie without the dashboard's own header: possibly a forged cross-site request.
    case 'dashboard_header_missing':
      return { status: 403, type: 'authentication_error' };
    case 'sign_in_throttled':
    case 'rate_limit':
      return { status: 429, type: 'rate_limit_error' };
    // Self-service signup is turned off on this Rescue (RESCUE_SIGNUP=closed).
    case 'signup_closed':
      return { status: 403, type: 'invalid_request_error' };
    // Revtain: a hand-off that must not be retried (hard decline, card network limit).
    case 'recovery_blocked':
      return { status: 403, type: 'card_error' };
    case 'resource_missing':
    case 'route_not_found':
      return { status: 404, type: 'invalid_request_error' };
    case 'email_taken':
    case 'resource_already_exists':
    case 'payment_not_in_rescue':
    case 'test_clock_advancing':
    case 'webhook_endpoint_disabled':
    case 'stripe_not_connected':
    case 'stripe_account_in_use':
    case 'payment_not_updatable':
    case 'payment_method_update_limit':
      return { status: 409, type: 'invalid_request_error' };
    case 'idempotency_key_reused':
    case 'idempotency_key_in_use':
    case 'recovery_duplicate':
    case 'pulse_conflict':
      return { status: 409, type: 'idempotency_error' };
    // Stripe refused or could not be reached (the merchant's key, their account): not our fault, not theirs.
    case 'stripe_error':
    // The operator's SMTP server refused a test email or could not be reached.
    case 'smtp_error':
      return { status: 502, type: 'api_error' };
    case 'payload_too_large':
      return { status: 413, type: 'invalid_request_error' };
    case 'unsupported_media_type':
      return { status: 415, type: 'invalid_request_error' };
    case 'request_timeout':
      return { status: 408, type: 'invalid_request_error' };
    case 'headers_too_large':
      return { status: 431, type: 'invalid_request_error' };
    // GET /ready: the database cannot be reached or lacks migrations (api/health.ts); try another instance.
    case 'not_ready':
      return { status: 503, type: 'api_error' };
    case 'internal_error':
      return { status: 500, type: 'api_error' };
  }
}

export function statusOf(err: RescueError): number {
  return httpFor(err.code, err.param).status;
}

export function errorBody(err: RescueError) {
  const { type } = httpFor(err.code, err.param);
  // Stripe's rate-limit errors name no parameter explicitly (`param: null`).
  const param = err.param ? { param: err.param } : type === 'rate_limit_error' ? { param: null } : {};
  return { ...err.details, error: { type, code: err.code, message: err.message, ...param } };
}

export function toRescueError(err: unknown): RescueError {
  if (err instanceof RescueError) return err;
  if (err instanceof ZodError) {
    const issue = err.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const param = zodParam([...issue.path, issue.keys[0]!]);
      return new RescueError('parameter_invalid', `Received unknown parameter: ${param}`, param);
    }
    const param = zodParam(issue.path);
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    return new RescueError(missing ? 'parameter_missing' : 'parameter_invalid', `${param ? `${param}: ` : ''}${issue.message}`, param || undefined);
  }
  // The SDK's errors carry Stripe's own statusCode (a 403, a 404): never one of ours to answer.
  if (err instanceof Stripe.errors.StripeError) return new RescueError('stripe_error', `Stripe: ${err.message}`);
  const fe = err as FastifyError;
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own refusals: wrong content type, body too large, malformed body.
    if (fe.statusCode === 415) return new RescueError('unsupported_media_type', 'Send the request body as JSON with Content-Type: application/json.');
    if (fe.statusCode === 413) return new RescueError('payload_too_large', 'The request body is larger than 1 MiB.');
    if (fe.code === 'FST_ERR_BAD_URL') return new RescueError('parameter_invalid', 'The URL is not valid: a path segment is not well-formed percent-encoded UTF-8.');
    return new RescueError('invalid_json', fe.message);
  }
  return new RescueError('internal_error', 'An internal error occurred. It has been logged.');
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a malformed request line, a
 * control character in a header, a body sent too slowly): the same Stripe-style body, written
 * straight to the socket, since there is no request to reply to.
 */
export function handleClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const rescueError =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new RescueError('request_timeout', 'The request was not received in time.')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new RescueError('headers_too_large', 'The request headers are too large.')
        : new RescueError('parameter_invalid', 'The request could not be parsed as HTTP (a malformed request line, or a control character in a header).');
  const status = statusOf(rescueError);
  const body = JSON.stringify(errorBody(rescueError));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const rescueError = toRescueError(err);
  const { status } = httpFor(rescueError.code, rescueError.param);
  // A dependency's answer (Stripe refused or down: 502) is expected and said in the reply; only our own failures are errors.
  if (status >= 500 && rescueError.code === 'internal_error') request.log.error({ err }, 'unhandled error');
  else if (status >= 500) request.log.warn({ code: rescueError.code, message: rescueError.message }, 'dependency error');
  if (rescueError instanceof Throttled) reply.header('retry-after', String(rescueError.retryAfterSeconds));
  return reply.status(status).send(errorBody(rescueError));
}
