import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, SETTING_NAMES } from '../../src/config.ts';
import { REPO } from '../support/workers.ts';

// The configuration reference and the README's table name every setting src/config.ts reads, each
// once, with the default it really has.

const table = (path: string) =>
  [...readFileSync(join(REPO, path), 'utf8').matchAll(/^\| `([A-Z_]+)` \| ([^|]*) \|/gm)].map((m) => ({ name: m[1]!, default: m[2]!.trim() }));

describe('settings documentation', () => {
  for (const path of ['docs/configuration.md', 'README.md']) {
    it(`${path} lists exactly the settings config.ts reads`, () => {
      expect(table(path).map((r) => r.name).sort()).toEqual([...SETTING_NAMES].sort());
    });
  }

  it('a plain default in docs/configuration.md is the default config.ts applies', () => {
    const defaults = loadConfig({}) as Record<string, unknown>;
    let checked = 0;
    for (const row of table('docs/configuration.md')) {
      const plain = /^`([^`]+)`$/.exec(row.default)?.[1];
      if (plain === undefined || /[A-Z]{4}/.test(plain)) continue; // `http://HOST:PORT`: derived, said in words
      expect(String(defaults[row.name]), row.name).toBe(plain);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(25);
  });
});
