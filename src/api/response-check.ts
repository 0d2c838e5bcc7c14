import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';

// Under test every answer is held against the schema the OpenAPI document shows for it: a field the
// handler adds, drops or types differently is a failure there and then, not a silently wrong document.

export class UndocumentedResponse extends Error {
  override name = 'UndocumentedResponse';
}

export function assertDocumentedResponse(route: string, schema: z.ZodType | undefined, status: number, body: unknown): void {
  if (!schema) throw new UndocumentedResponse(`${route} answered ${status}, a status its OpenAPI entry does not describe`);
  const wire: unknown = body === undefined ? undefined : JSON.parse(JSON.stringify(body));
  const parsed = schema.safeParse(wire);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new UndocumentedResponse(`${route} answered ${status} with a body its schema refuses: ${issues.join('; ')}`);
  }
  // zod drops keys a schema does not name; what it dropped is undocumented.
  if (!isDeepStrictEqual(parsed.data, wire)) {
    throw new UndocumentedResponse(`${route} answered ${status} with fields its schema does not describe: ${extraKeys(wire, parsed.data, '').slice(0, 10).join(', ')}`);
  }
}

function extraKeys(wire: unknown, kept: unknown, path: string): string[] {
  if (Array.isArray(wire) && Array.isArray(kept)) return wire.flatMap((w, i) => extraKeys(w, kept[i], `${path}[${i}]`));
  if (wire && typeof wire === 'object' && kept && typeof kept === 'object') {
    return Object.entries(wire).flatMap(([k, v]) => (k in kept ? extraKeys(v, (kept as Record<string, unknown>)[k], `${path}.${k}`) : [`${path}.${k}`]));
  }
  return isDeepStrictEqual(wire, kept) ? [] : [path || '(body)'];
}
