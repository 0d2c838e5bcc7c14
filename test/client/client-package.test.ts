import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typesFromOpenApi } from '../../scripts/openapi-types.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';

// @rescue/client ships what it was built from: its types are the served OpenAPI document's, and its
// dist/ is the build of its src/. Either drifting fails here; `node scripts/client-types.ts` fixes both.

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const pkg = join(root, 'packages/client');

let t: TestRescue;
beforeAll(async () => {
  t = await startTestRescue({ worker: false });
});
afterAll(() => t?.close());

describe('@rescue/client', () => {
  it('has the types of the OpenAPI document Rescue serves', async () => {
    const doc: any = await (await fetch(`${t.url}/openapi.json`)).json();
    const committed = readFileSync(join(pkg, 'src/types.ts'), 'utf8');
    expect(committed, 'packages/client/src/types.ts is stale: run node scripts/client-types.ts').toBe(typesFromOpenApi(doc));
    // Every named response object is a type, and every operation is there.
    expect(committed).toContain('  Payment: {');
    expect(committed).toContain(`'POST /api/recovery/execute': {`);
    const operations = Object.values(doc.paths).flatMap((ops: any) => Object.keys(ops));
    expect(committed.match(/^ {2}'(GET|POST|DELETE) \//gm)).toHaveLength(operations.length);
  });

  it('ships dist/ as the build of src/', async () => {
    const out = mkdtempSync(join(tmpdir(), 'rescue-client-build-'));
    try {
      await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(pkg, 'tsconfig.json'), '--outDir', out], { timeout: 60_000 });
      const built = readdirSync(out).sort();
      expect(readdirSync(join(pkg, 'dist')).sort()).toEqual(built);
      for (const file of built) expect(readFileSync(join(pkg, 'dist', file), 'utf8'), `dist/${file} is stale: run node scripts/client-types.ts`).toBe(readFileSync(join(out, file), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 90_000);

  it('is exported as ESM JavaScript with its types, and depends on nothing', () => {
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: '@rescue/client', type: 'module', exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } }, engines: { node: '>=20' } });
    expect(manifest.dependencies ?? {}).toEqual({});
    // Browsers and Node alike: no node: built-ins, only fetch and Web Crypto.
    for (const file of readdirSync(join(pkg, 'dist')).filter((f) => f.endsWith('.js'))) {
      expect(readFileSync(join(pkg, 'dist', file), 'utf8'), file).not.toMatch(/from ['"]node:|require\(/);
    }
  });
});
