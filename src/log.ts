import pino, { type DestinationStream, type Logger } from 'pino';

// The one logger of a Rescue process, and what it must never write: passwords and their hashes, API
// keys, webhook signing secrets, update-payment and session tokens, card data, and the parameters
// of a failed database query (a driver error carries the query's values: a signup's scrypt hash, an
// endpoint's whsec_ secret). Three layers, because one forgotten field is a leak:
//   1. errors and requests are logged through allowlists (errJson, reqJson): never a driver's
//      `params`, `detail` or `where`, never a raw URL;
//   2. pino's redact list blanks known fields wherever a log call passes them (REDACT_PATHS);
//   3. every finished line is scrubbed of anything shaped like a secret (scrubSecrets), whichever
//      field or message it hid in. docs/input-rules.md#logs.

const SECRET_FIELDS = [
  'password',
  'password_hash',
  'passwordHash',
  'api_key',
  'apiKey',
  'api_keys',
  'secret',
  'webhook_secret',
  'webhookSecret',
  'previous_secret',
  'token',
  'link_token',
  'access_token',
  'refresh_token',
  'accessToken',
  'refreshToken',
  'card_number',
  'cvc',
  'exp',
];

export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
];

/** What an error may show: what went wrong and where, never the values it was working on. */
const ERROR_FIELDS = ['type', 'message', 'stack', 'code', 'statusCode', 'severity', 'routine', 'constraint', 'table', 'column', 'dataType'] as const;

export function errJson(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) && (typeof err !== 'object' || err === null)) return err;
  const full = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ERROR_FIELDS) if (full[k] !== undefined) out[k] = full[k];
  // A database error quotes the value it refused in its message (invalid input syntax for type
  // integer: "…"): the quotes are emptied, in the message and in the stack's first line.
  if (typeof full.routine === 'string' && typeof full.message === 'string') {
    const quiet = full.message.replace(/"[^"]*"/g, '"…"');
    out.message = quiet;
    if (typeof full.stack === 'string') out.stack = full.stack.split(full.message).join(quiet);
  }
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined && depth < 3) out.cause = errJson(cause, depth + 1);
  return out;
}

/**
 * A request is logged by its route (`/update-payment/:token`), never by its raw URL: a path or query
 * may carry a token, a Stripe OAuth code, or whatever a client pasted into it.
 */
export function reqJson(req: { method?: string; ip?: string; routeOptions?: { url?: string } }) {
  return { method: req.method, route: req.routeOptions?.url ?? null, remoteAddress: req.ip };
}

const SECRET_SHAPES: [RegExp, string][] = [
  [/whsec_[A-Za-z0-9+/=_-]+/g, 'whsec_[redacted]'],
  [/\b(sk|rk)_(test|live)_[A-Za-z0-9]+/g, '$1_$2_[redacted]'],
  [/scrypt\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+/g, 'scrypt$[redacted]'],
  [/(\/update-payment\/)(?!:token")[^\s"?#\\]+/g, '$1[redacted]'],
  [/([?&](?:token|link_token|code|state)=)[^&\s"#\\]+/g, '$1[redacted]'],
  [/(Bearer\s+)[^\s"\\]+/gi, '$1[redacted]'],
  [/(rescue_session=)[^;\s"\\]+/g, '$1[redacted]'],
];

/** The last layer: anything shaped like a secret, in any field or message of a finished line. */
export function scrubSecrets(line: string): string {
  let out = line;
  for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement);
  return out;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errJson, error: errJson, req: reqJson },
    hooks: { streamWrite: scrubSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}
