import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Worker processes for the durability tests: `node src/cli.ts worker` on a Postgres database, as
// production runs them. Tests kill them by their PID only.

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const REPO_NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
/** Node 24 from the repository (the system Node may be older), else whatever runs the tests. */
export const NODE = existsSync(REPO_NODE) ? REPO_NODE : process.execPath;

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** The worker's id (`wrk_…`), from the line it prints when it is up. */
  id: Promise<string>;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (no chance to clean up) and wait for the exit. */
  kill(): Promise<void>;
}

export function spawnWorker(databaseUrl: string, env: Record<string, string> = {}): WorkerProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('RESCUE_') || k === 'DATABASE_URL' || k === 'PORT') delete childEnv[k];
  const child = spawn(NODE, ['src/cli.ts', 'worker'], {
    cwd: REPO,
    env: { ...childEnv, DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'info', RESCUE_WORKER_POLL_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start a worker process');
  let out = '';
  let resolveId: (id: string) => void;
  let rejectId: (err: Error) => void;
  const id = new Promise<string>((resolve, reject) => {
    resolveId = resolve;
    rejectId = reject;
  });
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    const m = /Rescue worker (wrk_[0-9a-f]+) running/.exec(out);
    if (m) resolveId(m[1]!);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      rejectId(new Error(`worker exited (${code ?? signal}) before it was up:\n${out}`));
      resolve({ code, signal });
    }),
  );
  id.catch(() => {});
  return {
    child,
    pid: child.pid,
    id,
    output: () => out,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
  };
}
