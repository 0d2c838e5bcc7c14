import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { registry } from './route.ts';

// The OpenAPI document, generated from the same zod schemas that validate requests.
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
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
        [String(r.successStatus ?? 200)]: { description: 'OK', ...(r.response ? { content: { 'application/json': { schema: z.toJSONSchema(r.response, { io: 'output', unrepresentable: 'any' }) } } } : {}) },
        ...Object.fromEntries((r.otherStatuses ?? []).map((s) => [String(s), { description: s === 202 ? 'Accepted' : 'OK' }])),
        '4XX': { description: 'Stripe-style error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
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
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              required: ['type', 'code', 'message'],
              properties: { type: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' }, param: { type: 'string' } },
            },
          },
        },
      },
    },
    paths,
  };
}

function paramsOf(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: s }));
}

export function registerOpenApi(app: FastifyInstance) {
  app.get('/openapi.json', async () => openApiDocument());
}
