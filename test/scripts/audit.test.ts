import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareVersions, findings, inRange, productionPackages, type Snapshot } from '../../scripts/audit.ts';
import { NODE } from '../support/workers.ts';

// The dependency check (`npm run audit:deps`) against the offline advisory snapshot: the repository's
// own lockfile passes, and a lockfile holding a known-vulnerable version fails, naming the advisory.

const REPO = join(import.meta.dirname, '..', '..');
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
const snapshot = JSON.parse(readFileSync(join(REPO, 'security', 'advisories.json'), 'utf8')) as Snapshot;

function runAudit(args: string[] = []): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(NODE, ['scripts/audit.ts', ...args], { cwd: REPO, encoding: 'utf8' }) };
  } catch (err) {
    const e = err as { status: number; stdout: string };
    return { code: e.status, out: e.stdout };
  }
}

describe('npm run audit:deps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rescue-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on the production dependencies Rescue ships, and checks them all', () => {
    const { code, out } = runAudit();
    expect(code, out).toBe(0);
    const shipped = productionPackages(lock);
    expect(shipped.map((p) => p.name)).toEqual(expect.arrayContaining(['fastify', 'pg', 'nodemailer', 'stripe', 'ipaddr.js', 'find-my-way']));
    expect(shipped.map((p) => p.name)).not.toContain('vitest'); // dev-only
    expect(out).toContain(`Checked ${shipped.length} production packages`);
    expect(out).toContain(`snapshot of ${snapshot.snapshot_date}`);
  });

  it('fails on a vulnerable version in the lockfile, naming package, advisory and fix', () => {
    const vulnerable = structuredClone(lock);
    vulnerable.packages['node_modules/fastify'].version = '5.3.1';
    vulnerable.packages['node_modules/find-my-way'].version = '8.2.0';
    const file = join(dir, 'package-lock.json');
    writeFileSync(file, JSON.stringify(vulnerable));
    const { code, out } = runAudit(['--lockfile', file]);
    expect(code).toBe(1);
    expect(out).toContain('fastify@5.3.1 (node_modules/fastify): GHSA-mg2h-6x62-wpwc [HIGH]');
    expect(out).toContain('fixed in 5.3.2');
    expect(out).toContain('find-my-way@8.2.0 (node_modules/find-my-way): GHSA-rrr8-f88r-h8q6');
  });

  it('ignores a vulnerable version that only a dev dependency brings', () => {
    const devOnly = { packages: { '': {}, 'node_modules/semver': { version: '7.5.1', dev: true }, 'node_modules/zod': { version: '3.22.3' } } };
    expect(findings(productionPackages(devOnly), snapshot)).toEqual([]);
    expect(findings(productionPackages({ packages: { 'node_modules/semver': { version: '7.5.1' } } }), snapshot).map((f) => f.advisory.id)).toEqual(['GHSA-c2qf-rxjj-qqgw']);
  });

  it('reads OSV ranges and semantic versions as GitHub does', () => {
    const ranges = [{ introduced: '0' }, { fixed: '4.29.1' }, { introduced: '5.0.0' }, { fixed: '5.3.2' }];
    expect(inRange('4.29.0', ranges)).toEqual({ fixed: '4.29.1' });
    expect(inRange('4.29.1', ranges)).toBeNull();
    expect(inRange('5.3.1', ranges)).toEqual({ fixed: '5.3.2' });
    expect(inRange('5.3.2', ranges)).toBeNull();
    expect(inRange('5.3.2-rc.1', ranges)).toEqual({ fixed: '5.3.2' });
    expect(inRange('2.0.0', [{ introduced: '1.0.0' }, { last_affected: '2.0.0' }])).toEqual({ fixed: null });
    expect(inRange('3.0.0', [{ introduced: '2.5.0' }])).toEqual({ fixed: null });
    expect(compareVersions('10.0.0', '9.9.9')).toBe(1);
    expect(compareVersions('1.0.0-alpha.2', '1.0.0-alpha.10')).toBe(-1);
    expect(compareVersions('1.0.0-alpha', '1.0.0-alpha.1')).toBe(-1);
    expect(compareVersions('1.0.0+build', '1.0.0')).toBe(0);
  });
});
