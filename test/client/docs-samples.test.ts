import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRescue, type TestRescue } from '../support/harness.ts';

// Every ```js block of docs/client.md and packages/client/README.md, run as a reader would run it
// (a file of its own, `node sample.mjs`, on Node 20) against a real Rescue with a fresh test key;
// each must exit 0 and print what its comments say it prints.

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

function samples(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

let t: TestRescue;
let dir: string;
beforeAll(async () => {
  t = await startTestRescue();
  dir = mkdtempSync(join(root, 'test/client/.seed-run-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t?.close();
});

async function runSample(name: string, code: string): Promise<string> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, code);
  const key = (await t.signup()).testKey;
  const { stdout } = await run('/usr/bin/node', [file], { env: { PATH: process.env.PATH ?? '', RESCUE_URL: t.url, RESCUE_API_KEY: key }, timeout: 60_000 });
  return stdout;
}

describe('docs/client.md', () => {
  const blocks = samples('docs/client.md');

  it('has its samples', () => {
    expect(blocks).toHaveLength(6);
  });

  it('seed 003 through the client: rescue started, listed, cancelled', async () => {
    const out = await runSample('plexy', blocks[0]!);
    expect(out).toMatch(/^Payment failed, Auto Rescue initiated\nFirst retry scheduled: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nPayment pay_\w+: next retry \d{4}-.*Z\nRescue cancelled: cancelled\n$/);
  });

  it('an unknown token is approved and says so', async () => {
    const out = await runSample('sandbox-note', blocks[1]!);
    expect(out).toMatch(/^succeeded\nThe sandbox card network does not know 'pm_1OqVisaFromMyCheckout', so it approves/);
  });

  it('Revtain: prediction, then 200, 202, 403 and 409', async () => {
    const lines = (await runSample('revtain', blocks[2]!)).trim().split('\n');
    expect(lines[0]).toMatch(/^(proceed|proceed_with_caution|delay|block)$/);
    expect(lines[1]).toMatch(/^recovered txn_sbx_/);
    expect(lines[2]).toMatch(/^queued until \d{4}-/);
    expect(lines[3]).toBe('blocked: hard_decline');
    expect(lines[4]).toMatch(/^duplicate of rec_/);
  });

  it('lists, idempotency and errors', async () => {
    expect(await runSample('basics', blocks[3]!)).toBe('true\ntrue\n400 parameter_invalid amount\n');
  });

  it('a test clock recovers a payment and the verified webhook arrives', async () => {
    expect(await runSample('webhooks', blocks[4]!)).toBe('succeeded\npayment.rescue_succeeded true\n');
  }, 90_000);

  it("the portal widget's token opens that customer's widget", async () => {
    expect(await runSample('widget-token', blocks[5]!)).toBe('wt1\n1 true requires_rescue\n');
  });
});

describe('packages/client/README.md', () => {
  it('runs its sample', async () => {
    const [block] = samples('packages/client/README.md');
    expect(await runSample('readme', block!)).toMatch(/^requires_rescue \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
  });
});
