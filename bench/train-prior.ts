// Regenerates src/predict/prior-retry-timing.json: the retry-timing model Rescue starts from before
// an account has attempts of its own, trained on the sandbox card network.
//   npm run train:prior
import { writeFileSync } from 'node:fs';
import { simulateExamples } from './sandbox-examples.ts';
import { trainRetryModel } from '../src/predict/retry-model.ts';

const examples = simulateExamples({ customers: 6000, months: 6, seed: 'prior' });
const result = trainRetryModel(examples);
const out = { ...result.model, trainedOn: examples.length, evaluation: result.evaluation, baseline: result.baseline, source: 'sandbox card network, 6000 customers x 6 months, random retry times (bench/train-prior.ts)' };
writeFileSync(new URL('../src/predict/prior-retry-timing.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(`examples ${examples.length}`);
console.log('held-out', result.evaluation);
console.log('baseline', result.baseline);
