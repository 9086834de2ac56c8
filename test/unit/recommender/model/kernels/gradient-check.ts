/** Central finite differences for the kernel tests: the reference every backward pass is held to. */

export interface GradientMismatch {
  index: number;
  analytic: number;
  numeric: number;
}

/**
 * Perturbs parameters[i] by ±epsilon (restoring it after) and compares (L+ − L−)/(x+ − x−) with
 * analytic[i]. The denominator uses the values actually stored, since float32 rounds x ± ε.
 * `loss` must recompute everything from `parameters` and accumulate in float64.
 */
export function finiteDifferenceMismatches(
  parameters: Float32Array,
  analytic: ArrayLike<number>,
  loss: () => number,
  options: { epsilon?: number; relativeTolerance?: number; absoluteTolerance?: number; length?: number } = {},
): GradientMismatch[] {
  const epsilon = options.epsilon ?? 1e-2;
  const rtol = options.relativeTolerance ?? 1e-2;
  const atol = options.absoluteTolerance ?? 1e-3;
  const length = options.length ?? parameters.length;
  const mismatches: GradientMismatch[] = [];
  for (let i = 0; i < length; i++) {
    const original = parameters[i];
    parameters[i] = original + epsilon;
    const up = parameters[i];
    const lossUp = loss();
    parameters[i] = original - epsilon;
    const down = parameters[i];
    const lossDown = loss();
    parameters[i] = original;
    const numeric = (lossUp - lossDown) / (up - down);
    const a = analytic[i];
    if (!(Math.abs(a - numeric) <= rtol * Math.max(Math.abs(a), Math.abs(numeric)) + atol)) {
      mismatches.push({ index: i, analytic: a, numeric });
    }
  }
  return mismatches;
}

/** Random values in (-scale, scale) from a seeded stream, for test fixtures. */
export function randomArray(length: number, next: () => number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (2 * next() - 1) * scale;
  return out;
}

/** Σ r_c · s_c in float64: a loss whose dLoss/ds_c is exactly r_c. */
export function weightedSum(values: ArrayLike<number>, weights: ArrayLike<number>, count = weights.length): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += values[i] * weights[i];
  return sum;
}
