// No YAML library is installed, so the compose file is read with this: block mappings and
// sequences by indentation, `key: value`, `- item` (a scalar or a mapping), flow sequences of
// quoted or plain scalars, `#` comments, quoted strings. Anything else (anchors, multi-line
// scalars, flow mappings other than `{}`) throws, so the compose file stays within what is checked.

export type Yaml = string | boolean | number | null | Yaml[] | { [k: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseYamlSubset(source: string): Yaml {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '') return;
    if (/\t/.test(raw.slice(0, raw.length - raw.trimStart().length))) throw new Error(`line ${i + 1}: tab indentation`);
    if (/[&*|>]\s*$|^\s*[&*!]/.test(text) || /:\s+[&*!|>]/.test(text)) throw new Error(`line ${i + 1}: anchors, tags and block scalars are outside the subset`);
    lines.push({ indent: raw.length - raw.trimStart().length, text: text.trim(), no: i + 1 });
  });
  const [value, next] = block(lines, 0, lines[0]?.indent ?? 0);
  if (next !== lines.length) throw new Error(`line ${lines[next]!.no}: unexpected indentation`);
  return value;
}

function block(lines: Line[], at: number, indent: number): [Yaml, number] {
  return lines[at]!.text.startsWith('- ') || lines[at]!.text === '-' ? sequence(lines, at, indent) : mapping(lines, at, indent);
}

function mapping(lines: Line[], at: number, indent: number): [Yaml, number] {
  const out: Record<string, Yaml> = {};
  let i = at;
  while (i < lines.length && lines[i]!.indent === indent && !lines[i]!.text.startsWith('- ')) {
    const m = /^("[^"]*"|'[^']*'|[^:\s][^:]*?):(?:\s+(.*))?$/.exec(lines[i]!.text);
    if (!m) throw new Error(`line ${lines[i]!.no}: not "key: value"`);
    const key = unquote(m[1]!);
    if (key in out) throw new Error(`line ${lines[i]!.no}: duplicate key ${key}`);
    if (m[2] !== undefined && m[2] !== '') {
      out[key] = scalarOrFlow(m[2], lines[i]!.no);
      i++;
    } else if (i + 1 < lines.length && lines[i + 1]!.indent > indent) {
      [out[key], i] = block(lines, i + 1, lines[i + 1]!.indent);
    } else {
      out[key] = null;
      i++;
    }
  }
  return [out, i];
}

function sequence(lines: Line[], at: number, indent: number): [Yaml, number] {
  const out: Yaml[] = [];
  let i = at;
  while (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('-')) {
    const rest = lines[i]!.text.slice(1).trimStart();
    if (/^("[^"]*"|'[^']*'|[^:"'\s[][^:]*?):(\s|$)/.test(rest)) {
      // A mapping that starts on the dash's line: re-read it as a block indented past the dash.
      const inner = indent + (lines[i]!.text.length - rest.length);
      const rewritten = [{ ...lines[i]!, indent: inner, text: rest }, ...lines.slice(i + 1)];
      const [value, used] = mapping(rewritten, 0, inner);
      out.push(value);
      i += used;
    } else {
      out.push(scalarOrFlow(rest, lines[i]!.no));
      i++;
    }
  }
  return [out, i];
}

function scalarOrFlow(text: string, no: number): Yaml {
  if (text === '{}') return {};
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${no}: unterminated flow sequence`);
    const items = text.slice(1, -1).match(/"(?:[^"\\]|\\.)*"|'[^']*'|[^,\s][^,]*/g) ?? [];
    return items.map((s) => scalar(s.trim(), no));
  }
  if (text.startsWith('{')) throw new Error(`line ${no}: flow mappings are outside the subset`);
  return scalar(text, no);
}

function scalar(text: string, no: number): Yaml {
  if (/^".*"$/.test(text)) return JSON.parse(text) as string;
  if (/^'.*'$/.test(text)) return text.slice(1, -1).replace(/''/g, "'");
  if (/^["']/.test(text)) throw new Error(`line ${no}: unterminated string`);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

function unquote(s: string): string {
  return /^["']/.test(s) ? String(scalar(s, 0)) : s;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}
