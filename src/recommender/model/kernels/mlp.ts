import { ConfigError } from '../../../errors.js';
import { fillGlorotUniform, type Random } from './prng.js';
import { dotAt } from './vector.js';
import { objectOrEmpty, positiveInteger, rejectUnknownKeys } from '../../../config.js';

/**
 * A small fully connected network: ReLU hidden layers, linear output. With no hidden layers it is
 * a plain linear map, which is also how a dense text vector is projected to the embedding dim.
 *
 * Flat parameter layout per layer: [W (out×in row-major, W[o·in+i]), b (out)]. Gradients have the
 * same layout and are ACCUMULATED; the caller zeroes them per update.
 */

export interface MlpLayout {
  readonly inputDim: number;
  readonly hidden: readonly number[];
  readonly outputDim: number;
  /** Width of every layer including input and output: [inputDim, ...hidden, outputDim]. */
  readonly widths: readonly number[];
  readonly layerOffsets: readonly number[];
  readonly activationOffsets: readonly number[];
  readonly parameterCount: number;
}

export interface MlpWorkspace {
  /** Input, post-ReLU hidden activations and output, concatenated. */
  readonly activations: Float32Array;
  readonly output: Float32Array;
  readonly delta: Float64Array;
  readonly previousDelta: Float64Array;
}

export function resolveMlpLayout(input: unknown, path = '/interact/mlp'): MlpLayout {
  const raw = objectOrEmpty(input, path);
  rejectUnknownKeys(raw, ['inputDim', 'hidden', 'outputDim'], path);
  const inputDim = positiveInteger(raw.inputDim, `${path}/inputDim`);
  const outputDim = raw.outputDim === undefined ? 1 : positiveInteger(raw.outputDim, `${path}/outputDim`);
  if (raw.hidden !== undefined && !Array.isArray(raw.hidden)) throw new ConfigError(`${path}/hidden`, 'must be an array of layer widths');
  const hidden = ((raw.hidden as unknown[] | undefined) ?? []).map((width, i) => positiveInteger(width, `${path}/hidden/${i}`));
  const widths = [inputDim, ...hidden, outputDim];
  const layerOffsets: number[] = [];
  const activationOffsets: number[] = [0];
  let parameterCount = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    layerOffsets.push(parameterCount);
    parameterCount += widths[l] * widths[l + 1] + widths[l + 1];
    activationOffsets.push(activationOffsets[l] + widths[l]);
  }
  return Object.freeze({
    inputDim,
    hidden: Object.freeze(hidden),
    outputDim,
    widths: Object.freeze(widths),
    layerOffsets: Object.freeze(layerOffsets),
    activationOffsets: Object.freeze(activationOffsets),
    parameterCount,
  });
}

export function createMlpWorkspace(layout: MlpLayout): MlpWorkspace {
  const total = layout.widths.reduce((sum, width) => sum + width, 0);
  const widest = Math.max(...layout.widths);
  const activations = new Float32Array(total);
  return {
    activations,
    output: activations.subarray(total - layout.outputDim),
    delta: new Float64Array(widest),
    previousDelta: new Float64Array(widest),
  };
}

/** Glorot-uniform weights, zero biases. */
export function initMlp(layout: MlpLayout, parameters: Float32Array, random: Random): void {
  parameters.fill(0, 0, layout.parameterCount);
  for (let l = 0; l < layout.layerOffsets.length; l++) {
    fillGlorotUniform(parameters, random, layout.widths[l], layout.widths[l + 1], layout.layerOffsets[l]);
  }
}

/** Forward on input[inputOffset, +inputDim); the result is workspace.output. */
export function mlpForward(
  layout: MlpLayout,
  parameters: Float32Array,
  input: Float32Array,
  workspace: MlpWorkspace,
  inputOffset = 0,
): Float32Array {
  const { widths, layerOffsets, activationOffsets } = layout;
  const a = workspace.activations;
  for (let i = 0; i < layout.inputDim; i++) a[i] = input[inputOffset + i];
  const last = layerOffsets.length - 1;
  for (let l = 0; l <= last; l++) {
    const fanIn = widths[l];
    const fanOut = widths[l + 1];
    const w = layerOffsets[l];
    const b = w + fanIn * fanOut;
    const inAt = activationOffsets[l];
    const outAt = activationOffsets[l + 1];
    for (let o = 0; o < fanOut; o++) {
      const sum = parameters[b + o] + dotAt(parameters, w + o * fanIn, a, inAt, fanIn);
      a[outAt + o] = l < last && sum < 0 ? 0 : sum;
    }
  }
  return workspace.output;
}

/**
 * Backpropagates dOutput through the last forward on this workspace: accumulates weight gradients
 * and, when dInput is given, overwrites dInput[dInputOffset, +inputDim) with dLoss/dInput.
 */
export function mlpBackward(
  layout: MlpLayout,
  parameters: Float32Array,
  workspace: MlpWorkspace,
  dOutput: ArrayLike<number>,
  parameterGradients: Float32Array,
  dInput?: Float32Array,
  dInputOffset = 0,
): void {
  const { widths, layerOffsets, activationOffsets } = layout;
  const a = workspace.activations;
  let delta = workspace.delta;
  let previous = workspace.previousDelta;
  for (let o = 0; o < layout.outputDim; o++) delta[o] = dOutput[o];
  for (let l = layerOffsets.length - 1; l >= 0; l--) {
    const fanIn = widths[l];
    const fanOut = widths[l + 1];
    const w = layerOffsets[l];
    const b = w + fanIn * fanOut;
    const inAt = activationOffsets[l];
    for (let i = 0; i < fanIn; i++) previous[i] = 0;
    for (let o = 0; o < fanOut; o++) {
      const g = delta[o];
      if (g === 0) continue;
      parameterGradients[b + o] += g;
      const row = w + o * fanIn;
      for (let i = 0; i < fanIn; i++) {
        parameterGradients[row + i] += g * a[inAt + i];
        previous[i] += parameters[row + i] * g;
      }
    }
    // ReLU gate of the layer below (the input layer has none): a zero activation passed no gradient.
    if (l > 0) for (let i = 0; i < fanIn; i++) if (a[inAt + i] <= 0) previous[i] = 0;
    const swap = delta;
    delta = previous;
    previous = swap;
  }
  if (dInput) for (let i = 0; i < layout.inputDim; i++) dInput[dInputOffset + i] = delta[i];
}
