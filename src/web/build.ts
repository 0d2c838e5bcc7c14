import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Builds the dashboard when its build is missing or older than its sources, so a fresh clone's
// `npm start` (prestart) and `npm test` (vitest globalSetup) both serve an up-to-date app without
// committing build output. `node src/web/build.ts --force` always builds.

const CONFIG = join(import.meta.dirname, 'vite.config.ts');
const ROOT = join(import.meta.dirname, 'dashboard');
const OUT_INDEX = join(import.meta.dirname, '..', '..', 'dist', 'dashboard', 'index.html');
// Sources outside the dashboard's folder that it bundles.
const SHARED = [CONFIG, join(import.meta.dirname, '..', 'domain', 'money.ts')];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newestMtime(join(path, name))), st.mtimeMs);
}

export function dashboardIsStale(): boolean {
  if (!existsSync(OUT_INDEX)) return true;
  const built = statSync(OUT_INDEX).mtimeMs;
  return Math.max(newestMtime(ROOT), ...SHARED.map(newestMtime)) > built;
}

export async function buildDashboard(o: { force?: boolean } = {}): Promise<'built' | 'fresh'> {
  if (!o.force && !dashboardIsStale()) return 'fresh';
  const { build } = await import('vite');
  await build({ configFile: CONFIG, logLevel: 'warn' });
  return 'built';
}

if (import.meta.main) {
  const started = performance.now();
  const result = await buildDashboard({ force: process.argv.includes('--force') });
  console.log(result === 'built' ? `Dashboard built into dist/dashboard in ${Math.round(performance.now() - started)} ms.` : 'Dashboard build is up to date.');
}
