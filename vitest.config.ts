import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and databases; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // The dashboard's browser tests serve its build (dist/ is not committed): build it when stale.
    globalSetup: ['test/web/build-dashboard.setup.ts'],
  },
});
