import { describeValue, integerIn, numberIn, rejectUnknownKeys } from '../../config.js';
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
import { dcnWorkgroupBytes } from './backends/webgpu/dcn-wgsl.js';
import { resolveBackend } from './backends/create-backend.js';
import { CHUNK_BUCKETS, DEFAULT_CROSS_BUCKETS, type CandidateCrossesConfig } from './candidate-crosses.js';
import type { BackendKind } from './backends/model-backend.js';

export type Interaction = 'fm' | 'dcn';

/** Candidates a request is scored on unless maxCandidates says otherwise; the rest are counted and left out. */
export const DEFAULT_MAX_CANDIDATES = 256;

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
  /**
   * The weight of the user's row in the context (FM only; feature rows carry their own). Under
   * AdaGrad a row's steps are the same size whatever its weight, so a weight w moves the user's
   * part of a score w times as fast as a weight of 1: a user known from a dozen choices needs
   * that, the shared rows learning from everyone do not. Default 1 (bench/README.md, "Rating weight and user weight").
   */
  userWeight?: number;
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
   * `linearLearningRate`: the AdaGrad rate of the rows' linear weights on a rating's update (the
   * factors keep the sparse rate), default 0.4: a user's or item's bias is worth a star or so,
   * which the softmax-tuned 0.05 takes hundreds of ratings to reach. AdaGrad rows only.
   * `weight`: a rating's loss weight relative to the other feedback, default 0.1. A squared error
   * of a star or two outweighs a choice's softmax gradient and dragged the shared rows towards
   * the rating scale: at 1 the simulator's mixed feedback ranked worse, and ratings alone gained
   * nothing (bench/README.md, "Rating weight and user weight"). `calibration` (default true):
   * scores read as center + intercept + slope · s / scale, the two fitted online to the ratings
   * whenever that predicts them better than the plain readout (rating-calibration.ts;
   * bench/README.md, "Rating calibration"); false reads center + s / scale.
   */
  rating?: { center?: number | 'auto'; scale?: number; linearLearningRate?: number; weight?: number; calibration?: boolean };
  /**
   * Feedback naming an action its request did not offer (a tool first seen when it was called):
   * true (default) adds the action to that request's candidates for this update, so its row is
   * created and learned from; false ignores it (counted as `feedback_action_unknown`).
   */
  learnUnseenActions?: boolean;
  /**
   * Candidates known by their tool too: each candidate's vector is its action row plus a shared
   * `ctool=<tool>` feature row, both learned, so a user's or a domain's taste for a tool carries
   * over to actions it has not seen chosen. Off by default; the events must carry candidate tools
   * (a decode that skips `candidates.tool` leaves every candidate without one). The wasm-simd
   * backend does not run it: 'auto' picks TypeScript.
   */
  candidateTools?: boolean;
  /**
   * How the candidates' history buckets (set on requests by an actionHistory step) enter the
   * score: one learned offset per bucket (0, 1, 2, 3–4, 5–8, 9+ earlier takes by the user), added
   * to the candidate's score and stepped by AdaGrad at `learningRate` (default 0.3, swept; the dense
   * weights' 0.01 left them far from a value worth a logit after thousands of events).
   */
  history?: { learningRate?: number };
  /**
   * Platt scaling of scores for accept/reject feedback (acceptance-calibration.ts): AdaGrad's
   * learning rate for its slope and intercept (default 0.05, swept: bench/README.md, "Acceptance
   * calibration"), or 0 to read σ(score) as the acceptance probability, as before.
   */
  acceptanceLearningRate?: number;
  /**
   * One learned score offset per (context feature, candidate action) pair for the context
   * `fields` (default ['prev_action', 'prev_outcome', 'taken']: the session-context step's
   * previous action and its outcome, and the action-history step's most-taken actions), counted
   * at the feature's weight, hashed into `buckets` (a power of two, default 32,768) and stepped
   * by AdaGrad at `learningRate` (default 0.2): the wide half of a wide-and-deep model, memorising
   * transitions and co-choices the factors learn slowly (candidate-crosses.ts). false turns them
   * off. Swept in bench/README.md, "Candidate crosses" and "Taken-action crosses".
   */
  candidateCrosses?: { fields?: readonly string[]; buckets?: number; learningRate?: number } | false;
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
  readonly userWeight: number;
  readonly sparseOptimizer: { kind: 'adagrad'; config: AdagradConfig } | { kind: 'ftrl'; config: FtrlConfig };
  readonly denseOptimizer: { kind: 'adagrad'; config: AdagradConfig } | { kind: 'adam'; config: AdamConfig };
  readonly sampleWeights: { real: number; simulated: number };
  readonly requestTtlMs: number;
  readonly maxStoredRequests: number;
  readonly rating: { center: number | 'auto'; scale: number; linearLearningRate: number; weight: number; calibration: boolean };
  readonly learnUnseenActions: boolean;
  readonly candidateTools: boolean;
  /** The optimizer of the history offsets. */
  readonly history: { config: AdagradConfig };
  /** Learning rate of the acceptance calibration; 0: off. */
  readonly acceptanceLearningRate: number;
  /** undefined: off. */
  readonly candidateCrosses?: CandidateCrossesConfig;
  readonly rowStore: EmbeddingRowStoreConfig;
  readonly maxCandidates: number;
  readonly maxFeatures: number;
  readonly backend: BackendKind;
  readonly stores: readonly StoreSpec[];
  readonly rowsStore: string;
  readonly requestsStore: string;
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
  const dim = integerIn(options.dim, `${p}/dim`, { fallback: 32, min: 1, max: 1024 });
  const interaction = options.interaction ?? 'fm';
  if (interaction !== 'fm' && interaction !== 'dcn') throw new ConfigError(`${p}/interaction`, "must be 'fm' or 'dcn'");
  const denseInputDim = integerIn(options.denseInputDim, `${p}/denseInputDim`, { fallback: 0, min: 0, max: 8192 });
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
  const maxCandidates = integerIn(options.maxCandidates, `${p}/maxCandidates`, {
    fallback: DEFAULT_MAX_CANDIDATES,
    min: 1,
    max: 100_000,
  });
  const candidateTools = booleanOption(`${p}/candidateTools`, options.candidateTools, false);
  const candidateCrosses = resolveCandidateCrosses(options.candidateCrosses, `${p}/candidateCrosses`);
  const backend = resolveBackendOption(
    options,
    { interaction, optimizer: kind, denseInputDim, dim, candidateTools, dcnWorkgroupBytes: dcn && dcnWorkgroupBytes(dcn, maxCandidates) },
    p,
  );
  const rows = options.rows ?? {};
  const ttlMs = rows.ttlMs === undefined ? Infinity : numberIn(rows.ttlMs, `${p}/rows/ttlMs`, { fallback: Infinity, min: 1 });
  const rowStore: EmbeddingRowStoreConfig = {
    dim: dim + 1,
    slotCount: kind === 'adagrad' ? 1 : 2,
    ttlMs,
    init: {
      scale: numberIn(rows.initScale, `${p}/rows/initScale`, { fallback: 0.05, min: 0, max: 10 }),
      seed: integerIn(rows.seed, `${p}/rows/seed`, { fallback: 7, min: 0, max: 0xffffffff }),
    },
    namespaces: {
      user: { minCount: 1 },
      feature: { minCount: integerIn(rows.featureMinCount, `${p}/rows/featureMinCount`, { fallback: 1, min: 1, max: 1_000_000 }) },
      action: { minCount: integerIn(rows.actionMinCount, `${p}/rows/actionMinCount`, { fallback: 1, min: 1, max: 1_000_000 }) },
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
    userWeight: numberIn(options.userWeight, `${p}/userWeight`, { fallback: 1, min: 0, max: 100 }),
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
      real: numberIn(options.sampleWeights?.real, `${p}/sampleWeights/real`, { fallback: 1, min: 0 }),
      simulated: numberIn(options.sampleWeights?.simulated, `${p}/sampleWeights/simulated`, { fallback: 0.5, min: 0 }),
    },
    requestTtlMs: numberIn(options.requestTtlMs, `${p}/requestTtlMs`, { fallback: 24 * 3600_000, min: 1 }),
    // The index is a V8 Map, which holds at most 2^24 entries.
    maxStoredRequests: integerIn(options.maxStoredRequests, `${p}/maxStoredRequests`, { fallback: 2_000_000, min: 1, max: 16_000_000 }),
    rating: {
      center:
        options.rating?.center === 'auto' || options.rating?.center === undefined
          ? ('auto' as const)
          : numberIn(options.rating.center, `${p}/rating/center`, { fallback: 3, min: -1e6, max: 1e6 }),
      scale: numberIn(options.rating?.scale, `${p}/rating/scale`, { fallback: 1, min: 1e-6 }),
      linearLearningRate: numberIn(options.rating?.linearLearningRate, `${p}/rating/linearLearningRate`, {
        fallback: 0.4,
        min: 1e-6,
        max: 10,
      }),
      weight: numberIn(options.rating?.weight, `${p}/rating/weight`, { fallback: 0.1, min: 0, max: 100 }),
      calibration: booleanOption(`${p}/rating/calibration`, options.rating?.calibration, true),
    },
    learnUnseenActions: booleanOption(`${p}/learnUnseenActions`, options.learnUnseenActions, true),
    candidateTools,
    history: {
      config: resolveAdagradConfig({ learningRate: options.history?.learningRate ?? 0.3, initialAccumulator: 0.001 }, `${p}/history`),
    },
    acceptanceLearningRate: numberIn(options.acceptanceLearningRate, `${p}/acceptanceLearningRate`, {
      fallback: 0.05,
      min: 0,
      max: 10,
    }),
    candidateCrosses,
    rowStore,
    maxCandidates,
    maxFeatures: integerIn(options.maxFeatures, `${p}/maxFeatures`, { fallback: 512, min: 1, max: 100_000 }),
    backend,
    stores: Object.freeze([{ name: options.name }, { name: `${options.name}-requests` }]),
    rowsStore: options.name,
    requestsStore: `${options.name}-requests`,
  });
  return model;
}

function resolveCandidateCrosses(options: RecommenderModelOptions['candidateCrosses'], path: string): CandidateCrossesConfig | undefined {
  if (options === false) return undefined;
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw new ConfigError(path, `must be an object or false, got ${describeValue(options)}`);
  rejectUnknownKeys(options ?? {}, ['fields', 'buckets', 'learningRate'], path);
  const fields: unknown = options?.fields ?? ['prev_action', 'prev_outcome', 'taken'];
  if (!Array.isArray(fields)) throw new ConfigError(`${path}/fields`, 'must be an array of field names');
  const names = fields.map((field: unknown, i) => {
    if (typeof field !== 'string' || field === '' || field.includes('='))
      throw new ConfigError(`${path}/fields/${i}`, `must be a field name without '=' (e.g. 'prev_action'), got ${describeValue(field)}`);
    return field;
  });
  const buckets = integerIn(options?.buckets, `${path}/buckets`, { fallback: DEFAULT_CROSS_BUCKETS, min: CHUNK_BUCKETS, max: 1 << 24 });
  if ((buckets & (buckets - 1)) !== 0) throw new ConfigError(`${path}/buckets`, `must be a power of two, got ${buckets}`);
  if (names.length === 0) return undefined;
  return Object.freeze({
    fields: Object.freeze(names),
    buckets,
    optimizer: resolveAdagradConfig({ learningRate: options?.learningRate ?? 0.2, initialAccumulator: 0.001, l2: 0 }, path),
  });
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
