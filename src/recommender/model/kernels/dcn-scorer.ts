import { ConfigError } from '../../../errors.js';
import {
  createCrossNetworkWorkspace,
  crossNetworkBackward,
  crossNetworkForward,
  crossNetworkSharedFirstLayer,
  initCrossNetwork,
  resolveCrossNetworkLayout,
  type CrossNetworkLayout,
  type CrossNetworkWorkspace,
} from './dcn.js';
import { createMlpWorkspace, initMlp, mlpBackward, mlpForward, resolveMlpLayout, type MlpLayout, type MlpWorkspace } from './mlp.js';
import { deriveSeed, splitmix32 } from './prng.js';
import { nonNegativeInteger, objectOrEmpty, positiveInteger, rejectUnknownKeys } from '../../../config.js';

/**
 * Scores candidates with DCN-v2: per candidate, x0 = [user row | Σ x_i·feature row_i | candidate
 * row | dense vector?] (each `dim` wide) → cross layers → MLP → scalar score.
 *
 * x0 is deliberately a few pooled blocks (3–4·dim), not every feature row concatenated: the cross
 * network runs once per candidate, and a full-rank layer costs D² multiply-adds — at D = 18·32 = 576
 * that is 331k per layer per candidate, ~13M per 20-candidate request, which no per-partition
 * online learner can afford. At D = 3·32 = 96 it is 9k (and 2·D·r with low rank).
 * Pass featureWeights 1/n for a mean of n feature rows.
 *
 * Rows may be longer than `dim` (e.g. FM rows with a trailing linear weight): only the first `dim`
 * elements are read, and gradient rows get zeros beyond `dim`.
 *
 * Dense parameters: one flat array, cross-network block first, MLP block at `mlpOffset`.
 */

export interface DcnScorerModel {
  readonly dim: number;
  readonly denseInput: boolean;
  /** Number of dim-wide blocks in x0. */
  readonly blocks: number;
  readonly inputDim: number;
  readonly cross: CrossNetworkLayout;
  readonly mlp: MlpLayout;
  readonly mlpOffset: number;
  readonly parameterCount: number;
}

export interface DcnContext {
  user: Float32Array;
  features: readonly Float32Array[];
  featureWeights: ArrayLike<number>;
  featureCount: number;
  /** Required when the model was configured with denseInput (already projected to dim). */
  dense?: Float32Array;
}

/** Where dcnScorerBackward writes (overwrites) the embedding-row gradients. */
export interface DcnRowGradients {
  user: Float32Array;
  features: readonly Float32Array[];
  candidates: readonly Float32Array[];
  dense?: Float32Array;
}

export interface DcnScorerWorkspace {
  readonly maxCandidates: number;
  /** One x0 per candidate slot, inputDim each. */
  readonly inputs: Float32Array;
  readonly cross: readonly CrossNetworkWorkspace[];
  readonly mlp: readonly MlpWorkspace[];
  /** Layer 0's candidate-independent part, once per request (crossNetworkSharedFirstLayer). */
  readonly sharedFirstLayer: Float32Array;
  readonly dCrossOutput: Float32Array;
  readonly dInput: Float32Array;
  /** Σ over candidates of dLoss/dx0 for the context blocks (user, pooled, dense). */
  readonly dContext: Float64Array;
  readonly dOutput: Float64Array;
}

export function resolveDcnScorer(input: unknown, path = '/interact/dcn'): DcnScorerModel {
  const raw = objectOrEmpty(input, path);
  rejectUnknownKeys(raw, ['dim', 'crossLayers', 'rank', 'hidden', 'denseInput'], path);
  const dim = positiveInteger(raw.dim, `${path}/dim`);
  if (raw.denseInput !== undefined && typeof raw.denseInput !== 'boolean') throw new ConfigError(`${path}/denseInput`, 'must be a boolean');
  const denseInput = raw.denseInput === true;
  const blocks = denseInput ? 4 : 3;
  const inputDim = blocks * dim;
  const cross = resolveCrossNetworkLayout(
    {
      inputDim,
      layers: raw.crossLayers === undefined ? 2 : nonNegativeInteger(raw.crossLayers, `${path}/crossLayers`),
      rank: raw.rank ?? 0,
    },
    path,
  );
  const mlp = resolveMlpLayout({ inputDim, hidden: raw.hidden ?? [64], outputDim: 1 }, path);
  return Object.freeze({
    dim,
    denseInput,
    blocks,
    inputDim,
    cross,
    mlp,
    mlpOffset: cross.parameterCount,
    parameterCount: cross.parameterCount + mlp.parameterCount,
  });
}

export function createDcnScorerWorkspace(model: DcnScorerModel, maxCandidates: number): DcnScorerWorkspace {
  if (!Number.isInteger(maxCandidates) || maxCandidates <= 0) throw new RangeError(`maxCandidates must be an integer > 0, got ${maxCandidates}`);
  return {
    maxCandidates,
    inputs: new Float32Array(maxCandidates * model.inputDim),
    cross: Array.from({ length: maxCandidates }, () => createCrossNetworkWorkspace(model.cross)),
    mlp: Array.from({ length: maxCandidates }, () => createMlpWorkspace(model.mlp)),
    sharedFirstLayer: new Float32Array(model.inputDim),
    dCrossOutput: new Float32Array(model.inputDim),
    dInput: new Float32Array(model.inputDim),
    dContext: new Float64Array(model.inputDim),
    dOutput: new Float64Array(1),
  };
}

/** Deterministic init of the dense parameters from a seed (independent streams per block). */
export function initDcnScorer(model: DcnScorerModel, parameters: Float32Array, seed: number): void {
  initCrossNetwork(model.cross, parameters, splitmix32(deriveSeed(seed, 'dcn/cross')));
  initMlp(model.mlp, parameters.subarray(model.mlpOffset), splitmix32(deriveSeed(seed, 'dcn/mlp')));
}

/** scores[c] for the first `candidateCount` candidates; keeps what dcnScorerBackward needs. */
export function dcnScorerForward(
  model: DcnScorerModel,
  parameters: Float32Array,
  workspace: DcnScorerWorkspace,
  context: DcnContext,
  candidates: readonly Float32Array[],
  scores: Float32Array,
  candidateCount: number = candidates.length,
): void {
  const { dim, inputDim } = model;
  if (candidateCount > workspace.maxCandidates) {
    throw new RangeError(`${candidateCount} candidates exceed the workspace's ${workspace.maxCandidates}`);
  }
  const inputs = workspace.inputs;
  // The context blocks are identical for every candidate: build them once in slot 0, copy after.
  const user = context.user;
  for (let k = 0; k < dim; k++) inputs[k] = user[k];
  for (let k = 0; k < dim; k++) inputs[dim + k] = 0;
  for (let f = 0; f < context.featureCount; f++) {
    const row = context.features[f];
    const x = context.featureWeights[f];
    for (let k = 0; k < dim; k++) inputs[dim + k] += x * row[k];
  }
  if (model.denseInput) {
    const dense = context.dense;
    if (!dense) throw new RangeError('the DCN scorer was configured with denseInput but the context has no dense vector');
    for (let k = 0; k < dim; k++) inputs[3 * dim + k] = dense[k];
  }
  const candidateFrom = 2 * dim;
  const candidateTo = 3 * dim;
  const shared = workspace.sharedFirstLayer;
  crossNetworkSharedFirstLayer(model.cross, parameters, inputs, 0, candidateFrom, candidateTo, shared);
  const mlpParameters = parameters.subarray(model.mlpOffset);
  for (let c = 0; c < candidateCount; c++) {
    const at = c * inputDim;
    if (c > 0) inputs.copyWithin(at, 0, inputDim);
    const candidate = candidates[c];
    for (let k = 0; k < dim; k++) inputs[at + candidateFrom + k] = candidate[k];
    const crossed = crossNetworkForward(model.cross, parameters, inputs, workspace.cross[c], at, shared, candidateFrom, candidateTo);
    scores[c] = mlpForward(model.mlp, mlpParameters, crossed, workspace.mlp[c])[0];
  }
}

/**
 * Given dScores[c] = dLoss/dScore_c for the last forward: accumulates dense-parameter gradients
 * into parameterGradients (cross block, then MLP block at mlpOffset) and overwrites the row
 * gradients. Candidates with dScores[c] === 0 are skipped — no backward, and their gradient row is
 * not written (update only candidates with a non-zero dScore) — so a logistic update on one
 * candidate costs one backward, not candidateCount.
 */
export function dcnScorerBackward(
  model: DcnScorerModel,
  parameters: Float32Array,
  workspace: DcnScorerWorkspace,
  context: DcnContext,
  dScores: ArrayLike<number>,
  parameterGradients: Float32Array,
  rowGradients: DcnRowGradients,
  candidateCount: number,
): void {
  const { dim } = model;
  const { dContext, dInput, dCrossOutput, dOutput } = workspace;
  const mlpParameters = parameters.subarray(model.mlpOffset);
  const mlpGradients = parameterGradients.subarray(model.mlpOffset);
  dContext.fill(0);
  for (let c = 0; c < candidateCount; c++) {
    const g = dScores[c];
    if (g === 0) continue;
    const out = rowGradients.candidates[c];
    dOutput[0] = g;
    mlpBackward(model.mlp, mlpParameters, workspace.mlp[c], dOutput, mlpGradients, dCrossOutput);
    crossNetworkBackward(model.cross, parameters, workspace.cross[c], dCrossOutput, parameterGradients, dInput);
    for (let k = 0; k < dim; k++) {
      dContext[k] += dInput[k];
      dContext[dim + k] += dInput[dim + k];
      out[k] = dInput[2 * dim + k];
    }
    if (model.denseInput) for (let k = 0; k < dim; k++) dContext[3 * dim + k] += dInput[3 * dim + k];
    out.fill(0, dim);
  }
  writeBlock(rowGradients.user, dContext, 0, 1, dim);
  for (let f = 0; f < context.featureCount; f++) {
    writeBlock(rowGradients.features[f], dContext, dim, context.featureWeights[f], dim);
  }
  if (model.denseInput && rowGradients.dense) writeBlock(rowGradients.dense, dContext, 3 * dim, 1, dim);
}

function writeBlock(out: Float32Array, source: Float64Array, offset: number, scale: number, dim: number): void {
  for (let k = 0; k < dim; k++) out[k] = scale * source[offset + k];
  out.fill(0, dim);
}
