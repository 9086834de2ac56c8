import { describeValue } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { EmbeddingRowStoreConfig } from '../rows/embedding-row-store.js';
import type { StepDefinition, StoreSpec } from '../../topology/types.js';
import { learn as learnStep, type LearnOptions } from '../steps/learn.js';
import { lookup as lookupStep } from '../steps/lookup.js';
import { score as scoreStep } from '../steps/score.js';
import type { EncodedEvent, LookedUpEvent } from '../types.js';
import {
  resolveAdagradConfig,
  resolveAdamConfig,
  resolveFtrlConfig,
  type AdagradConfig,
  type AdamConfig,
  type FtrlConfig,
} from './kernels/optimizers.js';
import { resolveDcnScorer, type DcnScorerModel } from './kernels/dcn-scorer.js';
import { resolveBackend } from './backends/create-backend.js';
import type { BackendKind } from './backends/model-backend.js';

export type Interaction = 'fm' | 'dcn';

export interface RecommenderModelOptions {
  /** Names the stores (`<name>` rows, `<name>-requests` scored requests) and metric labels. */
  name: string;
  /** Embedding dimension d (rows hold d factors + 1 linear weight). Default 32. */
  dim?: number;
  /** 'fm' (default) or 'dcn' (DCN-v2 cross layers + MLP). */
  interaction?: Interaction;
  /**
   * DCN-v2 layers, and `fields`: the feature fields (the part of a key before '=') that get an x0
   * slot of their own, e.g. ['prev_action', 'prev2', 'last_outcome', 'tool', 'domain']; the rest are
   * pooled into one mean. Default [] (one mean: slots did not pay for their ~5× cost on the fixtures).
   */
  dcn?: { crossLayers?: number; rank?: number; hidden?: number[]; fields?: readonly string[] };
  /** Dimension of the pretrained text vector, when encode uses a transformers model. */
  denseInputDim?: number;
  /** Sparse-row optimizer; dense weights always use AdaGrad. */
  optimizer?: { kind?: 'adagrad' | 'ftrl'; learningRate?: number; l2?: number; l1?: number; beta?: number; initialAccumulator?: number };
  /** Shared dense weights (bias, text projection, DCN/MLP): AdaGrad (default) or Adam. */
  denseOptimizer?: 'adagrad' | 'adam';
  denseLearningRate?: number;
  /** Sample weight by feedback source: real feedback counts more than simulated users. */
  sampleWeights?: { real?: number; simulated?: number };
  /** How long a scored request waits for its feedback (event time), ms. Default 24 h. */
  requestTtlMs?: number;
  /**
   * Most scored requests a partition keeps for their feedback (plus the chunk being filled):
   * past it the oldest go before their TTL, and their feedback counts as unmatched. Bounds the
   * in-memory request-id index (~40 bytes per request: 80 MB at the default). Default 2,000,000.
   */
  maxStoredRequests?: number;
  /**
   * Ratings (e.g. 1–5 stars) become a squared-loss target (value − center) · scale, and a score s
   * reads back as the rating center + s / scale, clipped to the range of ratings seen. center
   * 'auto' (default): the running mean of the ratings the task learned from so far.
   */
  rating?: { center?: number | 'auto'; scale?: number };
  /**
   * Feedback naming an action its request did not offer (a tool first seen when it was called):
   * true (default) adds the action to that request's candidates for this update, so its row is
   * created and learned from; false ignores it (counted as `feedback_action_unknown`).
   */
  learnUnseenActions?: boolean;
  /** Row lifecycle: a feature/action row exists after minCount sightings; rows expire after ttlMs. */
  rows?: { featureMinCount?: number; actionMinCount?: number; ttlMs?: number; initScale?: number; seed?: number };
  /** Most candidates one request may carry. Default 256. */
  maxCandidates?: number;
  /** Most context features one event may carry. Default 512. */
  maxFeatures?: number;
  /**
   * The code the model's arithmetic runs on (model/backends/). 'auto' (default): 'wasm-simd'
   * where it applies — FM, AdaGrad rows, no text vector projection, dim a multiple of 4, a
   * runtime with WebAssembly SIMD — else 'typescript'. Naming one insists (a ConfigError says
   * why it cannot run the model). The two agree to float32 rounding, not bit for bit (the
   * TypeScript kernels sum in float64).
   */
  backend?: 'auto' | BackendKind;
  /** The earlier name of `backend`, still accepted; giving both with different values is an error. */
  kernel?: 'auto' | BackendKind;
}

/**
 * The validated, immutable model definition, and the factory of its three steps. A topology runs
 * them in the order lookup → score → learn, each once (the builder checks it): in each task they
 * share one live copy of the model (model-task.ts), whose batch lookup begins and learn ends.
 */
export interface RecommenderModel {
  /** Gathers the rows every event touches and joins feedback to its request (steps/lookup.ts). */
  lookup(name: string): StepDefinition<EncodedEvent, LookedUpEvent>;
  /** Scores every candidate of each request (steps/score.ts). */
  score(name: string): StepDefinition<LookedUpEvent, LookedUpEvent>;
  /** Learns from feedback, stores scored requests and the batch's rows (steps/learn.ts). */
  learn(name: string, options?: Omit<LearnOptions, 'model'>): StepDefinition<LookedUpEvent, LookedUpEvent>;
  readonly name: string;
  readonly dim: number;
  readonly interaction: Interaction;
  readonly dcn?: DcnScorerModel;
  readonly denseInputDim: number;
  readonly sparseOptimizer: { kind: 'adagrad'; config: AdagradConfig } | { kind: 'ftrl'; config: FtrlConfig };
  readonly denseOptimizer: { kind: 'adagrad'; config: AdagradConfig } | { kind: 'adam'; config: AdamConfig };
  readonly sampleWeights: { real: number; simulated: number };
  readonly requestTtlMs: number;
  readonly maxStoredRequests: number;
  readonly rating: { center: number | 'auto'; scale: number };
  readonly learnUnseenActions: boolean;
  readonly rowStore: EmbeddingRowStoreConfig;
  readonly maxCandidates: number;
  readonly maxFeatures: number;
  readonly backend: BackendKind;
  readonly stores: readonly StoreSpec[];
  readonly rowsStore: string;
  readonly requestsStore: string;
}

function finiteIn(path: string, value: unknown, fallback: number, min: number, max = Infinity): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new ConfigError(path, `must be a number in [${min}, ${max}], got ${describeValue(v)}`);
  return v;
}

function integerIn(path: string, value: unknown, fallback: number, min: number, max: number): number {
  const v = finiteIn(path, value, fallback, min, max);
  if (!Number.isInteger(v)) throw new ConfigError(path, `must be an integer, got ${v}`);
  return v;
}

function booleanOption(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(path, `must be true or false, got ${describeValue(value)}`);
  return value;
}

/**
 * Defines a recommender model once; its steps each get the same per-task instance (see
 * model-task.ts). Validated here, at construction, with paths under /model.
 *
 * @example
 * const model = recommenderModel({ name: 'rec', dim: 32, interaction: 'fm' });
 * topology('agent-recommender').from(...)
 *   .step(model.lookup('lookup')).step(model.score('score')).step(model.learn('learn', { sync }))
 */
export function recommenderModel(options: RecommenderModelOptions): RecommenderModel {
  const p = '/model';
  if (typeof options.name !== 'string' || !/^[a-z][a-z0-9_-]*$/i.test(options.name))
    throw new ConfigError(`${p}/name`, 'must be a simple identifier');
  const dim = integerIn(`${p}/dim`, options.dim, 32, 1, 1024);
  const interaction = options.interaction ?? 'fm';
  if (interaction !== 'fm' && interaction !== 'dcn') throw new ConfigError(`${p}/interaction`, "must be 'fm' or 'dcn'");
  const denseInputDim = integerIn(`${p}/denseInputDim`, options.denseInputDim, 0, 0, 8192);
  const dcn = interaction === 'dcn' ? resolveDcnScorer({ dim, denseInput: denseInputDim > 0, ...options.dcn }, `${p}/dcn`) : undefined;
  const o = options.optimizer ?? {};
  const kind = o.kind ?? 'adagrad';
  const sparseOptimizer =
    kind === 'adagrad'
      ? ({
          kind,
          config: resolveAdagradConfig(
            // A small initial accumulator lets a new row's first steps be full-size: with 0.1 the tiny
            // gradients of fresh embeddings barely moved them (bench/README.md, "Defaults that learn").
            { learningRate: o.learningRate ?? 0.05, l2: o.l2 ?? 1e-5, initialAccumulator: o.initialAccumulator ?? 0.001 },
            `${p}/optimizer`,
          ),
        } as const)
      : kind === 'ftrl'
        ? ({
            kind,
            config: resolveFtrlConfig({ learningRate: o.learningRate, l1: o.l1, l2: o.l2, beta: o.beta }, `${p}/optimizer`),
          } as const)
        : (() => {
            throw new ConfigError(`${p}/optimizer/kind`, "must be 'adagrad' or 'ftrl'");
          })();
  const backend = resolveBackendOption(options, { interaction, optimizer: kind, denseInputDim, dim }, p);
  const rows = options.rows ?? {};
  const ttlMs = rows.ttlMs === undefined ? Infinity : finiteIn(`${p}/rows/ttlMs`, rows.ttlMs, Infinity, 1);
  const rowStore: EmbeddingRowStoreConfig = {
    dim: dim + 1,
    slotCount: kind === 'adagrad' ? 1 : 2,
    ttlMs,
    init: {
      scale: finiteIn(`${p}/rows/initScale`, rows.initScale, 0.05, 0, 10),
      seed: integerIn(`${p}/rows/seed`, rows.seed, 7, 0, 0xffffffff),
    },
    namespaces: {
      user: { minCount: 1 },
      feature: { minCount: integerIn(`${p}/rows/featureMinCount`, rows.featureMinCount, 1, 1, 1_000_000) },
      action: { minCount: integerIn(`${p}/rows/actionMinCount`, rows.actionMinCount, 1, 1, 1_000_000) },
      // Dense weights live under model/dense in the same store: never expired by a row sweep.
      model: { ttlMs: Infinity },
    },
  };
  const model: RecommenderModel = Object.freeze({
    lookup: (name: string) => lookupStep(name, { model }),
    score: (name: string) => scoreStep(name, { model }),
    learn: (name: string, learnOptions: Omit<LearnOptions, 'model'> = {}) => learnStep(name, { ...learnOptions, model }),
    name: options.name,
    dim,
    interaction,
    dcn,
    denseInputDim,
    sparseOptimizer,
    denseOptimizer:
      (options.denseOptimizer ?? 'adagrad') === 'adagrad'
        ? ({
            kind: 'adagrad',
            config: resolveAdagradConfig({ learningRate: options.denseLearningRate ?? 0.01 }, `${p}/denseLearningRate`),
          } as const)
        : options.denseOptimizer === 'adam'
          ? ({
              kind: 'adam',
              config: resolveAdamConfig({ learningRate: options.denseLearningRate ?? 0.001 }, `${p}/denseLearningRate`),
            } as const)
          : (() => {
              throw new ConfigError(`${p}/denseOptimizer`, "must be 'adagrad' or 'adam'");
            })(),
    sampleWeights: {
      real: finiteIn(`${p}/sampleWeights/real`, options.sampleWeights?.real, 1, 0),
      simulated: finiteIn(`${p}/sampleWeights/simulated`, options.sampleWeights?.simulated, 0.5, 0),
    },
    requestTtlMs: finiteIn(`${p}/requestTtlMs`, options.requestTtlMs, 24 * 3600_000, 1),
    // The index is a V8 Map, which holds at most 2^24 entries.
    maxStoredRequests: integerIn(`${p}/maxStoredRequests`, options.maxStoredRequests, 2_000_000, 1, 16_000_000),
    rating: {
      center:
        options.rating?.center === 'auto' || options.rating?.center === undefined
          ? ('auto' as const)
          : finiteIn(`${p}/rating/center`, options.rating.center, 3, -1e6, 1e6),
      scale: finiteIn(`${p}/rating/scale`, options.rating?.scale, 1, 1e-6),
    },
    learnUnseenActions: booleanOption(`${p}/learnUnseenActions`, options.learnUnseenActions, true),
    rowStore,
    maxCandidates: integerIn(`${p}/maxCandidates`, options.maxCandidates, 256, 1, 100_000),
    maxFeatures: integerIn(`${p}/maxFeatures`, options.maxFeatures, 512, 1, 100_000),
    backend,
    stores: Object.freeze([{ name: options.name }, { name: `${options.name}-requests` }]),
    rowsStore: options.name,
    requestsStore: `${options.name}-requests`,
  });
  return model;
}

/** `backend`, or its older name `kernel`; errors name the option that was given. */
function resolveBackendOption(options: RecommenderModelOptions, model: Parameters<typeof resolveBackend>[1], p: string): BackendKind {
  if (options.backend !== undefined && options.kernel !== undefined && options.backend !== options.kernel) {
    const conflict = `is '${String(options.backend)}' but its older name ${p}/kernel says '${String(options.kernel)}': give one`;
    throw new ConfigError(`${p}/backend`, conflict);
  }
  if (options.backend === undefined && options.kernel !== undefined) return resolveBackend(options.kernel, model, `${p}/kernel`);
  return resolveBackend(options.backend, model, `${p}/backend`);
}
