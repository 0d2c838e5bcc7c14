// The fenced blocks of a Markdown file and how the docs test treats each (the convention is in
// DEVELOPERS.md#docs-that-run):
//   ```sh / ```bash  run by bash against a running Rescue, in file order, sharing what they printed;
//   ```js            run by Node as an ES module;
//   ```json          must parse (an excerpt `"key": …` is read inside braces);
//   ```yaml          must parse (test/support/yaml-subset.ts);
//   ```mermaid, ```text and unlabelled blocks are diagrams and output, not samples.
// A block that cannot run carries `<!-- doc-test: skip — why -->` on the line before its fence;
// `<!-- doc-test: allow-http-errors -->` lets a sample show an error answer on purpose.

export interface DocBlock {
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  skip: string | null;
  allowHttpErrors: boolean;
}

export const RUN_LANGS = new Set(['sh', 'bash', 'js', 'json', 'yaml']);
const NOT_SAMPLES = new Set(['', 'mermaid', 'text']);

export function docBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`line ${i + 1}: unclosed fence`);
    const before = lines.slice(0, i).reverse().find((l) => l.trim() !== '') ?? '';
    const skip = /<!--\s*doc-test:\s*skip\s*[—:-]\s*(.+?)\s*-->/.exec(before);
    blocks.push({ lang: open[1]!, code: lines.slice(i + 1, end).join('\n'), line: i + 1, skip: skip ? skip[1]! : null, allowHttpErrors: /<!--\s*doc-test:\s*allow-http-errors\s*-->/.test(before) });
    i = end;
  }
  return blocks;
}

export function isSample(b: DocBlock): boolean {
  return !NOT_SAMPLES.has(b.lang);
}

/** Id placeholders (`pay_...`, `clock_…`) stand for the id of that kind an earlier command printed last. */
const ID_PLACEHOLDER = /\b(pay|clock|cus|we|evt|rec|em)_(?:\.\.\.|…)/g;

/**
 * A shell sample as the test runs it: the example base URLs are the running server's, `sk_test_...`
 * is the test key, and each id placeholder is looked up when its command runs (inside single quotes
 * the quote is closed around the lookup).
 */
export function runnableShell(code: string): string {
  return code
    .replace(/https?:\/\/127\.0\.0\.1:4000|https:\/\/rescue\.example\.com/g, '$BASE')
    // The values the test provides: a sample's own assignment of them (a placeholder) gives way.
    .replace(/^(KEY|RECEIVER)=\S+/gm, (_m, name: string) => `${name}=$${name}`)
    .split('\n')
    .map((line) =>
      line.replace(ID_PLACEHOLDER, (_m, prefix: string, offset: number) => {
        const quotes = (line.slice(0, offset).match(/'/g) ?? []).length;
        return quotes % 2 === 1 ? `'"$(last_id ${prefix})"'` : `"$(last_id ${prefix})"`;
      }),
    )
    .join('\n');
}

/**
 * Secrets an earlier command printed, as the environment variables the docs keep them in: the widget
 * secret (`wsec_…`, shown once by rotate_secret) is `RESCUE_WIDGET_SECRET`.
 */
export function printedSecrets(log: string): Record<string, string> {
  const widget = log.match(/\bwsec_[A-Za-z0-9_-]{40,}/g)?.at(-1);
  return widget ? { RESCUE_WIDGET_SECRET: widget } : {};
}

/** What every shell sample runs after: failing commands fail the sample; curl's answers are kept for last_id. */
export function shellPreamble(allowHttpErrors: boolean): string {
  return `set -euo pipefail
curl() { command curl -sS ${allowHttpErrors ? '' : '--fail-with-body '}"$@" | tee -a "$DOC_LOG"; echo; }
last_id() { grep -oE "\\b$1_[A-Za-z0-9]{16,}" "$DOC_LOG" | tail -n 1; }
`;
}
