// @rescue/client: Rescue's API over fetch, for Node 20+ and browsers, without dependencies. The
// Plexy SDK's names and shapes (seed 003: `payments.create`, `.list`, `.cancelRescue`), so its
// examples run by changing the import; Revtain's recovery and prediction calls (seed 004); the
// portal widget's token (`widgetToken`).
// Response and request types are generated from Rescue's /openapi.json (./types.ts).
import { verifyWebhook } from './webhooks.js';
import { errorFromResponse, RescueConnectionError } from './errors.js';
export * from './errors.js';
export { WebhookSignatureError } from './webhooks.js';
export { widgetToken } from './widget-token.js';
export class Rescue {
    payments;
    customers;
    testClocks;
    webhookEndpoints;
    events;
    recovery;
    predict;
    webhooks = { verify: verifyWebhook };
    #http;
    constructor(options) {
        if (!options?.apiKey)
            throw new TypeError('new Rescue({ apiKey, baseUrl }): apiKey is required');
        if (!options.baseUrl)
            throw new TypeError('new Rescue({ apiKey, baseUrl }): baseUrl is required');
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
    #key;
    #base;
    #retries;
    #fetch;
    constructor(o) {
        this.#key = o.apiKey;
        this.#base = o.baseUrl.replace(/\/+$/, '');
        this.#retries = o.maxNetworkRetries ?? 2;
        this.#fetch = o.fetch ?? ((...args) => globalThis.fetch(...args));
    }
    async request(method, path, o = {}) {
        const url = this.#base + path + queryString(o.query);
        const headers = { authorization: `Bearer ${this.#key}`, accept: 'application/json' };
        if (method === 'POST') {
            headers['content-type'] = 'application/json';
            headers['idempotency-key'] = o.options?.idempotencyKey ?? globalThis.crypto.randomUUID();
        }
        const init = { method, headers, ...(method === 'POST' ? { body: JSON.stringify(o.body ?? {}) } : {}) };
        for (let attempt = 0;; attempt++) {
            let res;
            try {
                res = await this.#fetch(url, init);
            }
            catch (err) {
                if (attempt < this.#retries) {
                    await pause(attempt);
                    continue;
                }
                throw new RescueConnectionError(`Could not reach Rescue at ${this.#base}: ${err.message}`, { cause: err });
            }
            const text = await res.text();
            const body = text ? parseJson(text, res.status) : null;
            if (res.ok)
                return body;
            if (res.status >= 500 && attempt < this.#retries) {
                await pause(attempt);
                continue;
            }
            throw errorFromResponse(res.status, body);
        }
    }
    list(path, query = {}) {
        const first = this.request('GET', path, { query });
        const walk = async function* (http) {
            let page = await first;
            for (;;) {
                yield* page.data;
                const last = page.data.at(-1);
                if (!page.has_more || !last?.id)
                    return;
                page = await http.request('GET', path, { query: { ...query, starting_after: last.id } });
            }
        };
        return Object.assign(first, { [Symbol.asyncIterator]: () => walk(this) });
    }
}
const seg = (id) => encodeURIComponent(id);
class Resource {
    http;
    constructor(http) {
        this.http = http;
    }
}
class Payments extends Resource {
    /** Charges now; a retryable decline starts Auto Rescue (`status: 'requires_rescue'`). */
    create(params, options) {
        return this.http.request('POST', '/v2/payments', { body: params, options });
    }
    retrieve(id) {
        return this.http.request('GET', `/v2/payments/${seg(id)}`);
    }
    list(params = {}) {
        return this.http.list('/v2/payments', params);
    }
    cancelRescue(id, options) {
        return this.http.request('POST', `/v2/payments/${seg(id)}/cancel_rescue`, { options });
    }
    retryNow(id, options) {
        return this.http.request('POST', `/v2/payments/${seg(id)}/retry_now`, { options });
    }
    /** The customer's new payment method, from your own update-payment page. */
    updatePaymentMethod(id, params, options) {
        return this.http.request('POST', `/v2/payments/${seg(id)}/payment_method`, { body: params, options });
    }
}
class Customers extends Resource {
    create(params = {}, options) {
        return this.http.request('POST', '/v2/customers', { body: params, options });
    }
    retrieve(id) {
        return this.http.request('GET', `/v2/customers/${seg(id)}`);
    }
    list(params = {}) {
        return this.http.list('/v2/customers', params);
    }
}
class TestClocks extends Resource {
    create(params, options) {
        return this.http.request('POST', '/v2/test_clocks', { body: params, options });
    }
    retrieve(id) {
        return this.http.request('GET', `/v2/test_clocks/${seg(id)}`);
    }
    list(params = {}) {
        return this.http.list('/v2/test_clocks', params);
    }
    /** Starts moving the clock; it is `advancing` until the retries due by then have run, then `ready`. */
    advance(id, params, options) {
        return this.http.request('POST', `/v2/test_clocks/${seg(id)}/advance`, { body: params, options });
    }
}
class WebhookEndpoints extends Resource {
    /** The answer carries the signing secret; it is not shown again. */
    create(params, options) {
        return this.http.request('POST', '/v2/webhook_endpoints', { body: params, options });
    }
    retrieve(id) {
        return this.http.request('GET', `/v2/webhook_endpoints/${seg(id)}`);
    }
    list(params = {}) {
        return this.http.list('/v2/webhook_endpoints', params);
    }
    update(id, params, options) {
        return this.http.request('POST', `/v2/webhook_endpoints/${seg(id)}`, { body: params, options });
    }
    del(id) {
        return this.http.request('DELETE', `/v2/webhook_endpoints/${seg(id)}`);
    }
    rotateSecret(id, options) {
        return this.http.request('POST', `/v2/webhook_endpoints/${seg(id)}/rotate_secret`, { options });
    }
    listDeliveries(id, params = {}) {
        return this.http.list(`/v2/webhook_endpoints/${seg(id)}/deliveries`, params);
    }
}
class Events extends Resource {
    retrieve(id) {
        return this.http.request('GET', `/v2/events/${seg(id)}`);
    }
    /** `type` takes a family too (`recovery.*`); `created[gte]`/`created[lte]` take Unix seconds or ISO 8601. */
    list(params = {}) {
        return this.http.list('/v2/events', params);
    }
    resend(id, params = {}, options) {
        return this.http.request('POST', `/v2/events/${seg(id)}/resend`, { body: params, options });
    }
}
class RecoveryApi extends Resource {
    /**
     * Revtain's hand-off. Resolves with the 200 answer (`recovered: true`) or the 202 one
     * (`queued: true`); a blocked hand-off (403) rejects with a CardError and a used idempotencyKey
     * (409) with an IdempotencyError, each carrying the answer's fields in `.body`.
     */
    execute(params, options) {
        return this.http.request('POST', '/api/recovery/execute', { body: params, options });
    }
    /** Logs an organic success so Lift can be computed; idempotent on transactionId. */
    pulse(params, options) {
        return this.http.request('POST', '/api/recovery/pulse', { body: params, options });
    }
    retrieve(id) {
        return this.http.request('GET', `/api/recovery/${seg(id)}`);
    }
    lift(params = {}) {
        return this.http.request('GET', '/api/recovery/lift', { query: params });
    }
    dashboard(params = {}) {
        return this.http.request('GET', '/api/dashboard', { query: params });
    }
}
class Predict extends Resource {
    risk(params, options) {
        return this.http.request('POST', '/api/predict/risk', { body: params, options });
    }
    churn(params, options) {
        return this.http.request('POST', '/api/predict/churn', { body: params, options });
    }
    retryTime(params, options) {
        return this.http.request('POST', '/api/predict/retry-time', { body: params, options });
    }
}
function queryString(query) {
    const entries = Object.entries(query ?? {}).filter(([, v]) => v !== undefined && v !== null);
    if (entries.length === 0)
        return '';
    return `?${new URLSearchParams(entries.map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)])).toString()}`;
}
function parseJson(text, status) {
    try {
        return JSON.parse(text);
    }
    catch {
        return { error: { type: 'api_error', code: 'invalid_response', message: `Rescue answered ${status} with a body that is not JSON.` } };
    }
}
/** 0.25 s, 0.5 s, 1 s … between tries after a network error or a 5xx. */
const pause = (attempt) => new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
