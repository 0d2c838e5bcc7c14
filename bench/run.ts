import { parseArgs } from 'node:util';
import { runClockAdvanceBench } from './clock-advance.ts';
import { runWebhookDeliveryBench } from './webhook-delivery.ts';
import { runWorkerThroughputBench } from './worker-throughput.ts';
import type { Engine } from './support.ts';

// npm run bench [-- --rescues 10000 --attempts 5000 --deliveries 5000 --engines pglite,postgres --only clock|worker|webhooks]
const { values } = parseArgs({
  options: {
    rescues: { type: 'string', default: '10000' },
    attempts: { type: 'string', default: '5000' },
    deliveries: { type: 'string', default: '5000' },
    engines: { type: 'string', default: 'pglite,postgres' },
    only: { type: 'string' },
  },
});
const engines = values.engines.split(',') as Engine[];
const run = (name: 'clock' | 'worker' | 'webhooks') => values.only === undefined || values.only === name;

if (run('clock')) {
  console.log(`\nTest clock: advance 30 days over ${values.rescues} rescues (sandbox card network)\n`);
  console.log(await runClockAdvanceBench(Number(values.rescues), engines));
}
if (run('worker')) {
  console.log(`\nOne real-time worker: ${values.attempts} due retries\n`);
  console.log(await runWorkerThroughputBench(Number(values.attempts), engines));
}
if (run('webhooks')) {
  // Worker processes coordinate through Postgres only; PGlite is one process.
  if (engines.includes('postgres')) {
    console.log(`\nWebhook delivery: ${values.deliveries} events to a local receiver, rescue worker processes on Postgres\n`);
    console.log(await runWebhookDeliveryBench(Number(values.deliveries)));
  } else {
    console.log('\nWebhook delivery: skipped (needs postgres in --engines)');
  }
}
process.exit(0);
