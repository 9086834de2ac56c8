import { ConfigError } from '../../../errors.js';
import { nonNegative, objectOrEmpty, optionalNumber, positive, rejectUnknownKeys } from '../../../config.js';

/**
 * Optimizers as plain in-place functions over Float32Array.
 *
 * Sparse rows (embedding rows in the store): `values` are the weights, `slots` the optimizer state
 * beside them (slotCount × values.length floats, all zero for a fresh row). Only rows an event
 * touched are updated, so L2 here is lazy: it shrinks a row when it is used, not on every event.
 *   AdaGrad — 1 slot: squared-gradient accumulator.
 *   FTRL-Proximal — 2 slots: z at [0, n), n (squared-gradient sum) at [len, 2·len).
 * Dense shared weights: adagradUpdate (same function as the row form) and adamUpdate.
 *
 * Every gradient coordinate is first clipped to ±gradientClip, so a single extreme record cannot
 * move a weight arbitrarily far; a NaN gradient is not masked (check with isFiniteArray first).
 */

export const ADAGRAD_SLOT_COUNT = 1;
export const FTRL_SLOT_COUNT = 2;

export interface AdagradConfig {
  readonly learningRate: number;
  /** Added to the accumulator so a zero-initialised slot does not turn the first step into lr·sign(g). */
  readonly initialAccumulator: number;
  readonly l2: number;
  readonly gradientClip: number;
}

export interface FtrlConfig {
  /** α in McMahan et al. 2013: the per-coordinate learning rate is α / (β + √n). */
  readonly learningRate: number;
  readonly beta: number;
  readonly l1: number;
  readonly l2: number;
  readonly gradientClip: number;
}

export interface AdamConfig {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly l2: number;
  readonly gradientClip: number;
}

const DEFAULT_GRADIENT_CLIP = 10;

export function resolveAdagradConfig(input: unknown, path = '/update'): AdagradConfig {
  const raw = objectOrEmpty(input, path);
  rejectUnknownKeys(raw, ['learningRate', 'initialAccumulator', 'l2', 'gradientClip'], path);
  return Object.freeze({
    learningRate: positive(optionalNumber(raw.learningRate, `${path}/learningRate`, 0.05), `${path}/learningRate`),
    initialAccumulator: positive(optionalNumber(raw.initialAccumulator, `${path}/initialAccumulator`, 0.1), `${path}/initialAccumulator`),
    l2: nonNegative(optionalNumber(raw.l2, `${path}/l2`, 0), `${path}/l2`),
    gradientClip: positive(optionalNumber(raw.gradientClip, `${path}/gradientClip`, DEFAULT_GRADIENT_CLIP), `${path}/gradientClip`),
  });
}

export function resolveFtrlConfig(input: unknown, path = '/update'): FtrlConfig {
  const raw = objectOrEmpty(input, path);
  rejectUnknownKeys(raw, ['learningRate', 'beta', 'l1', 'l2', 'gradientClip'], path);
  return Object.freeze({
    learningRate: positive(optionalNumber(raw.learningRate, `${path}/learningRate`, 0.05), `${path}/learningRate`),
    beta: nonNegative(optionalNumber(raw.beta, `${path}/beta`, 1), `${path}/beta`),
    l1: nonNegative(optionalNumber(raw.l1, `${path}/l1`, 0), `${path}/l1`),
    l2: nonNegative(optionalNumber(raw.l2, `${path}/l2`, 0), `${path}/l2`),
    gradientClip: positive(optionalNumber(raw.gradientClip, `${path}/gradientClip`, DEFAULT_GRADIENT_CLIP), `${path}/gradientClip`),
  });
}

export function resolveAdamConfig(input: unknown, path = '/update/dense'): AdamConfig {
  const raw = objectOrEmpty(input, path);
  rejectUnknownKeys(raw, ['learningRate', 'beta1', 'beta2', 'epsilon', 'l2', 'gradientClip'], path);
  const beta1 = nonNegative(optionalNumber(raw.beta1, `${path}/beta1`, 0.9), `${path}/beta1`);
  const beta2 = nonNegative(optionalNumber(raw.beta2, `${path}/beta2`, 0.999), `${path}/beta2`);
  if (beta1 >= 1) throw rangeError(`${path}/beta1`, beta1);
  if (beta2 >= 1) throw rangeError(`${path}/beta2`, beta2);
  return Object.freeze({
    learningRate: positive(optionalNumber(raw.learningRate, `${path}/learningRate`, 0.001), `${path}/learningRate`),
    beta1,
    beta2,
    epsilon: positive(optionalNumber(raw.epsilon, `${path}/epsilon`, 1e-8), `${path}/epsilon`),
    l2: nonNegative(optionalNumber(raw.l2, `${path}/l2`, 0), `${path}/l2`),
    gradientClip: positive(optionalNumber(raw.gradientClip, `${path}/gradientClip`, DEFAULT_GRADIENT_CLIP), `${path}/gradientClip`),
  });
}

/**
 * AdaGrad step on values[0, length): for a sparse row pass its slots as `accumulators`; for dense
 * weights pass their own accumulator array. g' = clip(g) + l2·w; acc += g'²; w −= lr·g'/√(acc + acc0).
 */
export function adagradUpdate(
  values: Float32Array,
  accumulators: Float32Array,
  gradient: ArrayLike<number>,
  config: AdagradConfig,
  length: number = values.length,
): void {
  const { learningRate, initialAccumulator, l2, gradientClip } = config;
  for (let i = 0; i < length; i++) {
    let g = gradient[i];
    g = g > gradientClip ? gradientClip : g < -gradientClip ? -gradientClip : g;
    const w = values[i];
    g += l2 * w;
    const accumulator = accumulators[i] + g * g;
    accumulators[i] = accumulator;
    values[i] = w - (learningRate * g) / Math.sqrt(accumulator + initialAccumulator);
  }
}

/**
 * FTRL-Proximal step on values[0, length) with z = slots[0, length), n = slots[length, 2·length).
 * A coordinate whose n is still 0 first gets z chosen so the closed form reproduces its current
 * weight: without that, the first update would discard the row's random initialisation (which FM
 * factors need to break symmetry). l1 makes weights exactly 0 while |z| ≤ l1.
 */
export function ftrlUpdate(
  values: Float32Array,
  slots: Float32Array,
  gradient: ArrayLike<number>,
  config: FtrlConfig,
  length: number = values.length,
): void {
  const { learningRate: alpha, beta, l1, l2, gradientClip } = config;
  const initialDenominator = beta / alpha + l2;
  for (let i = 0; i < length; i++) {
    let g = gradient[i];
    g = g > gradientClip ? gradientClip : g < -gradientClip ? -gradientClip : g;
    const w = values[i];
    let z = slots[i];
    const n = slots[length + i];
    if (n === 0) z = w > 0 ? -w * initialDenominator - l1 : w < 0 ? -w * initialDenominator + l1 : 0;
    const nextN = n + g * g;
    const sqrtNextN = Math.sqrt(nextN);
    z += g - ((sqrtNextN - Math.sqrt(n)) / alpha) * w;
    slots[i] = z;
    slots[length + i] = nextN;
    if (z <= l1 && z >= -l1) {
      values[i] = 0;
    } else {
      values[i] = -(z - (z > 0 ? l1 : -l1)) / ((beta + sqrtNextN) / alpha + l2);
    }
  }
}

/** Adam moments and the step counter its bias correction needs; one per dense weight array. */
export interface AdamState {
  readonly m: Float32Array;
  readonly v: Float32Array;
  step: number;
}

export function createAdamState(size: number): AdamState {
  return { m: new Float32Array(size), v: new Float32Array(size), step: 0 };
}

/** Adam step on all of `values` (L2 added to the gradient, as in classic Adam, not AdamW). */
export function adamUpdate(
  values: Float32Array,
  state: AdamState,
  gradient: ArrayLike<number>,
  config: AdamConfig,
  length: number = values.length,
): void {
  const { learningRate, beta1, beta2, epsilon, l2, gradientClip } = config;
  const { m, v } = state;
  state.step += 1;
  const correction1 = 1 - Math.pow(beta1, state.step);
  const correction2 = 1 - Math.pow(beta2, state.step);
  const stepSize = learningRate / correction1;
  for (let i = 0; i < length; i++) {
    let g = gradient[i];
    g = g > gradientClip ? gradientClip : g < -gradientClip ? -gradientClip : g;
    const w = values[i];
    g += l2 * w;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    values[i] = w - (stepSize * mi) / (Math.sqrt(vi / correction2) + epsilon);
  }
}

function rangeError(path: string, value: number): ConfigError {
  return new ConfigError(path, `must be < 1, got ${value}`);
}
