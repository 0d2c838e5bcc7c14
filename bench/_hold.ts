import { recoveryValue } from '../src/predict/recovery-value.ts';
const sigma = Math.log(3) / 1.6449;
const N = 20000;
const Ts: number[] = [];
for (let i = 0; i < N; i++) {
  const u1 = (i + 0.5) / N;
  // inverse normal via erfinv approx
  const z = Math.sqrt(2) * erfinv(2 * u1 - 1);
  Ts.push(5 * Math.exp(sigma * z));
}
function erfinv(x: number) { const a = 0.147; const ln = Math.log(1 - x * x); const t = 2 / (Math.PI * a) + ln / 2; return Math.sign(x) * Math.sqrt(Math.sqrt(t * t - ln / a) - t); }
function evalPlan(plan: number[]) {
  let rec = 0, val = 0, within10 = 0, tries = 0;
  for (const T of Ts) {
    let reached = 1;
    for (const t of plan) {
      const p = t >= T ? 0.6 : 0.03;
      tries += reached;
      rec += reached * p; val += reached * p * recoveryValue(t, 0.077); if (t <= 10) within10 += reached * p;
      reached *= 1 - p;
    }
  }
  return `${plan.join(',').padEnd(22)} rec ${(rec / N * 100).toFixed(1)}% value ${(val / N * 100).toFixed(1)} (−cost ${((val - 0.01 * tries) / N * 100).toFixed(1)}) ≤10d ${(within10 / rec * 100).toFixed(0)}%`;
}
for (const plan of [[1.5, 8, 9, 10], [1.5, 5, 8, 10], [1.5, 6, 9, 12], [1.5, 5, 8, 11], [1.5, 7, 9, 11], [1.5, 6, 8, 10], [4, 7, 9, 11], [1.5, 4, 7, 10], [1.5, 7, 9, 10], [1.5, 7, 10, 13], [1.5, 8, 10, 12]]) console.log(evalPlan(plan));
