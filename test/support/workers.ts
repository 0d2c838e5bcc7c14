import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Rescue processes for the durability tests: `node src/cli.ts worker` (or `api`, `start`) on a
// Postgres database, as production runs them. Tests signal and kill them by their PID only.

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const REPO_NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
/** Node 24 from the repository (the system Node may be older), else whatever runs the tests. */
export const NODE = existsSync(REPO_NODE) ? REPO_NODE : process.execPath;

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** The worker's id (`wrk_…`), from the line it prints when it is up. */
  id: Promise<string>;
  /** What the process printed when it was up: its worker id or the API's URL, and the health server's URL if any. */
  up: Promise<{ workerId: string | null; url: string | null; healthUrl: string | null }>;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (no chance to clean up) and wait for the exit. */
  kill(): Promise<void>;
  /** Sends a signal (SIGTERM: a graceful stop) if the process still runs. */
  signal(signal: NodeJS.Signals): void;
}

export function spawnWorker(databaseUrl: string, env: Record<string, string> = {}, args: string[] = []): WorkerProcess {
  return spawnRescue('worker', databaseUrl, env, args);
}

export function spawnRescue(command: 'worker' | 'api' | 'start' | 'demo', databaseUrl: string, env: Record<string, string> = {}, args: string[] = []): WorkerProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('RESCUE_') || k === 'DATABASE_URL' || k === 'PORT') delete childEnv[k];
  const child = spawn(NODE, ['src/cli.ts', command, ...args], {
    cwd: REPO,
    env: { ...childEnv, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), PORT: '0', LOG_LEVEL: 'info', RESCUE_WORKER_POLL_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start a worker process');
  let out = '';
  let resolveUp: (up: { workerId: string | null; url: string | null; healthUrl: string | null }) => void;
  let rejectUp: (err: Error) => void;
  const up = new Promise<{ workerId: string | null; url: string | null; healthUrl: string | null }>((resolve, reject) => {
    resolveUp = resolve;
    rejectUp = reject;
  });
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    const worker = /Rescue worker (wrk_[0-9a-f]+) running.*?(?:health: (http:\S+))?\n/.exec(out);
    if (worker) resolveUp({ workerId: worker[1]!, url: null, healthUrl: worker[2] ?? null });
    const api = /Rescue (?:API and worker|API) listening on (http:\S+)/.exec(out);
    if (api) resolveUp({ workerId: null, url: api[1]!, healthUrl: null });
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      rejectUp(new Error(`${command} exited (${code ?? signal}) before it was up:\n${out}`));
      resolve({ code, signal });
    }),
  );
  up.catch(() => {});
  const id = up.then((u) => {
    if (!u.workerId) throw new Error(`not a worker:\n${out}`);
    return u.workerId;
  });
  id.catch(() => {});
  return {
    child,
    pid: child.pid,
    id,
    up,
    output: () => out,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
  };
}
