// Evaluation of probabilistic predictions: ROC AUC (ranking), Brier score (squared error of the
// probability) and expected calibration error (ECE over equal-width bins). Pure functions.

export interface Evaluation {
  n: number;
  positives: number;
  auc: number;
  brier: number;
  /** Expected calibration error: |mean predicted − observed rate| per bin, weighted by the bin's share. */
  calibrationError: number;
  logLoss: number;
}

/** ROC AUC by the rank-sum (Mann–Whitney) formula, ties counted half. 0.5 when one class is missing. */
export function rocAuc(p: readonly number[], y: readonly number[]): number {
  const idx = p.map((_, i) => i).sort((a, b) => p[a]! - p[b]!);
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && p[idx[j + 1]!] === p[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[idx[k]!] === 1) {
      rankSumPos += rank;
      pos++;
    }
    i = j + 1;
  }
  const neg = p.length - pos;
  if (pos === 0 || neg === 0) return 0.5;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * The standard error of a ROC AUC of `auc` over `pos` positives and `neg` negatives (Hanley & McNeil
 * 1982): how far an AUC moves by the luck of which retries were held out.
 */
export function aucStandardError(auc: number, pos: number, neg: number): number {
  if (pos === 0 || neg === 0) return Infinity;
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  return Math.sqrt((auc * (1 - auc) + (pos - 1) * (q1 - auc * auc) + (neg - 1) * (q2 - auc * auc)) / (pos * neg));
}

export function brierScore(p: readonly number[], y: readonly number[]): number {
  if (p.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - y[i]!) ** 2;
  return s / p.length;
}

export function calibrationError(p: readonly number[], y: readonly number[], bins = 10): number {
  if (p.length === 0) return 0;
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  const count = new Array<number>(bins).fill(0);
  for (let i = 0; i < p.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i]! * bins)));
    sumP[b]! += p[i]!;
    sumY[b]! += y[i]!;
    count[b]!++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) ece += Math.abs(sumP[b]! - sumY[b]!) / p.length;
  return ece;
}

export function logLoss(p: readonly number[], y: readonly number[]): number {
  if (p.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - 1e-9, Math.max(1e-9, p[i]!));
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / p.length;
}

export function evaluate(p: readonly number[], y: readonly number[]): Evaluation {
  return {
    n: p.length,
    positives: y.reduce((a, b) => a + b, 0),
    auc: rocAuc(p, y),
    brier: brierScore(p, y),
    calibrationError: calibrationError(p, y),
    logLoss: logLoss(p, y),
  };
}
