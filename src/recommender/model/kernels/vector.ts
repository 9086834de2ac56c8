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

/**
 * Σ a[aOffset+i]·b[bOffset+i] for i < length, with four independent accumulators: a single running
 * sum is bound by floating-point add latency, not by the multiplies.
 */
export function dotAt(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    s0 += a[aOffset + i] * b[bOffset + i];
    s1 += a[aOffset + i + 1] * b[bOffset + i + 1];
    s2 += a[aOffset + i + 2] * b[bOffset + i + 2];
    s3 += a[aOffset + i + 3] * b[bOffset + i + 3];
  }
  for (; i < length; i++) s0 += a[aOffset + i] * b[bOffset + i];
  return s0 + s1 + s2 + s3;
}

/** out[i] += scale·x[i] over the first `length` elements. */
export function addScaled(out: Float32Array, x: Float32Array, scale: number, length: number): void {
  for (let i = 0; i < length; i++) out[i] += scale * x[i];
}

/** Clamps to [-limit, limit]; NaN stays NaN so isFiniteArray still sees it. */
export function clamp(value: number, limit: number): number {
  return value > limit ? limit : value < -limit ? -limit : value;
}

/** The index of the highest of the first `count` values, the earliest on ties: the top-ranked candidate. */
export function argmax(values: ArrayLike<number>, count = values.length): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (values[i] > values[best]) best = i;
  return best;
}
