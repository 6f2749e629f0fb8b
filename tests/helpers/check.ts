// Numerical checks shared by every op test: closeness with stated tolerances, float64 finite differences, and
// rounding inputs through f32 so the reference sees exactly what the GPU sees.
import { expect } from 'vitest';

export interface Tol {
  atol: number;
  rtol: number;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise. On failure names the worst element, its
 * index and both values. Also fails on any NaN/Inf in `actual` where `expected` is finite.
 */
export function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol): void {
  expect(actual.length, `${name}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const lim = tol.atol + tol.rtol * Math.abs(e);
    const err = Math.abs(a - e);
    if (!(err <= lim)) {
      bad++;
      const excess = Number.isFinite(err) ? err / lim : Infinity;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad > 0) {
    expect.fail(
      `${name}: ${bad}/${expected.length} elements outside atol=${tol.atol} rtol=${tol.rtol}; worst at [${worst}]: ` +
        `got ${actual[worst]}, expected ${expected[worst]}`,
    );
  }
}

/** Rounds every element through f32, returning float64 (what the GPU stores). */
export function roundF32(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(a));
}

/**
 * Checks an analytic gradient against float64 central differences of a scalar function.
 * `f(x)` computes the scalar loss from input `x` (modified in place and restored). `grad` is the analytic
 * gradient at `x`. Samples up to `maxChecks` indices (all if fewer).
 */
export function checkGradFD(
  name: string,
  f: (x: Float64Array) => number,
  x: Float64Array,
  grad: ArrayLike<number>,
  { eps = 1e-6, atol = 1e-7, rtol = 1e-5, maxChecks = 64 }: { eps?: number; atol?: number; rtol?: number; maxChecks?: number } = {},
): void {
  const n = x.length;
  const step = Math.max(1, Math.floor(n / maxChecks));
  const idx: number[] = [];
  for (let i = 0; i < n; i += step) idx.push(i);
  const num: number[] = [];
  const ana: number[] = [];
  for (const i of idx) {
    const x0 = x[i];
    x[i] = x0 + eps;
    const fp = f(x);
    x[i] = x0 - eps;
    const fm = f(x);
    x[i] = x0;
    num.push((fp - fm) / (2 * eps));
    ana.push(grad[i]);
  }
  expectClose(`${name} (finite differences at ${idx.length} indices)`, ana, num, { atol, rtol });
}

/** Σ w·y: a scalar loss with random weights w turns any op into a gradient check (dy = w). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
