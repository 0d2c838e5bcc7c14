import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorBody } from './responses.ts';
import { registry } from './route.ts';

// The OpenAPI document, generated from the same zod schemas that validate requests and that every
// answer is checked against under test (api/responses.ts). Named response objects (`.meta({ id })`)
// become components, so a generated client gets a `Payment` type rather than an anonymous shape.
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, unknown> = {};
  const responseSchema = (schema: z.ZodType) => hoistDefs(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }), components);
  const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema: responseSchema(schema) } } });
  for (const r of registry) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const parameters = [
      ...paramsOf(r.params, 'path'),
      ...paramsOf(r.query, 'query'),
      ...(r.method === 'POST' && r.auth ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }] : []),
    ];
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth ? {} : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
      responses: {
        [String(r.successStatus ?? 200)]: json(r.successStatus === 201 ? 'Created' : 'OK', r.response),
        ...Object.fromEntries(Object.entries(r.otherResponses ?? {}).map(([s, schema]) => [s, json(s === '202' ? 'Accepted' : 'OK', schema)])),
        '4XX': json('Stripe-style error', ErrorBody),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Rescue API', version: '2026-11-23', description: 'Failed-payment recovery: the Plexy Auto Rescue API and Rescue\'s own.' },
    security: [{ bearer: [] }, { apiKeyHeader: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
    },
    paths,
  };
}

/** Moves a converted schema's `$defs` into the document's components, pointing its `$ref`s there. */
function hoistDefs(converted: Record<string, unknown>, components: Record<string, unknown>): unknown {
  const { $schema: _dialect, $defs, ...schema } = JSON.parse(JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
  for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, unknown>)) components[id] = def;
  return schema;
}

function paramsOf(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: s }));
}

export function registerOpenApi(app: FastifyInstance) {
  app.get('/openapi.json', async () => openApiDocument());
}
