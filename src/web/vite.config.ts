import { join } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dashboard's build (src/web/build.ts) and its dev server (`npm run dev:dashboard`, which sends
// API calls to a Rescue on RESCUE_DEV_API, http://127.0.0.1:4000 by default). docs/dashboard.md.

export const DASHBOARD_ROOT = join(import.meta.dirname, 'dashboard');
export const DASHBOARD_OUT = join(import.meta.dirname, '..', '..', 'dist', 'dashboard');

const api = process.env.RESCUE_DEV_API ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root: DASHBOARD_ROOT,
  base: '/dashboard/',
  plugins: [react()],
  logLevel: 'warn',
  // Under vitest (NODE_ENV=test) React's development build is bundled: the main chunk passes Vite's
  // 500 kB warning there, though the production one is about half of it (the charts load on their own).
  build: { outDir: DASHBOARD_OUT, emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/dashboard/api': api, '/v2': api, '/api': api } },
});
