import { buildDashboard } from '../../src/web/build.ts';

// vitest globalSetup: the browser tests need the built dashboard, and CI starts from a clean clone
// (dist/ is not committed). Builds only when missing or older than its sources (about a second).
export default async function setup(): Promise<void> {
  await buildDashboard();
}
