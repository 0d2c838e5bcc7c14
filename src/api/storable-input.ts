import type { FastifyRequest } from 'fastify';
import { RescueError } from '../errors.ts';
import { zodParam } from './zod-param.ts';

// The one rule for text at the edge: Postgres `text` and `jsonb` cannot hold U+0000, and a lone
// UTF-16 surrogate (\ud800 without its pair) has no UTF-8 form; either makes the write fail inside
// the database (a 500, sometimes after an earlier row was written). So every string a request
// carries, in the path, the query or the body, as a value or as an object key, is refused with a 400
// naming the field before any route sees it. One hook in app.ts applies it to every route, including
// those not declared with defineRoute, so no route can forget it. Stripe's signed webhooks are the one
// exception: they are stored safely instead (storableCopy), since a refusal would only be resent. Headers need no check here: Node's
// parser refuses control characters in them, and they arrive as Latin-1, which has no surrogates.

/** Deeper than this, a JSON body is refused: nothing Rescue takes nests more than a few levels. */
export const MAX_NESTING = 32;

/** Why a string cannot be stored, or null when it can. */
export function unstorableText(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (!s.isWellFormed()) return 'contains a lone UTF-16 surrogate (such as \\ud800), which is not valid Unicode';
  return null;
}

// A key that is itself bad is named in its JSON-escaped form, so the error stays printable.
const shown = (key: string) => (unstorableText(key) ? JSON.stringify(key).slice(1, -1) : key);

/**
 * The first unstorable string (or too deep a nesting) in `value`, as a Stripe-style `param` path
 * (`metadata[plan]`) and a reason. Iterative: a hostile body nested 100,000 levels deep must not
 * overflow the stack.
 */
export function findUnstorable(value: unknown, root: string[] = []): { param: string; problem: string } | null {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: root }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = unstorableText(v);
      if (problem) return { param: zodParam(path), problem };
      continue;
    }
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    if (path.length - root.length >= MAX_NESTING) return { param: zodParam(path), problem: `is nested more than ${MAX_NESTING} levels deep` };
    for (const [key, child] of Object.entries(v)) {
      const problem = unstorableText(key);
      if (problem) return { param: zodParam([...path, shown(key)]), problem: `has a key that ${problem}` };
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return null;
}

/** The preValidation hook: path parameters, then the query, then the body. */
export async function assertStorableInput(request: FastifyRequest): Promise<void> {
  for (const part of [request.params, request.query, request.body]) {
    const found = findUnstorable(part);
    if (found) throw new RescueError('parameter_invalid', `${found.param || 'The request'} ${found.problem}.`, found.param || undefined);
  }
}

/**
 * For what cannot be refused (an event Stripe signed is resent until accepted): a copy whose strings
 * are made storable, NUL removed and lone surrogates replaced by U+FFFD.
 */
export function storableCopy<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '').toWellFormed() as T;
  if (Array.isArray(value)) return value.map(storableCopy) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableCopy(k), storableCopy(v)])) as T;
  }
  return value;
}
