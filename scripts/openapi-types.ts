// TypeScript types from an OpenAPI 3.1 document: `Schemas` (its components) and `Operations` (each
// operation's body, query and success responses, keyed "POST /v2/payments"). @rescue/client's
// types.ts is this function's output over Rescue's own /openapi.json (scripts/client-types.ts), and
// test/client/client-types.test.ts fails when the committed file and the served document disagree.

type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  description?: string;
};

interface OpenApi {
  components?: { schemas?: Record<string, Schema> };
  paths: Record<string, Record<string, { parameters?: { name: string; in: string; required?: boolean; schema: Schema }[]; requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
}

const HEADER = `// Generated from Rescue's /openapi.json by scripts/client-types.ts — do not edit.
// test/client/client-types.test.ts fails when this file and the served document disagree.
`;

export function typesFromOpenApi(doc: OpenApi): string {
  const schemas = Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => `${doc_(s, '  ')}  ${name}: ${tsOf(s, '  ')};`);
  const operations: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const parts: string[] = [];
      const body = op.requestBody?.content['application/json']?.schema;
      if (body) parts.push(`    body: ${tsOf(body, '    ')};`);
      const query = (op.parameters ?? []).filter((p) => p.in === 'query');
      if (query.length) {
        const fields = query.map((p) => `      ${key(p.name)}${p.required ? '' : '?'}: ${tsOf(p.schema, '      ')};`);
        parts.push(`    query: {\n${fields.join('\n')}\n    };`);
      }
      const ok = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
      const responses = ok.map(([, r]) => r.content?.['application/json']?.schema).map((s) => (s ? tsOf(s, '    ') : 'null'));
      parts.push(`    response: ${responses.length ? responses.join(' | ') : 'null'};`);
      operations.push(`  '${method.toUpperCase()} ${path}': {\n${parts.join('\n')}\n  };`);
    }
  }
  return `${HEADER}\nexport interface Schemas {\n${schemas.join('\n')}\n}\n\nexport interface Operations {\n${operations.join('\n')}\n}\n`;
}

function tsOf(s: Schema, indent: string): string {
  if (s.$ref) return `Schemas['${s.$ref.replace('#/components/schemas/', '')}']`;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = s.anyOf ?? s.oneOf;
  if (union) return union.map((u) => wrap(tsOf(u, indent))).join(' | ');
  if (s.allOf) return s.allOf.map((u) => wrap(tsOf(u, indent))).join(' & ');
  if (Array.isArray(s.type)) return s.type.map((t) => tsOf({ ...s, type: t }, indent)).join(' | ');
  switch (s.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return s.items ? `${wrap(tsOf(s.items, indent))}[]` : 'unknown[]';
    case 'object':
      return objectOf(s, indent);
    default:
      return 'unknown';
  }
}

function objectOf(s: Schema, indent: string): string {
  const inner = `${indent}  `;
  const required = new Set(s.required ?? []);
  const fields = Object.entries(s.properties ?? {}).map(([name, p]) => `${doc_(p, inner)}${inner}${key(name)}${required.has(name) ? '' : '?'}: ${tsOf(p, inner)};`);
  const extra = s.additionalProperties;
  if (extra && typeof extra === 'object') {
    if (fields.length === 0) return `Record<string, ${tsOf(extra, indent)}>`;
    fields.push(`${inner}[key: string]: unknown;`);
  } else if (extra !== false) {
    if (fields.length === 0) return 'Record<string, unknown>';
    fields.push(`${inner}[key: string]: unknown;`);
  }
  return fields.length ? `{\n${fields.join('\n')}\n${indent}}` : 'Record<string, never>';
}

const wrap = (t: string) => (/^[\w[\]'".]+$/.test(t) || t.startsWith('{') || t.startsWith('Record<') ? t : `(${t})`);
const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));
const doc_ = (s: Schema, indent: string) => (typeof s.description === 'string' ? `${indent}/** ${s.description.replaceAll('*/', '*\\/')} */\n` : '');
