import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { z } from 'zod';
import type { RouteEntry } from '../../src/api/app.ts';
import { registry } from '../../src/api/route.ts';

// Hostile requests for any route of the app, as fast-check arbitraries. Where a route declares zod
// schemas (defineRoute), bodies and queries are derived from them (through their JSON Schema, as
// /openapi.json is), so most requests get past the first check and reach deeper code; every value may
// instead be hostile: NUL, lone surrogates, huge numbers, deep nesting, wrong types, and path
// segments such as %00. Requests go out through node:http, so paths and bodies are sent byte for byte.

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface FuzzReply {
  status: number;
  contentType: string;
  text: string;
}

/** What the fuzzed server already holds: valid ids make requests reach past the lookups. */
export interface FuzzWorld {
  keys: { test: string; live: string };
  /** Existing ids a path or body may name (pay_…, cus_…, clock_…). */
  ids: string[];
  /** A secret a test wants sent in hostile places too (a password, an update-payment token). */
  extraStrings?: string[];
}

export const HOSTILE_STRINGS = ['\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\ud83d', '\u0000\ud800', '', ' ', 'x'.repeat(5000), '\u202e\u0007', '%00', '../../etc/passwd', '{"a":1}'];

const HOSTILE_NUMBERS = [1e308, -1e308, 2 ** 53 + 1, 1e21, -1, 0, 0.5, 99_999_999_999_999, 999_999_999_999, Number.MIN_VALUE];

const HOSTILE_SEGMENTS = ['%00', 'a%00b', '%ED%A0%80', '%F0%9F%98%80', '%', '%E0%A4%A', '%ZZ', '..', '%2e%2e', 'x'.repeat(600), '0', 'pay_' + '0'.repeat(24), '%20', '%C0%80'];

const HOSTILE_QUERIES = [
  'starting_after=%00',
  'limit=%00',
  'limit=1e400',
  'limit=1&limit=2',
  'to=999999999999',
  'from=-1&to=0',
  'to=9999-12-31&from=0001-01-01',
  'created%5Bgte%5D=999999999999',
  'created%5Blte%5D=%ED%A0%80',
  '%ZZ=1',
  'a%00b=1',
  'token=%00',
  'state=%ED%A0%80',
  'account=%00',
  'mode=%00',
];

/** Deeply nested JSON as text: JSON.stringify itself would overflow on it. */
const nested = (depth: number) => `{"metadata":${'['.repeat(depth)}${']'.repeat(depth)}}`;

export const hostileString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: 'binary', maxLength: 8 }).map((s) => `${s}\u0000`), fc.string({ unit: 'binary', maxLength: 20 }));

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.constantFrom(true, false, null, [], {}, [[[[]]]], { a: { b: { c: '\u0000' } } }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Values that make a field valid more often than chance would (a currency, a test card, an id). */
function likelyValues(name: string, world: FuzzWorld): unknown[] {
  const byName: Record<string, unknown[]> = {
    currency: ['USD', 'eur', 'JPY'],
    payment_method: ['pm_card_visa', 'pm_card_chargeDeclinedInsufficientFunds'],
    paymentMethodToken: ['pm_card_visa', 'pm_card_chargeDeclinedInsufficientFunds'],
    timezone: ['America/New_York', 'UTC', 'Asia/Kolkata'],
    email: ['ada@example.com', null],
    test_clock: [null, ...world.ids],
    locale: ['en-US', 'fr'],
    url: ['https://example.com/hook', 'http://127.0.0.1:1/x'],
    amount: [4999, 1],
  };
  const idLike = /^(id|customer|payment|event|endpoint|starting_after|test_clock|object)$/.test(name);
  return byName[name] ?? (idLike ? world.ids : (world.extraStrings ?? []));
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
};

/** A JSON Schema (from zod) as an arbitrary of values, each of which may instead be hostile. */
export function schemaArbitrary(schema: JsonSchema, world: FuzzWorld, name = '', depth = 0, hostile = true): fc.Arbitrary<unknown> {
  const valid = validArbitrary(schema, world, name, depth, hostile);
  const likely = likelyValues(name, world);
  if (!hostile) return fc.oneof({ arbitrary: valid, weight: 2 }, { arbitrary: likely.length ? fc.constantFrom(...likely) : valid, weight: 3 });
  return fc.oneof(
    { arbitrary: valid, weight: 6 },
    { arbitrary: likely.length ? fc.constantFrom(...likely) : valid, weight: 2 },
    { arbitrary: hostileValue, weight: 2 },
  );
}

function validArbitrary(s: JsonSchema, world: FuzzWorld, name: string, depth: number, hostile: boolean): fc.Arbitrary<unknown> {
  if (depth > 4) return fc.constant(null);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((a) => validArbitrary(a, world, name, depth + 1, hostile)));
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'email') return fc.emailAddress();
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? 100));
      if (s.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString());
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1000, -1e9), max: Math.min(s.maximum ?? 1e6, 1e12) });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: s.minimum ?? -1e6, max: s.maximum ?? 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(s.items ? schemaArbitrary(s.items, world, name, depth + 1, hostile) : hostileValue, { maxLength: Math.min(s.maxItems ?? 4, 4) });
    case 'object': {
      if (s.properties) {
        const model = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, schemaArbitrary(v, world, k, depth + 1, hostile)]));
        const record = fc.record(model, { requiredKeys: hostile ? [] : (s.required ?? []) });
        if (!hostile) return record;
        return fc.tuple(record, fc.option(fc.dictionary(hostileString, hostileValue, { maxKeys: 1 }), { freq: 8 })).map(([o, extra]) => ({ ...o, ...(extra ?? {}) }));
      }
      const values = typeof s.additionalProperties === 'object' ? schemaArbitrary(s.additionalProperties, world, name, depth + 1, hostile) : hostileValue;
      const keys = hostile ? fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), hostileString) : fc.string({ minLength: 1, maxLength: 12 });
      return fc.dictionary(keys, values, { maxKeys: 4 });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const specOf = (route: RouteEntry) => registry.find((r) => r.method === (route.method === 'HEAD' ? 'GET' : route.method) && r.url === route.url);

const jsonSchemaOf = (schema: z.ZodType | undefined): JsonSchema | null => (schema ? (z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema) : null);

/** Percent-encodes any string; a lone surrogate becomes the (invalid) UTF-8 of a surrogate. */
export function encodeAny(s: string): string {
  return encodeURIComponent(s.toWellFormed()).replace(/%EF%BF%BD/g, s.isWellFormed() ? '%EF%BF%BD' : '%ED%A0%80');
}

function pathArbitrary(route: RouteEntry, world: FuzzWorld): fc.Arbitrary<string> {
  const parts = route.url.split('/').map((part) => {
    if (part.startsWith(':') || part === '*') {
      return fc.oneof(
        { arbitrary: fc.constantFrom(...world.ids.map(encodeAny), ...(world.extraStrings ?? []).map(encodeAny)), weight: 3 },
        { arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS), weight: 3 },
        { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map(encodeAny), weight: 2 },
      );
    }
    return fc.constant(part);
  });
  return fc.tuple(...parts).map((segments) => segments.join('/'));
}

function queryArbitrary(route: RouteEntry, world: FuzzWorld): fc.Arbitrary<string> {
  const schema = jsonSchemaOf(specOf(route)?.query);
  const fromSchema = schema?.properties
    ? fc
        .record(Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, schemaArbitrary(v, world, k)])), { requiredKeys: [] })
        .map((q) => Object.entries(q).map(([k, v]) => `${encodeAny(k)}=${encodeAny(typeof v === 'string' ? v : JSON.stringify(v) ?? '')}`).join('&'))
    : fc.constant('');
  return fc.oneof({ arbitrary: fromSchema, weight: 4 }, { arbitrary: fc.constantFrom(...HOSTILE_QUERIES), weight: 2 }, { arbitrary: fc.constant(''), weight: 1 });
}

function bodyArbitrary(route: RouteEntry, world: FuzzWorld): fc.Arbitrary<{ contentType?: string; body?: string }> {
  const schema = jsonSchemaOf(specOf(route)?.body);
  // Routes outside defineRoute (sign-in, the update-payment form, Stripe webhooks) take these fields.
  const generic: JsonSchema = { type: 'object', properties: { email: { type: 'string' }, password: { type: 'string' }, card_number: { type: 'string' }, exp: { type: 'string' }, cvc: { type: 'string' }, name: { type: 'string' } } };
  const json = schemaArbitrary(schema ?? generic, world).map((v) => ({ contentType: 'application/json', body: JSON.stringify(v) ?? 'null' }));
  const form = fc.dictionary(fc.constantFrom('card_number', 'exp', 'cvc', 'x'), hostileString, { maxKeys: 3 }).map((o) => ({
    contentType: 'application/x-www-form-urlencoded',
    body: Object.entries(o).map(([k, v]) => `${k}=${encodeAny(v)}`).join('&'),
  }));
  const raw = fc.constantFrom<{ contentType?: string; body?: string }>(
    { contentType: 'application/json', body: '{"a":' },
    { contentType: 'application/json', body: '"\\ud800"' },
    { contentType: 'application/json', body: 'null' },
    { contentType: 'application/json', body: '[1,2]' },
    { contentType: 'application/json', body: nested(5000) },
    { contentType: 'application/json', body: '{"name":"\\u0000"}' },
    { contentType: 'text/plain', body: 'hello' },
    { contentType: 'application/json' },
    {},
  );
  return fc.oneof({ arbitrary: json, weight: 6 }, { arbitrary: form, weight: 1 }, { arbitrary: raw, weight: 2 });
}

function headersArbitrary(route: RouteEntry, world: FuzzWorld): fc.Arbitrary<Record<string, string>> {
  const auth = fc.oneof(
    { arbitrary: fc.constant({ authorization: `Bearer ${world.keys.test}` }), weight: 8 },
    { arbitrary: fc.constant({ 'x-api-key': world.keys.live }), weight: 1 },
    { arbitrary: fc.constant({}), weight: 1 },
    { arbitrary: fc.constantFrom({ authorization: 'Bearer sk_test_nope' }, { authorization: `Bearer ${'k'.repeat(3000)}` }, { 'x-api-key': 'Bearer \u00ff\u00fe' }, { cookie: 'rescue_session=%00' }), weight: 1 },
  );
  const extra = fc.oneof(
    { arbitrary: fc.constant({}), weight: 6 },
    { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((k) => ({ 'idempotency-key': k.replace(/[^\x20-\x7e]/g, '') || 'k' })), weight: 2 },
    { arbitrary: fc.constantFrom({ 'idempotency-key': 'i'.repeat(256) }, { 'x-rescue-dashboard': '1', cookie: 'rescue_session=sess_x' }, { 'stripe-signature': 't=1,v1=00' }), weight: 1 },
  );
  return fc.tuple(auth, extra).map(([a, e]) => ({ ...a, ...e }));
}

/**
 * Requests that would pass validation if the generator guessed well: the test key, a JSON body and
 * a query made of valid or likely values, existing ids in the path. They reach the code that writes,
 * where a refusal after a write (a partial write) would show.
 */
function plausibleArbitrary(route: RouteEntry, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const spec = specOf(route);
  const body = jsonSchemaOf(spec?.body);
  const query = jsonSchemaOf(spec?.query);
  const path = fc
    .tuple(...route.url.split('/').map((part) => (part.startsWith(':') || part === '*' ? fc.constantFrom(...world.ids.map(encodeAny)) : fc.constant(part))))
    .map((segments) => segments.join('/'));
  const queryText = query?.properties
    ? fc
        .record(Object.fromEntries(Object.entries(query.properties).map(([k, v]) => [k, schemaArbitrary(v, world, k, 1, false)])), { requiredKeys: [] })
        .map((q) => Object.entries(q).map(([k, v]) => `${encodeAny(k)}=${encodeAny(typeof v === 'string' ? v : JSON.stringify(v) ?? '')}`).join('&'))
    : fc.constant('');
  const bodyValue = body ? validArbitrary(body, world, '', 0, false) : fc.constant(undefined);
  const key = fc.option(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }).map((k) => k.replace(/[^\x21-\x7e]/g, 'k')), { freq: 4 });
  return fc.tuple(path, queryText, bodyValue, key).map(([p, q, b, idem]) => ({
    method: route.method,
    path: q ? `${p}?${q}` : p,
    headers: { authorization: `Bearer ${world.keys.test}`, ...(b !== undefined ? { 'content-type': 'application/json' } : {}), ...(idem && route.method === 'POST' ? { 'idempotency-key': idem } : {}) },
    body: b !== undefined && route.method !== 'GET' ? JSON.stringify(b) : undefined,
  }));
}

/** Arbitrary requests for one route: plausible ones, and ones hostile in every part. */
export function requestArbitrary(route: RouteEntry, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  return fc.oneof({ arbitrary: plausibleArbitrary(route, world), weight: 3 }, { arbitrary: hostileArbitrary(route, world), weight: 2 });
}

function hostileArbitrary(route: RouteEntry, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const hasBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH' || route.method === 'DELETE';
  return fc
    .tuple(pathArbitrary(route, world), queryArbitrary(route, world), hasBody ? bodyArbitrary(route, world) : fc.constant({} as { contentType?: string; body?: string }), headersArbitrary(route, world))
    .map(([path, query, b, headers]) => ({
      method: route.method,
      path: query ? `${path}?${query}` : path,
      headers: { ...headers, ...(b.contentType ? { 'content-type': b.contentType } : {}) },
      body: b.body,
    }));
}

/** The same handful of hostile requests for every route: none of them is left to chance. */
export function fixedHostileRequests(route: RouteEntry, world: FuzzWorld): FuzzRequest[] {
  const auth = { authorization: `Bearer ${world.keys.test}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const withSegments = (segment: string) => route.url.split('/').map((p) => (p.startsWith(':') || p === '*' ? segment : p)).join('/');
  const path = withSegments(world.ids[0] ?? 'x');
  const hasParams = route.url.includes(':') || route.url.endsWith('*');
  const out: FuzzRequest[] = [
    ...(hasParams ? [{ method: route.method, path: withSegments('%00'), headers: auth }, { method: route.method, path: withSegments('%ED%A0%80'), headers: auth }] : []),
    { method: route.method, path: `${path}?starting_after=%00&limit=%00`, headers: auth },
    { method: route.method, path: `${path}?to=999999999999&from=0&created%5Bgte%5D=999999999999`, headers: auth },
  ];
  if (route.method === 'GET' || route.method === 'HEAD') return out;
  const schema = jsonSchemaOf(specOf(route)?.body);
  const names = Object.keys(schema?.properties ?? { name: {}, email: {}, password: {} });
  const every = (v: unknown) => JSON.stringify(Object.fromEntries(names.map((n) => [n, v])));
  return [
    ...out,
    { method: route.method, path, headers: json, body: every('a\u0000b') },
    { method: route.method, path, headers: json, body: every('\ud800') },
    { method: route.method, path, headers: json, body: JSON.stringify({ metadata: { 'k\u0000': 'v', plan: '\ud800' }, from_name: '\ud800', name: 'a\u0000' }) },
    { method: route.method, path, headers: json, body: every(1e308) },
    { method: route.method, path, headers: json, body: nested(20_000) },
    { method: route.method, path, headers: json, body: `{"name":"${'x'.repeat(1_100_000)}"}` },
    { method: route.method, path, headers: json, body: '{"a":' },
    { method: route.method, path, headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'card_number=%00&exp=%ED%A0%80&cvc=1' },
  ];
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** Sends a request exactly as given (no URL normalisation, no encoding), and reads the whole answer. */
export function send(base: string, r: FuzzRequest): Promise<FuzzReply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, method: r.method, path: r.path, headers: { ...r.headers, ...(r.body !== undefined ? { 'content-length': String(Buffer.byteLength(r.body)) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** A Stripe-style error: exactly `{error: {type, code, message, param?}}` (Revtain's refusals add outcome fields beside it). */
export function stripeStyleProblem(reply: FuzzReply): string | null {
  if (!reply.contentType.startsWith('application/json')) return null;
  let body: any;
  try {
    body = JSON.parse(reply.text);
  } catch {
    return 'a JSON content type with a body that is not JSON';
  }
  const e = body?.error;
  if (!e || typeof e.type !== 'string' || typeof e.code !== 'string' || typeof e.message !== 'string' || e.message.length === 0) return 'no {error: {type, code, message}}';
  if (Object.keys(e).some((k) => !['type', 'code', 'message', 'param'].includes(k))) return `unexpected error fields ${Object.keys(e).join(', ')}`;
  if (e.param !== undefined && typeof e.param !== 'string') return 'param is not a string';
  const outcomes = ['recovery_blocked', 'recovery_duplicate', 'pulse_conflict'];
  if (!outcomes.includes(e.code) && Object.keys(body).length !== 1) return `fields beside error: ${Object.keys(body).join(', ')}`;
  return null;
}

export function describeRequest(r: FuzzRequest): string {
  const body = r.body === undefined ? '' : ` ${r.body.length > 300 ? `${r.body.slice(0, 300)}… (${r.body.length} chars)` : r.body}`;
  return `${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}…` : r.path} ${JSON.stringify(r.headers)}${body}`;
}
