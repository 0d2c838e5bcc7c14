// L2-regularised logistic regression fitted by Newton's method (IRLS), and Platt scaling. Plain
// TypeScript: the models have a few dozen features and tens of thousands of rows, where a dense
// Newton step converges in a handful of iterations and needs no learning rate.

export interface LogisticModel {
  weights: number[];
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export function logit(p: number): number {
  const q = Math.min(1 - 1e-9, Math.max(1e-9, p));
  return Math.log(q / (1 - q));
}

export function dot(w: readonly number[], x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += w[i]! * x[i]!;
  return s;
}

/**
 * Fits weights minimising mean log-loss + (lambda / 2n)·|w|² (the first column, the intercept, is
 * not penalised). Rows must all have the same length; `weights` (optional) weighs rows.
 */
export function fitLogistic(X: readonly (readonly number[])[], y: readonly number[], o: { lambda?: number; iterations?: number; rowWeights?: readonly number[] } = {}): LogisticModel {
  const d = X[0]?.length ?? 0;
  const lambda = o.lambda ?? 1;
  const w = new Array<number>(d).fill(0);
  for (let iter = 0; iter < (o.iterations ?? 25); iter++) {
    const grad = new Array<number>(d).fill(0);
    const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < X.length; i++) {
      const x = X[i]!;
      const rw = o.rowWeights?.[i] ?? 1;
      const p = sigmoid(dot(w, x));
      const r = (p - y[i]!) * rw;
      const s = Math.max(p * (1 - p), 1e-6) * rw;
      for (let a = 0; a < d; a++) {
        const xa = x[a]!;
        if (xa === 0) continue;
        grad[a]! += r * xa;
        const row = H[a]!;
        for (let b = a; b < d; b++) row[b]! += s * xa * x[b]!;
      }
    }
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < a; b++) H[a]![b] = H[b]![a]!;
      if (a > 0) {
        grad[a]! += lambda * w[a]!;
        H[a]![a]! += lambda;
      } else {
        H[a]![a]! += 1e-6;
      }
    }
    const step = solve(H, grad);
    let maxStep = 0;
    for (let a = 0; a < d; a++) {
      w[a]! -= step[a]!;
      maxStep = Math.max(maxStep, Math.abs(step[a]!));
    }
    if (maxStep < 1e-7) break;
  }
  return { weights: w };
}

/** Solves A x = b for symmetric positive definite A (Cholesky), falling back to a damped diagonal. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const L = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      if (i === j) {
        if (s <= 1e-12) s = 1e-12;
        L[i]![i] = Math.sqrt(s);
      } else {
        L[i]![j] = s / L[j]![j]!;
      }
    }
  }
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i]![k]! * z[k]!;
    z[i] = s / L[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k]![i]! * x[k]!;
    x[i] = s / L[i]![i]!;
  }
  return x;
}

/** Platt scaling: p' = σ(a·logit(p) + b), fitted on held-out predictions. */
export interface Platt {
  a: number;
  b: number;
}

export const IDENTITY_PLATT: Platt = { a: 1, b: 0 };

export function fitPlatt(p: readonly number[], y: readonly number[]): Platt {
  const m = fitLogistic(p.map((q) => [1, logit(q)]), y, { lambda: 1e-3 });
  return { a: m.weights[1]!, b: m.weights[0]! };
}

export function applyPlatt(platt: Platt, p: number): number {
  return sigmoid(platt.a * logit(p) + platt.b);
}
