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
import { nonEmptyString, nonNegativeInteger, objectOrEmpty, positiveInteger, rejectUnknownKeys } from '../../../config.js';

/**
 * Scores candidates with DCN-v2: per candidate, x0 = [user row | one slot per configured field |
 * the other features | candidate row | dense vector?] (each `dim` wide) → cross layers → MLP →
 * scalar score. A slot is the weighted mean of its features' rows, Σ x_i·row_i / n over its n rows
 * (zero when it has none).
 *
 * Field slots are why DCN fits trajectories: pooled into one mean, the previous action was one row
 * among 20–40 text n-grams, so no cross layer could pair it with the candidate. With a slot of its
 * own, W_l can weigh prev_action × candidate like any other block pair (opt-in: see DEFAULT_DCN_FIELDS). A feature's field is the
 * part of its key before '=' (featureField in features/feature-keys.ts); the caller maps features
 * to slots, this kernel only sees slot indices.
 *
 * x0 stays a few blocks (3 + fields), not every feature row concatenated: the cross network runs
 * once per candidate, and a full-rank layer costs D² multiply-adds — at D = 18·32 = 576 that is 331k
 * per layer per candidate, which no per-partition online learner can afford. With the five
 * TRAJECTORY_DCN_FIELDS D = 8·32 = 256 (a low rank makes it 2·D·r). `fields: []` (the default) is
 * the earlier layout exactly: [user | mean of all features | candidate | dense?].
 *
 * Rows may be longer than `dim` (e.g. FM rows with a trailing linear weight): only the first `dim`
 * elements are read, and gradient rows get zeros beyond `dim`.
 *
 * Dense parameters: one flat array, cross-network block first, MLP block at `mlpOffset`. Their
 * count follows from dim, the fields, denseInput, the layers and the rank alone, so a stored
 * array of another length means other options wrote it.
 */

/**
 * No field slots unless configured: on the transcript fixture and the simulator, slots for the
 * trajectory fields did not beat one pooled mean (bench/README.md) and cost ~5× at full rank.
 */
export const DEFAULT_DCN_FIELDS: readonly string[] = Object.freeze([]);

/** What the session did last and the request's tool and domain: the slots a trajectory model would opt into. */
export const TRAJECTORY_DCN_FIELDS: readonly string[] = Object.freeze(['prev_action', 'prev2', 'last_outcome', 'tool', 'domain']);

/** Each field widens x0 by dim, and a full-rank cross layer costs x0's width squared per candidate. */
export const MAX_DCN_FIELDS = 16;

export interface DcnScorerModel {
  readonly dim: number;
  readonly denseInput: boolean;
  /** Feature fields with a slot of their own, in x0 order. */
  readonly fields: readonly string[];
  /** Slots features are pooled into: one per field, then the rest (slot fields.length). */
  readonly featureSlots: number;
  /** Number of dim-wide blocks in x0. */
  readonly blocks: number;
  readonly inputDim: number;
  /** Where x0's candidate block starts (the user block is at 0, slot s at dim·(1 + s)). */
  readonly candidateOffset: number;
  /** Where x0's dense block starts; -1 without denseInput. */
  readonly denseOffset: number;
  readonly cross: CrossNetworkLayout;
  readonly mlp: MlpLayout;
  readonly mlpOffset: number;
  readonly parameterCount: number;
}

export interface DcnContext {
  user: Float32Array;
  features: readonly Float32Array[];
  /** x_i of each feature row (its slot's mean divides by the slot's row count). */
  featureWeights: ArrayLike<number>;
  /** The slot of each feature: its field's index in model.fields, or model.fields.length for the rest. */
  featureSlots: ArrayLike<number>;
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
  /** Σ over candidates of dLoss/dx0 for the context blocks (user, slots, dense). */
  readonly dContext: Float64Array;
  readonly dOutput: Float64Array;
  /** Rows per feature slot in the current context. */
  readonly slotCounts: Float64Array;
}

export function resolveDcnScorer(input: unknown, path = '/interact/dcn'): DcnScorerModel {
  const raw = objectOrEmpty(input, path);
  rejectUnknownKeys(raw, ['dim', 'crossLayers', 'rank', 'hidden', 'denseInput', 'fields'], path);
  const dim = positiveInteger(raw.dim, `${path}/dim`);
  if (raw.denseInput !== undefined && typeof raw.denseInput !== 'boolean') throw new ConfigError(`${path}/denseInput`, 'must be a boolean');
  const denseInput = raw.denseInput === true;
  const fields = resolveFields(raw.fields, `${path}/fields`);
  const featureSlots = fields.length + 1;
  const blocks = 2 + featureSlots + (denseInput ? 1 : 0);
  const inputDim = blocks * dim;
  const candidateOffset = (1 + featureSlots) * dim;
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
    fields,
    featureSlots,
    blocks,
    inputDim,
    candidateOffset,
    denseOffset: denseInput ? candidateOffset + dim : -1,
    cross,
    mlp,
    mlpOffset: cross.parameterCount,
    parameterCount: cross.parameterCount + mlp.parameterCount,
  });
}

function resolveFields(value: unknown, path: string): readonly string[] {
  if (value === undefined) return DEFAULT_DCN_FIELDS;
  if (!Array.isArray(value))
    throw new ConfigError(path, `must be an array of feature field names such as ${JSON.stringify(TRAJECTORY_DCN_FIELDS)}`);
  if (value.length > MAX_DCN_FIELDS)
    throw new ConfigError(path, `at most ${MAX_DCN_FIELDS} fields (each widens the cross layers' input), got ${value.length}`);
  const seen = new Set<string>();
  for (const [i, field] of (value as unknown[]).entries()) {
    const name = nonEmptyString(field, `${path}/${i}`);
    // A field is what precedes '=' in a key: a name holding one could never match.
    if (name.includes('=')) throw new ConfigError(`${path}/${i}`, `must be a field name without '=' (e.g. 'prev_action'), got '${name}'`);
    if (seen.has(name)) throw new ConfigError(`${path}/${i}`, `'${name}' is listed twice`);
    seen.add(name);
  }
  return Object.freeze([...(value as string[])]);
}

export function createDcnScorerWorkspace(model: DcnScorerModel, maxCandidates: number): DcnScorerWorkspace {
  if (!Number.isInteger(maxCandidates) || maxCandidates <= 0)
    throw new RangeError(`maxCandidates must be an integer > 0, got ${maxCandidates}`);
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
    slotCounts: new Float64Array(model.featureSlots),
  };
}

/** Deterministic init of the dense parameters from a seed (independent streams per block). */
export function initDcnScorer(model: DcnScorerModel, parameters: Float32Array, seed: number): void {
  initCrossNetwork(model.cross, parameters, splitmix32(deriveSeed(seed, 'dcn/cross')));
  initMlp(model.mlp, parameters.subarray(model.mlpOffset), splitmix32(deriveSeed(seed, 'dcn/mlp')));
}

/** Counts the context's rows per slot into workspace.slotCounts, checking every slot index. */
function countSlots(model: DcnScorerModel, context: DcnContext, counts: Float64Array): void {
  counts.fill(0);
  const slots = context.featureSlots;
  for (let f = 0; f < context.featureCount; f++) {
    const s = slots[f];
    if (!(Number.isInteger(s) && s >= 0 && s < model.featureSlots)) {
      throw new RangeError(`feature ${f} has slot ${s}; the DCN scorer has slots 0…${model.featureSlots - 1}`);
    }
    counts[s]++;
  }
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
  const { dim, inputDim, candidateOffset } = model;
  if (candidateCount > workspace.maxCandidates) {
    throw new RangeError(`${candidateCount} candidates exceed the workspace's ${workspace.maxCandidates}`);
  }
  const inputs = workspace.inputs;
  const counts = workspace.slotCounts;
  countSlots(model, context, counts);
  // The context blocks are identical for every candidate: build them once in slot 0, copy after.
  inputs.fill(0, 0, inputDim);
  const user = context.user;
  for (let k = 0; k < dim; k++) inputs[k] = user[k];
  for (let f = 0; f < context.featureCount; f++) {
    const row = context.features[f];
    const s = context.featureSlots[f];
    const x = context.featureWeights[f] / counts[s];
    const at = dim * (1 + s);
    for (let k = 0; k < dim; k++) inputs[at + k] += x * row[k];
  }
  if (model.denseInput) {
    const dense = context.dense;
    if (!dense) throw new RangeError('the DCN scorer was configured with denseInput but the context has no dense vector');
    for (let k = 0; k < dim; k++) inputs[model.denseOffset + k] = dense[k];
  }
  const candidateTo = candidateOffset + dim;
  const shared = workspace.sharedFirstLayer;
  crossNetworkSharedFirstLayer(model.cross, parameters, inputs, 0, candidateOffset, candidateTo, shared);
  const mlpParameters = parameters.subarray(model.mlpOffset);
  for (let c = 0; c < candidateCount; c++) {
    const at = c * inputDim;
    if (c > 0) inputs.copyWithin(at, 0, inputDim);
    const candidate = candidates[c];
    for (let k = 0; k < dim; k++) inputs[at + candidateOffset + k] = candidate[k];
    const crossed = crossNetworkForward(model.cross, parameters, inputs, workspace.cross[c], at, shared, candidateOffset, candidateTo);
    scores[c] = mlpForward(model.mlp, mlpParameters, crossed, workspace.mlp[c])[0];
  }
}

/**
 * Given dScores[c] = dLoss/dScore_c for the last forward (on the same context): accumulates
 * dense-parameter gradients into parameterGradients (cross block, then MLP block at mlpOffset) and
 * overwrites the row gradients — a feature row gets its slot's gradient times x_i / n, as the mean
 * requires. Candidates with dScores[c] === 0 are skipped — no backward, and their gradient row is
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
  const { dim, inputDim, candidateOffset } = model;
  const { dContext, dInput, dCrossOutput, dOutput, slotCounts } = workspace;
  const mlpParameters = parameters.subarray(model.mlpOffset);
  const mlpGradients = parameterGradients.subarray(model.mlpOffset);
  countSlots(model, context, slotCounts);
  dContext.fill(0);
  const candidateTo = candidateOffset + dim;
  for (let c = 0; c < candidateCount; c++) {
    const g = dScores[c];
    if (g === 0) continue;
    const out = rowGradients.candidates[c];
    dOutput[0] = g;
    mlpBackward(model.mlp, mlpParameters, workspace.mlp[c], dOutput, mlpGradients, dCrossOutput);
    crossNetworkBackward(model.cross, parameters, workspace.cross[c], dCrossOutput, parameterGradients, dInput);
    for (let k = 0; k < candidateOffset; k++) dContext[k] += dInput[k];
    for (let k = 0; k < dim; k++) out[k] = dInput[candidateOffset + k];
    for (let k = candidateTo; k < inputDim; k++) dContext[k] += dInput[k];
    out.fill(0, dim);
  }
  writeBlock(rowGradients.user, dContext, 0, 1, dim);
  for (let f = 0; f < context.featureCount; f++) {
    const s = context.featureSlots[f];
    writeBlock(rowGradients.features[f], dContext, dim * (1 + s), context.featureWeights[f] / slotCounts[s], dim);
  }
  if (model.denseInput && rowGradients.dense) writeBlock(rowGradients.dense, dContext, model.denseOffset, 1, dim);
}

function writeBlock(out: Float32Array, source: Float64Array, offset: number, scale: number, dim: number): void {
  for (let k = 0; k < dim; k++) out[k] = scale * source[offset + k];
  out.fill(0, dim);
}
