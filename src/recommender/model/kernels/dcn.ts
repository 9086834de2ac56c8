import { ConfigError } from '../../../errors.js';
import { fillGlorotUniform, type Random } from './prng.js';
import { dotAt } from './vector.js';
import { nonNegativeInteger, objectOrEmpty, positiveInteger, rejectUnknownKeys } from '../../../config.js';

/**
 * DCN-v2 cross layers (Wang et al. 2021): x_{l+1} = x0 ⊙ (W_l x_l + b_l) + x_l.
 * Full rank: W_l is D×D. Low rank (rank r > 0): W_l = U_l V_lᵀ with U_l, V_l D×r, so a layer costs
 * 2·D·r instead of D² multiply-adds.
 *
 * All layer weights live in one flat Float32Array (so one dense optimizer call updates them), laid
 * out per layer as [W (D×D row-major, W[i·D+j] = W_ij), b (D)] or [U (D×r), V (D×r), b (D)].
 * Gradients have the same layout and are ACCUMULATED (a request backpropagates once per scored
 * candidate into the same shared weights); the caller zeroes them per update.
 */

export interface CrossNetworkLayout {
  readonly inputDim: number;
  readonly layers: number;
  /** 0 = full rank. */
  readonly rank: number;
  readonly parameterCount: number;
  /** Start of each layer's block in the flat parameter array. */
  readonly layerOffsets: readonly number[];
}

/** Per-forward intermediates a backward pass needs; create one per candidate slot, once per task. */
export interface CrossNetworkWorkspace {
  /** x_0 … x_L, each inputDim long. */
  readonly activations: Float32Array;
  /** W_l x_l + b_l per layer. */
  readonly crossTerms: Float32Array;
  /** V_lᵀ x_l per layer (low rank only). */
  readonly projections: Float32Array;
  /** View of x_L. */
  readonly output: Float32Array;
  readonly gradient: Float64Array;
  readonly previousGradient: Float64Array;
  readonly crossTermGradient: Float64Array;
  readonly projectionGradient: Float64Array;
}

export function resolveCrossNetworkLayout(input: unknown, path = '/interact/cross'): CrossNetworkLayout {
  const raw = objectOrEmpty(input, path);
  rejectUnknownKeys(raw, ['inputDim', 'layers', 'rank'], path);
  const inputDim = positiveInteger(raw.inputDim, `${path}/inputDim`);
  const layers = nonNegativeInteger(raw.layers, `${path}/layers`);
  const rank = raw.rank === undefined ? 0 : nonNegativeInteger(raw.rank, `${path}/rank`);
  if (rank >= inputDim) throw new ConfigError(`${path}/rank`, `must be < inputDim (${inputDim}); use 0 for full rank`);
  const layerSize = rank === 0 ? inputDim * inputDim + inputDim : 2 * inputDim * rank + inputDim;
  const layerOffsets = Array.from({ length: layers }, (_, l) => l * layerSize);
  return Object.freeze({ inputDim, layers, rank, parameterCount: layers * layerSize, layerOffsets: Object.freeze(layerOffsets) });
}

export function createCrossNetworkWorkspace(layout: CrossNetworkLayout): CrossNetworkWorkspace {
  const { inputDim, layers, rank } = layout;
  const activations = new Float32Array((layers + 1) * inputDim);
  return {
    activations,
    crossTerms: new Float32Array(Math.max(layers, 1) * inputDim),
    projections: new Float32Array(Math.max(layers * rank, 1)),
    output: activations.subarray(layers * inputDim),
    gradient: new Float64Array(inputDim),
    previousGradient: new Float64Array(inputDim),
    crossTermGradient: new Float64Array(inputDim),
    projectionGradient: new Float64Array(Math.max(rank, 1)),
  };
}

/**
 * Glorot-uniform W (or U and V, scaled so U Vᵀ has roughly the full-rank variance) and zero b:
 * with zero b and small W each layer starts close to the identity through its residual.
 */
export function initCrossNetwork(layout: CrossNetworkLayout, parameters: Float32Array, random: Random): void {
  const { inputDim: d, rank } = layout;
  parameters.fill(0, 0, layout.parameterCount);
  for (const offset of layout.layerOffsets) {
    if (rank === 0) {
      fillGlorotUniform(parameters, random, d, d, offset);
    } else {
      fillGlorotUniform(parameters, random, rank, d, offset);
      fillGlorotUniform(parameters, random, d, rank, offset + d * rank);
    }
  }
}

/**
 * The part of layer 0 that does not depend on input[varyingFrom, varyingTo): for full rank
 * b_0 + Σ_{j outside} W_0[:, j]·x0_j (inputDim floats), for low rank Σ_{j outside} V_0[j, :]·x0_j
 * (rank floats). When only one block of x0 changes between calls (the candidate, in a scorer), this
 * is computed once and crossNetworkForward adds the varying block alone, which saves most of layer
 * 0 (for an x0 of n blocks of which the candidate is one, all but 1/n of it).
 */
export function crossNetworkSharedFirstLayer(
  layout: CrossNetworkLayout,
  parameters: Float32Array,
  input: Float32Array,
  inputOffset: number,
  varyingFrom: number,
  varyingTo: number,
  out: Float32Array,
): void {
  const { inputDim: d, rank } = layout;
  if (layout.layers === 0) return;
  const base = layout.layerOffsets[0];
  if (rank === 0) {
    const bias = base + d * d;
    for (let i = 0; i < d; i++) {
      const row = base + i * d;
      out[i] =
        parameters[bias + i] +
        dotAt(parameters, row, input, inputOffset, varyingFrom) +
        dotAt(parameters, row + varyingTo, input, inputOffset + varyingTo, d - varyingTo);
    }
  } else {
    const v = base + d * rank;
    for (let k = 0; k < rank; k++) out[k] = 0;
    for (let j = 0; j < d; j++) {
      if (j === varyingFrom) j = varyingTo;
      if (j >= d) break;
      const xj = input[inputOffset + j];
      const row = v + j * rank;
      for (let k = 0; k < rank; k++) out[k] += parameters[row + k] * xj;
    }
  }
}

/**
 * Runs the cross layers on x0 = input[inputOffset, inputOffset + D); the result is
 * workspace.output. With `sharedFirstLayer` (from crossNetworkSharedFirstLayer on an x0 that agrees
 * with this one outside [varyingFrom, varyingTo)), layer 0 only adds the varying block.
 */
export function crossNetworkForward(
  layout: CrossNetworkLayout,
  parameters: Float32Array,
  input: Float32Array,
  workspace: CrossNetworkWorkspace,
  inputOffset = 0,
  sharedFirstLayer?: Float32Array,
  varyingFrom = 0,
  varyingTo = layout.inputDim,
): Float32Array {
  const { inputDim: d, layers, rank } = layout;
  const { activations: x, crossTerms: y, projections: h } = workspace;
  for (let i = 0; i < d; i++) x[i] = input[inputOffset + i];
  for (let l = 0; l < layers; l++) {
    const base = layout.layerOffsets[l];
    const xl = l * d;
    const yl = l * d;
    const next = xl + d;
    const shared = l === 0 ? sharedFirstLayer : undefined;
    if (rank === 0) {
      const bias = base + d * d;
      if (shared) {
        const width = varyingTo - varyingFrom;
        for (let i = 0; i < d; i++) y[i] = shared[i] + dotAt(parameters, base + i * d + varyingFrom, x, varyingFrom, width);
      } else {
        for (let i = 0; i < d; i++) y[yl + i] = parameters[bias + i] + dotAt(parameters, base + i * d, x, xl, d);
      }
    } else {
      const u = base;
      const v = base + d * rank;
      const bias = base + 2 * d * rank;
      const hl = l * rank;
      const from = shared ? varyingFrom : 0;
      const to = shared ? varyingTo : d;
      for (let k = 0; k < rank; k++) h[hl + k] = shared ? shared[k] : 0;
      for (let j = from; j < to; j++) {
        const xj = x[xl + j];
        const row = v + j * rank;
        for (let k = 0; k < rank; k++) h[hl + k] += parameters[row + k] * xj;
      }
      for (let i = 0; i < d; i++) y[yl + i] = parameters[bias + i] + dotAt(parameters, u + i * rank, h, hl, rank);
    }
    for (let i = 0; i < d; i++) x[next + i] = x[i] * y[yl + i] + x[xl + i];
  }
  return workspace.output;
}

/**
 * Backpropagates dOutput = dLoss/dx_L through the layers of the last forward on this workspace:
 * adds weight gradients into `parameterGradients` and overwrites dInput[dInputOffset, +D) with
 * dLoss/dx0 (both routes: x0 as the first layer's input and x0 in every Hadamard product).
 */
export function crossNetworkBackward(
  layout: CrossNetworkLayout,
  parameters: Float32Array,
  workspace: CrossNetworkWorkspace,
  dOutput: ArrayLike<number>,
  parameterGradients: Float32Array,
  dInput: Float32Array,
  dInputOffset = 0,
): void {
  const { inputDim: d, layers, rank } = layout;
  const { activations: x, crossTerms: y, projections: h, crossTermGradient: dy, projectionGradient: dh } = workspace;
  let dx = workspace.gradient;
  let dxPrevious = workspace.previousGradient;
  for (let i = 0; i < d; i++) {
    dx[i] = dOutput[i];
    dInput[dInputOffset + i] = 0;
  }
  for (let l = layers - 1; l >= 0; l--) {
    const base = layout.layerOffsets[l];
    const xl = l * d;
    const yl = l * d;
    for (let i = 0; i < d; i++) {
      dy[i] = dx[i] * x[i];
      dInput[dInputOffset + i] += dx[i] * y[yl + i];
      dxPrevious[i] = dx[i];
    }
    if (rank === 0) {
      const bias = base + d * d;
      for (let i = 0; i < d; i++) {
        const dyi = dy[i];
        parameterGradients[bias + i] += dyi;
        if (dyi === 0) continue;
        const row = base + i * d;
        for (let j = 0; j < d; j++) {
          parameterGradients[row + j] += dyi * x[xl + j];
          dxPrevious[j] += parameters[row + j] * dyi;
        }
      }
    } else {
      const u = base;
      const v = base + d * rank;
      const bias = base + 2 * d * rank;
      const hl = l * rank;
      for (let k = 0; k < rank; k++) dh[k] = 0;
      for (let i = 0; i < d; i++) {
        const dyi = dy[i];
        parameterGradients[bias + i] += dyi;
        const row = u + i * rank;
        for (let k = 0; k < rank; k++) {
          parameterGradients[row + k] += dyi * h[hl + k];
          dh[k] += parameters[row + k] * dyi;
        }
      }
      for (let j = 0; j < d; j++) {
        const xj = x[xl + j];
        const row = v + j * rank;
        let sum = 0;
        for (let k = 0; k < rank; k++) {
          parameterGradients[row + k] += xj * dh[k];
          sum += parameters[row + k] * dh[k];
        }
        dxPrevious[j] += sum;
      }
    }
    const swap = dx;
    dx = dxPrevious;
    dxPrevious = swap;
  }
  for (let i = 0; i < d; i++) dInput[dInputOffset + i] += dx[i];
}
