/**
 * Small Float32Array helpers shared by the kernels. Accumulations run in JS numbers (float64) and
 * are rounded once on store, so long dot products do not drift in float32.
 */

/**
 * True when every element of `values[offset, offset+length)` is finite. Kernels never throw on a
 * NaN/Inf (that would cost a branch per element in the hot loop); callers check gradients or
 * scores with this before writing rows back, and dead-letter the record instead.
 */
export function isFiniteArray(values: ArrayLike<number>, offset = 0, length = values.length - offset): boolean {
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    // (x - x) is NaN for both NaN and ±Infinity, 0 otherwise: one comparison per element.
    if (values[i] - values[i] !== 0) return false;
  }
  return true;
}

/** Σ a[i]·b[i] over the first `length` elements. */
export function dot(a: Float32Array, b: Float32Array, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += a[i] * b[i];
  return sum;
}

/** out[i] += scale·x[i] over the first `length` elements. */
export function addScaled(out: Float32Array, x: Float32Array, scale: number, length: number): void {
  for (let i = 0; i < length; i++) out[i] += scale * x[i];
}

/** Clamps to [-limit, limit]; NaN stays NaN so isFiniteArray still sees it. */
export function clamp(value: number, limit: number): number {
  return value > limit ? limit : value < -limit ? -limit : value;
}
