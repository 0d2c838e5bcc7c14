import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import type { Rescue } from '../server.ts';
import { runDemo } from './run-demo.ts';

// `rescue demo [--customers N] [--days N] [--key sk_test_…] [--exit]`: fills the account, then keeps
// serving (API, dashboard, worker, the local webhook receiver) until stopped, like `rescue start`.

export async function demoCommand(config: Config, args: string[], onStarted: (rescue: Rescue) => void): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      customers: { type: 'string', default: '1000' },
      days: { type: 'string', default: '91' },
      key: { type: 'string' },
      exit: { type: 'boolean', default: false },
    },
  });
  const customers = count('--customers', values.customers, 1, 100_000);
  const days = count('--days', values.days, 1, 366);
  // A quarter is many short waits on the worker (emails and webhooks after each day): it looks for
  // work every 100 ms instead of every second, unless told otherwise.
  const tuned = process.env.RESCUE_WORKER_POLL_MS === undefined ? { ...config, RESCUE_WORKER_POLL_MS: 100 } : config;
  const demo = await runDemo(tuned, { customers, days, key: values.key, out: process.stdout, progress: process.stderr });
  if (values.exit) {
    await demo.rescue.close();
    await demo.sink?.close();
    return;
  }
  onStarted(demo.rescue);
  process.stdout.write('Still serving (Ctrl-C stops).\n');
}

function count(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag}: a whole number from ${min} to ${max} expected, got ${raw}`);
  return n;
}
