import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_TOKENS, UNTIL_TOKEN_KINDS } from '../../src/gateways/sandbox/test-tokens.ts';
import { REPO } from '../support/workers.ts';

// docs/test-tokens.md's tables are the sandbox's tokens, row for row: every token the code knows,
// with the answer and card it gives, and nothing the code does not know.

const rows = (section: string) => {
  const doc = readFileSync(join(REPO, 'docs/test-tokens.md'), 'utf8');
  const part = doc.split(/^## /m).find((s) => s.startsWith(section))!;
  return part
    .split('\n')
    .filter((l) => /^\| `/.test(l))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
};

describe('docs/test-tokens.md', () => {
  it('lists every test card with its decline code (or approval), brand, funding, last 4, advice code and expiry', () => {
    const documented = rows('Test cards');
    expect(documented.map((r) => r[0])).toEqual(TEST_TOKENS.map((t) => `\`${t.token}\``));
    for (const [i, t] of TEST_TOKENS.entries()) {
      const [, answer, card] = documented[i]!;
      expect(answer, t.token).toBe(t.declineCode ? `\`${t.declineCode}\`` : 'approved');
      expect(card, t.token).toContain(`${t.brand} ${t.funding} •••• ${t.last4}`);
      if (t.adviceCode) expect(card, t.token).toContain(`advice code ${t.adviceCode}`);
      if (t.expYear < 2026) expect(card, t.token).toContain(`expired ${t.expMonth}/${t.expYear}`);
    }
  });

  it('lists every kind of card that recovers with the code it declines with until its instant', () => {
    const documented = rows('Cards that recover');
    expect(documented.map((r) => r[0])).toEqual(Object.keys(UNTIL_TOKEN_KINDS).map((k) => `\`pm_card_${k}_until_<unix>\``));
    for (const [i, [kind, v]] of Object.entries(UNTIL_TOKEN_KINDS).entries()) {
      expect(documented[i]![1], kind).toContain(`\`${v.code}\``);
      expect(documented[i]![2], kind).toContain(v.last4);
    }
  });
});
