import { parseArgs } from 'node:util';
import { runClockAdvanceBench } from './clock-advance.ts';
import { runWorkerThroughputBench } from './worker-throughput.ts';
import type { Engine } from './support.ts';

// npm run bench [-- --rescues 10000 --attempts 5000 --engines pglite,postgres --only clock|worker]
const { values } = parseArgs({
  options: {
    rescues: { type: 'string', default: '10000' },
    attempts: { type: 'string', default: '5000' },
    engines: { type: 'string', default: 'pglite,postgres' },
    only: { type: 'string' },
  },
});
const engines = values.engines.split(',') as Engine[];

if (values.only !== 'worker') {
  console.log(`\nTest clock: advance 30 days over ${values.rescues} rescues (sandbox card network)\n`);
  console.log(await runClockAdvanceBench(Number(values.rescues), engines));
}
if (values.only !== 'clock') {
  console.log(`\nOne real-time worker: ${values.attempts} due retries\n`);
  console.log(await runWorkerThroughputBench(Number(values.attempts), engines));
}
process.exit(0);
