import { execFile } from 'node:child_process';
import { NODE, REPO } from '../support/workers.ts';

// One `node src/cli.ts <command>` to its exit, in an environment holding only what the test gives
// (none of the test runner's own RESCUE_* or DATABASE_URL).

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith('RESCUE_') || k === 'DATABASE_URL' || k === 'PORT' || k === 'HOST' || k === 'LOG_LEVEL') delete base[k];
  return new Promise((resolve) => {
    execFile(NODE, ['src/cli.ts', ...args], { cwd: REPO, env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
