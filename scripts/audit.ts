import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// `npm run audit:deps`: the production dependencies in package-lock.json checked against an offline
// snapshot of advisories (security/advisories.json, GitHub advisories in OSV format), for machines
// where `npm audit` cannot reach an advisory service. Exits 1 on any match, naming the package, its
// version, the advisory and the first fixed version. SECURITY.md says how to refresh the snapshot.

export interface Installed {
  name: string;
  version: string;
  path: string;
}

interface RangeEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
}

export interface Advisory {
  id: string;
  aliases?: string[];
  summary: string;
  affected: { package: { ecosystem: string; name: string }; ranges?: { type: string; events: RangeEvent[] }[]; versions?: string[] }[];
  database_specific?: { severity?: string };
}

export interface Snapshot {
  snapshot_date: string;
  advisories: Advisory[];
}

export interface Finding {
  pkg: Installed;
  advisory: Advisory;
  fixed: string | null;
}

/** Every package the lockfile installs for production (not dev-only), with its version. */
export function productionPackages(lock: { packages?: Record<string, { version?: string; dev?: boolean; devOptional?: boolean; link?: boolean }> }): Installed[] {
  return Object.entries(lock.packages ?? {})
    .filter(([path, p]) => path !== '' && !p.dev && !p.devOptional && !p.link && p.version)
    .map(([path, p]) => ({ name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), version: p.version!, path }));
}

/** The advisories that name the package and whose ranges hold its version (OSV's evaluation). */
export function findings(installed: readonly Installed[], snapshot: Snapshot): Finding[] {
  const out: Finding[] = [];
  for (const pkg of installed) {
    for (const advisory of snapshot.advisories) {
      for (const affected of advisory.affected) {
        if (affected.package.ecosystem !== 'npm' || affected.package.name !== pkg.name) continue;
        const hit = affected.versions?.includes(pkg.version) ? { fixed: null } : (affected.ranges ?? []).map((r) => inRange(pkg.version, r.events)).find((r) => r !== null);
        if (hit) out.push({ pkg, advisory, fixed: hit.fixed });
      }
    }
  }
  return out;
}

/** Whether a version lies in one OSV range (introduced … fixed / last_affected); the fix if it does. */
export function inRange(version: string, events: readonly RangeEvent[]): { fixed: string | null } | null {
  let introduced: string | null = null;
  for (const e of events) {
    if (e.introduced !== undefined) introduced = e.introduced;
    const end = e.fixed ?? e.last_affected;
    if (end === undefined || introduced === null) continue;
    const afterStart = introduced === '0' || compareVersions(version, introduced) >= 0;
    const beforeEnd = e.fixed !== undefined ? compareVersions(version, e.fixed) < 0 : compareVersions(version, end) <= 0;
    if (afterStart && beforeEnd) return { fixed: e.fixed ?? null };
    introduced = null;
  }
  // An introduced event with no end: every later version is affected.
  if (introduced !== null && (introduced === '0' || compareVersions(version, introduced) >= 0)) return { fixed: null };
  return null;
}

/** Semantic-version order (https://semver.org §11): numbers numerically, a prerelease before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, '').split('+')[0]!.split(/-(.*)/s) as [string, string | undefined];
    return { nums: core.split('.').map((n) => Number(n) || 0), pre: pre ? pre.split('.') : [] };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (!x.pre.length || !y.pre.length) return x.pre.length ? -1 : y.pre.length ? 1 : 0;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i], y.pre[i]];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn && Number(p) !== Number(q)) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

function main(): void {
  const repo = join(import.meta.dirname, '..');
  const { values } = parseArgs({ options: { lockfile: { type: 'string', default: join(repo, 'package-lock.json') }, advisories: { type: 'string', default: join(repo, 'security', 'advisories.json') } } });
  const installed = productionPackages(JSON.parse(readFileSync(values.lockfile!, 'utf8')));
  const snapshot = JSON.parse(readFileSync(values.advisories!, 'utf8')) as Snapshot;
  const found = findings(installed, snapshot);
  const packages = new Set(installed.map((p) => p.name));
  console.log(`Checked ${installed.length} production packages (${packages.size} names) against ${snapshot.advisories.length} advisories of the snapshot of ${snapshot.snapshot_date}.`);
  for (const f of found) {
    const severity = f.advisory.database_specific?.severity ?? 'UNKNOWN';
    console.log(`  ${f.pkg.name}@${f.pkg.version} (${f.pkg.path}): ${f.advisory.id} [${severity}] ${f.advisory.summary} — ${f.fixed ? `fixed in ${f.fixed}` : 'no fixed version'}`);
  }
  if (found.length) {
    console.log(`${found.length} known vulnerabilit${found.length === 1 ? 'y' : 'ies'}: upgrade (or pin with "overrides" in package.json) past the fixed versions.`);
    process.exitCode = 1;
  } else console.log('No known vulnerabilities in production dependencies.');
}

if (import.meta.main) main();
