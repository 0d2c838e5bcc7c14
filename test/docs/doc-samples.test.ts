import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestRescue, type TestRescue } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { NODE, REPO } from '../support/workers.ts';
import { parseYamlSubset } from '../support/yaml-subset.ts';
import { docBlocks, isSample, printedSecrets, RUN_LANGS, runnableShell, shellPreamble, type DocBlock } from './doc-blocks.ts';

// Every command and code sample in the README and docs/ runs here, against a real Rescue (embedded
// database, worker on) and a real webhook receiver, so a doc that drifts from the code fails.
// The convention: test/docs/doc-blocks.ts and DEVELOPERS.md#docs-that-run. docs/client.md is the
// client library's, run by its own tests.

const FILES = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md') && f !== 'client.md').map((f) => `docs/${f}`)];

// The operator's secret of GET /api/cron/dunning, on the server and in the samples' environment.
const CRON_SECRET = 'doc-samples-cron-secret-0123456789';

let t: TestRescue;
let receiver: Receiver;
let scratch: string;
beforeAll(async () => {
  t = await startTestRescue({ env: { RESCUE_RATE_LIMIT_PER_KEY: '0', RESCUE_CRON_SECRET: CRON_SECRET } });
  receiver = await startReceiver();
  // Inside the repository, so a sample's imports resolve from its node_modules.
  scratch = mkdtempSync(join(REPO, '.doc-samples-'));
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await t?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function run(file: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // Node 24 and the `rescue` bin from the repository; npx never asks the registry.
    execFile(file, args, { cwd: scratch, env: { PATH: `${join(REPO, 'node_modules/.bin')}:${process.env.PATH}`, HOME: process.env.HOME ?? '/tmp', npm_config_offline: 'true', ...env }, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

async function runBlock(b: DocBlock, env: Record<string, string>, name: string): Promise<void> {
  const where = `${name}:${b.line}`;
  if (b.lang === 'json') {
    const parsed = (() => {
      try {
        return JSON.parse(b.code);
      } catch {
        return JSON.parse(`{${b.code}}`);
      }
    })();
    expect(parsed, where).toBeTypeOf('object');
  } else if (b.lang === 'yaml') {
    expect(parseYamlSubset(b.code), where).toBeTypeOf('object');
  } else if (b.lang === 'js') {
    const path = join(scratch, `${name.replace(/\W+/g, '-')}-${b.line}.mjs`);
    writeFileSync(path, b.code);
    const r = await run(NODE, [path], env);
    expect(r.code, `${where} (js) exited ${r.code}:\n${r.out}`).toBe(0);
  } else {
    const path = join(scratch, `${name.replace(/\W+/g, '-')}-${b.line}.sh`);
    writeFileSync(path, shellPreamble(b.allowHttpErrors) + runnableShell(b.code));
    const r = await run('/bin/bash', [path], env);
    expect(r.code, `${where} (sh) exited ${r.code}:\n${runnableShell(b.code)}\n---\n${r.out}`).toBe(0);
  }
}

describe('docs that run', () => {
  it('every sample is in a language the test runs, or opts out with a reason', () => {
    const unknown: string[] = [];
    let samples = 0;
    let skipped = 0;
    for (const file of FILES) {
      for (const b of docBlocks(readFileSync(join(REPO, file), 'utf8')).filter(isSample)) {
        samples++;
        if (b.skip !== null) {
          skipped++;
          expect(b.skip.length, `${file}:${b.line}: a skip says why`).toBeGreaterThanOrEqual(15);
        } else if (!RUN_LANGS.has(b.lang)) unknown.push(`${file}:${b.line} \`\`\`${b.lang}`);
      }
    }
    expect(unknown).toEqual([]);
    // Opting out stays the exception.
    expect(skipped / samples).toBeLessThan(0.3);
  });

  for (const file of FILES) {
    const blocks = docBlocks(readFileSync(join(REPO, file), 'utf8')).filter((b) => isSample(b) && b.skip === null);
    if (blocks.length === 0) continue;
    it(`${file}: its ${blocks.length} sample(s) run`, async () => {
      const { testKey } = await t.signup();
      const log = join(scratch, `${file.replace(/\W+/g, '-')}.log`);
      writeFileSync(log, '');
      const path = `/hooks/${file.replace(/\W+/g, '-')}`;
      const env = { KEY: testKey, BASE: t.url.replace(/\/$/, ''), RESCUE: t.url.replace(/\/$/, ''), RECEIVER: receiver.url(path), DOC_LOG: log, PORT: '0', RESCUE_CRON_SECRET: CRON_SECRET };
      for (const b of blocks) await runBlock(b, { ...env, ...printedSecrets(readFileSync(log, 'utf8')) }, file);
      if (file === 'docs/quickstart.md') {
        // The quick start ends with a webhook received for a recovered payment.
        const recovered = await eventually(async () => receiver.at(path).find((d) => d.body?.type === 'payment.rescue_succeeded'));
        expect(recovered.body.data).toMatchObject({ amount: 4999, currency: 'USD' });
      }
    }, 180_000);
  }
});
