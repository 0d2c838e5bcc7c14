// @rescue/client: Rescue's API over fetch, for Node 20+ and browsers, without dependencies. The
// Plexy SDK's names and shapes (seed 003: `payments.create`, `.list`, `.cancelRescue`), so its
// examples run by changing the import; Revtain's recovery and prediction calls (seed 004); the
// portal widget's token (`widgetToken`).
// Response and request types are generated from Rescue's /openapi.json (./types.ts).

import type { Operations, Schemas } from './types.js';
import { verifyWebhook, type WebhookHeaders } from './webhooks.js';
import { errorFromResponse, RescueConnectionError } from './errors.js';

export * from './errors.js';
export type { Operations, Schemas } from './types.js';
export { WebhookSignatureError, type WebhookHeaders } from './webhooks.js';
export { widgetToken, type WidgetTokenParams } from './widget-token.js';

export type Payment = Schemas['Payment'];
export type Customer = Schemas['Customer'];
export type TestClock = Schemas['TestClock'];
export type Event = Schemas['Event'];
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type Recovery = Schemas['Recovery'];

type Op = keyof Operations;
type BodyOf<K extends Op> = Operations[K] extends { body: infer B } ? B : never;
type QueryOf<K extends Op> = Operations[K] extends { query: infer Q } ? Q : never;
type ResponseOf<K extends Op> = Operations[K]['response'];

export interface List<T> {
  object: 'list';
  url: string;
  data: T[];
  has_more: boolean;
}

export interface RescueOptions {
  /** A secret key: sk_test_… or sk_live_…. */
  apiKey: string;
  /** Where your Rescue listens, e.g. http://127.0.0.1:4000. */
  baseUrl: string;
  /** How often a request is sent again after a network error or a 5xx, under the same Idempotency-Key (default 2). */
  maxNetworkRetries?: number;
  /** A fetch implementation (the global fetch by default). */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Sent as Idempotency-Key. POSTs get a random one when none is given, so a retried request never charges twice. */
  idempotencyKey?: string;
}

/**
 * A page that is also every item: `await` it for one page (`.data`, `.has_more`), or
 * `for await (const x of …)` to walk all pages.
 */
export type ListPromise<T> = Promise<List<T>> & AsyncIterable<T>;

export class Rescue {
  readonly payments: Payments;
  readonly customers: Customers;
  readonly testClocks: TestClocks;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly events: Events;
  readonly recovery: RecoveryApi;
  readonly predict: Predict;
  readonly webhooks = { verify: verifyWebhook };
  readonly #http: Http;

  constructor(options: RescueOptions) {
    if (!options?.apiKey) throw new TypeError('new Rescue({ apiKey, baseUrl }): apiKey is required');
    if (!options.baseUrl) throw new TypeError('new Rescue({ apiKey, baseUrl }): baseUrl is required');
    this.#http = new Http(options);
    this.payments = new Payments(this.#http);
    this.customers = new Customers(this.#http);
    this.testClocks = new TestClocks(this.#http);
    this.webhookEndpoints = new WebhookEndpoints(this.#http);
    this.events = new Events(this.#http);
    this.recovery = new RecoveryApi(this.#http);
    this.predict = new Predict(this.#http);
  }
}

class Http {
  readonly #key: string;
  readonly #base: string;
  readonly #retries: number;
  readonly #fetch: typeof fetch;

  constructor(o: RescueOptions) {
    this.#key = o.apiKey;
    this.#base = o.baseUrl.replace(/\/+$/, '');
    this.#retries = o.maxNetworkRetries ?? 2;
    this.#fetch = o.fetch ?? ((...args) => globalThis.fetch(...args));
  }

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, o: { body?: unknown; query?: object; options?: RequestOptions } = {}): Promise<T> {
    const url = this.#base + path + queryString(o.query);
    const headers: Record<string, string> = { authorization: `Bearer ${this.#key}`, accept: 'application/json' };
    if (method === 'POST') {
      headers['content-type'] = 'application/json';
      headers['idempotency-key'] = o.options?.idempotencyKey ?? globalThis.crypto.randomUUID();
    }
    const init: RequestInit = { method, headers, ...(method === 'POST' ? { body: JSON.stringify(o.body ?? {}) } : {}) };
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.#fetch(url, init);
      } catch (err) {
        if (attempt < this.#retries) {
          await pause(attempt);
          continue;
        }
        throw new RescueConnectionError(`Could not reach Rescue at ${this.#base}: ${(err as Error).message}`, { cause: err });
      }
      const text = await res.text();
      const body: unknown = text ? parseJson(text, res.status) : null;
      if (res.ok) return body as T;
      if (res.status >= 500 && attempt < this.#retries) {
        await pause(attempt);
        continue;
      }
      throw errorFromResponse(res.status, body);
    }
  }

  list<T>(path: string, query: object = {}): ListPromise<T> {
    const first = this.request<List<T>>('GET', path, { query });
    const walk = async function* (http: Http): AsyncGenerator<T> {
      let page = await first;
      for (;;) {
        yield* page.data;
        const last = page.data.at(-1) as { id?: string } | undefined;
        if (!page.has_more || !last?.id) return;
        page = await http.request<List<T>>('GET', path, { query: { ...query, starting_after: last.id } });
      }
    };
    return Object.assign(first, { [Symbol.asyncIterator]: () => walk(this) });
  }
}

const seg = (id: string) => encodeURIComponent(id);

class Resource {
  protected readonly http: Http;
  constructor(http: Http) {
    this.http = http;
  }
}

class Payments extends Resource {
  /** Charges now; a retryable decline starts Auto Rescue (`status: 'requires_rescue'`). */
  create(params: BodyOf<'POST /v2/payments'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/payments'>>('POST', '/v2/payments', { body: params, options });
  }
  retrieve(id: string) {
    return this.http.request<ResponseOf<'GET /v2/payments/{id}'>>('GET', `/v2/payments/${seg(id)}`);
  }
  list(params: QueryOf<'GET /v2/payments'> = {}) {
    return this.http.list<Payment>('/v2/payments', params);
  }
  cancelRescue(id: string, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/payments/{id}/cancel_rescue'>>('POST', `/v2/payments/${seg(id)}/cancel_rescue`, { options });
  }
  retryNow(id: string, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/payments/{id}/retry_now'>>('POST', `/v2/payments/${seg(id)}/retry_now`, { options });
  }
  /** The customer's new payment method, from your own update-payment page. */
  updatePaymentMethod(id: string, params: BodyOf<'POST /v2/payments/{id}/payment_method'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/payments/{id}/payment_method'>>('POST', `/v2/payments/${seg(id)}/payment_method`, { body: params, options });
  }
}

class Customers extends Resource {
  create(params: BodyOf<'POST /v2/customers'> = {}, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/customers'>>('POST', '/v2/customers', { body: params, options });
  }
  retrieve(id: string) {
    return this.http.request<ResponseOf<'GET /v2/customers/{id}'>>('GET', `/v2/customers/${seg(id)}`);
  }
  list(params: QueryOf<'GET /v2/customers'> = {}) {
    return this.http.list<Customer>('/v2/customers', params);
  }
}

class TestClocks extends Resource {
  create(params: BodyOf<'POST /v2/test_clocks'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/test_clocks'>>('POST', '/v2/test_clocks', { body: params, options });
  }
  retrieve(id: string) {
    return this.http.request<ResponseOf<'GET /v2/test_clocks/{id}'>>('GET', `/v2/test_clocks/${seg(id)}`);
  }
  list(params: QueryOf<'GET /v2/test_clocks'> = {}) {
    return this.http.list<TestClock>('/v2/test_clocks', params);
  }
  /** Starts moving the clock; it is `advancing` until the retries due by then have run, then `ready`. */
  advance(id: string, params: BodyOf<'POST /v2/test_clocks/{id}/advance'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/test_clocks/{id}/advance'>>('POST', `/v2/test_clocks/${seg(id)}/advance`, { body: params, options });
  }
}

class WebhookEndpoints extends Resource {
  /** The answer carries the signing secret; it is not shown again. */
  create(params: BodyOf<'POST /v2/webhook_endpoints'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/webhook_endpoints'>>('POST', '/v2/webhook_endpoints', { body: params, options });
  }
  retrieve(id: string) {
    return this.http.request<ResponseOf<'GET /v2/webhook_endpoints/{id}'>>('GET', `/v2/webhook_endpoints/${seg(id)}`);
  }
  list(params: QueryOf<'GET /v2/webhook_endpoints'> = {}) {
    return this.http.list<WebhookEndpoint>('/v2/webhook_endpoints', params);
  }
  update(id: string, params: BodyOf<'POST /v2/webhook_endpoints/{id}'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/webhook_endpoints/{id}'>>('POST', `/v2/webhook_endpoints/${seg(id)}`, { body: params, options });
  }
  del(id: string) {
    return this.http.request<ResponseOf<'DELETE /v2/webhook_endpoints/{id}'>>('DELETE', `/v2/webhook_endpoints/${seg(id)}`);
  }
  rotateSecret(id: string, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/webhook_endpoints/{id}/rotate_secret'>>('POST', `/v2/webhook_endpoints/${seg(id)}/rotate_secret`, { options });
  }
  listDeliveries(id: string, params: QueryOf<'GET /v2/webhook_endpoints/{id}/deliveries'> = {}) {
    return this.http.list<WebhookDelivery>(`/v2/webhook_endpoints/${seg(id)}/deliveries`, params);
  }
}

class Events extends Resource {
  retrieve(id: string) {
    return this.http.request<ResponseOf<'GET /v2/events/{id}'>>('GET', `/v2/events/${seg(id)}`);
  }
  /** `type` takes a family too (`recovery.*`); `created[gte]`/`created[lte]` take Unix seconds or ISO 8601. */
  list(params: QueryOf<'GET /v2/events'> = {}) {
    return this.http.list<Event>('/v2/events', params);
  }
  resend(id: string, params: BodyOf<'POST /v2/events/{id}/resend'> = {}, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /v2/events/{id}/resend'>>('POST', `/v2/events/${seg(id)}/resend`, { body: params, options });
  }
}

class RecoveryApi extends Resource {
  /**
   * Revtain's hand-off. Resolves with the 200 answer (`recovered: true`) or the 202 one
   * (`queued: true`); a blocked hand-off (403) rejects with a CardError and a used idempotencyKey
   * (409) with an IdempotencyError, each carrying the answer's fields in `.body`.
   */
  execute(params: BodyOf<'POST /api/recovery/execute'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /api/recovery/execute'>>('POST', '/api/recovery/execute', { body: params, options });
  }
  /** Logs an organic success so Lift can be computed; idempotent on transactionId. */
  pulse(params: BodyOf<'POST /api/recovery/pulse'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /api/recovery/pulse'>>('POST', '/api/recovery/pulse', { body: params, options });
  }
  retrieve(id: string) {
    return this.http.request<ResponseOf<'GET /api/recovery/{id}'>>('GET', `/api/recovery/${seg(id)}`);
  }
  lift(params: QueryOf<'GET /api/recovery/lift'> = {}) {
    return this.http.request<ResponseOf<'GET /api/recovery/lift'>>('GET', '/api/recovery/lift', { query: params });
  }
  dashboard(params: QueryOf<'GET /api/dashboard'> = {}) {
    return this.http.request<ResponseOf<'GET /api/dashboard'>>('GET', '/api/dashboard', { query: params });
  }
}

class Predict extends Resource {
  risk(params: BodyOf<'POST /api/predict/risk'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /api/predict/risk'>>('POST', '/api/predict/risk', { body: params, options });
  }
  churn(params: BodyOf<'POST /api/predict/churn'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /api/predict/churn'>>('POST', '/api/predict/churn', { body: params, options });
  }
  retryTime(params: BodyOf<'POST /api/predict/retry-time'>, options?: RequestOptions) {
    return this.http.request<ResponseOf<'POST /api/predict/retry-time'>>('POST', '/api/predict/retry-time', { body: params, options });
  }
}

function queryString(query: object | undefined): string {
  const entries = Object.entries(query ?? {}).filter(([, v]) => v !== undefined && v !== null);
  if (entries.length === 0) return '';
  return `?${new URLSearchParams(entries.map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)])).toString()}`;
}

function parseJson(text: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { type: 'api_error', code: 'invalid_response', message: `Rescue answered ${status} with a body that is not JSON.` } };
  }
}

/** 0.25 s, 0.5 s, 1 s … between tries after a network error or a 5xx. */
const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
