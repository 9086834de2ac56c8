import { AgentrecError, StateError } from '../../errors.js';
import { EmbeddingRowStore, rowKey } from '../rows/embedding-row-store.js';
import type { EmbeddingRow } from '../rows/embedding-row-store.js';
import type { KeyValueStore } from '../../state/store.js';
import { scopeKey, type ScopeKey } from '../../topology/task-scope.js';
import type { StepContext } from '../../topology/types.js';
import { initDcnScorer } from './kernels/dcn-scorer.js';
import { adagradUpdate, adamUpdate, type AdamState } from './kernels/optimizers.js';
import { deriveSeed, fillUniform, splitmix32 } from './kernels/prng.js';
import { createBackend } from './backends/create-backend.js';
import { denseLayout, type ModelBackend } from './backends/model-backend.js';
import type { RecommenderModel } from './recommender-model.js';
import { RequestChunkStore } from '../requests/request-chunk-store.js';
import { HISTORY_BUCKETS } from '../features/action-history-state.js';
import { AcceptanceCalibration } from './acceptance-calibration.js';
import { RatingCalibration } from './rating-calibration.js';
import { readRating, type RatingReadout } from './rating-readout.js';
import { CandidateCrosses } from './candidate-crosses.js';
import type { LookedUpEvent, RequestSnapshot } from '../types.js';
import type { FeedbackSignal } from '../records.js';
import type { BatchLearnResult } from './backends/webgpu/cpu-batch.js';
import type { BatchLearnItem } from './backends/webgpu/fm-batch-plan.js';

const DENSE_KEY = rowKey('model', 'dense');

export interface RatingTally {
  count: number;
  sum: number;
}
/** Count, sum, min and max of the ratings learned from (float64 each): the running-mean centre and the clip range. */
const RATINGS_KEY = rowKey('model', 'ratings');
/** The acceptance calibration's slope, intercept and accumulators (float64 each). */
const ACCEPTANCE_KEY = rowKey('model', 'acceptance');
/** The rating calibration's count, fit, decayed sums and error tallies (float64 each). */
const RATING_CALIBRATION_KEY = rowKey('model', 'rating-calibration');
const BINARY_LABEL: Partial<Record<FeedbackSignal, number>> = { ACCEPT: 1, LIKE: 1, REJECT: 0, DISLIKE: 0, CORRECTION: 0 };
/** The history offsets and their accumulators (float32 each). */
const HISTORY_KEY = rowKey('model', 'history');

const taskKeys = new WeakMap<RecommenderModel, ScopeKey<ModelTask>>();

/** One scope key per model object: its steps in one task share one ModelTask. */
function modelTaskKey(model: RecommenderModel): ScopeKey<ModelTask> {
  let key = taskKeys.get(model);
  if (!key) {
    key = scopeKey(`model ${model.name}`, (ctx) => {
      const created = new ModelTask(model, ctx.store(model.rowsStore), ctx.store(model.requestsStore), ctx.partition);
      // Rows updated since the last commit are encoded into the store once, here, not per batch.
      ctx.beforeCommit(async () => {
        const written = await created.rows.writeBack();
        if (written) ctx.metrics.count('rows_written_back', written);
        await created.requests.writeBack();
        // The crosses' chunks stepped since the last commit, once each (a batch steps most of them).
        await created.saveCrosses();
      });
      return created;
    });
    taskKeys.set(model, key);
  }
  return key;
}

/**
 * One partition's live copy of a recommender model: its row store, its dense weights (bias,
 * text projection, DCN/MLP weights) and the backend that does its arithmetic. Shared by the
 * lookup, score and learn steps of one task through the task's scope; never across tasks.
 *
 * Dense layout: [bias | projection d×D | dcn params] followed by the same number of AdaGrad
 * accumulators (or Adam's m then v). Stored as one value, so dense weights flush atomically with
 * the rows.
 *
 * A batch runs from beginBatch() (lookup) to endBatch() (learn); score() and learn() run only in
 * between. A backend may work on the batch's rows in its own memory meanwhile (wasm-simd does):
 * until endBatch(), a row object's arrays may hold its values as of the start of the batch.
 */
export class ModelTask {
  readonly rows: EmbeddingRowStore;
  /** Scored requests kept for their feedback. */
  readonly requests: RequestChunkStore;
  private readonly store: KeyValueStore;
  readonly dense: Float32Array;
  /** Optimizer state of the dense weights: AdaGrad accumulators, or Adam's m then v. */
  private readonly denseSlots: Float32Array;
  private readonly adam?: AdamState;
  private readonly denseGradient: Float32Array;
  private readonly projectionOffset: number;
  private readonly dcnOffset: number;
  /**
   * One score offset per history count bucket, then their AdaGrad accumulators: added and learned
   * here, not by the backend. Model sync shares them like the dense weights.
   */
  readonly history = new Float32Array(2 * HISTORY_BUCKETS);
  historyDirty = false;
  private readonly historyGradient = new Float64Array(HISTORY_BUCKETS);
  /** The model's candidate crosses (undefined: off), this task's copy of the table. */
  readonly crosses?: CandidateCrosses;
  private readonly backend: ModelBackend;
  private loaded = false;
  /** Between lookup's beginBatch() and learn's endBatch(): the only time score() and learn() may run. */
  private inBatch = false;
  /**
   * Rows of the current batch that expired before a later event of the same batch used their key
   * again: lookup read the key afresh, so `learn` must not write these objects back over it.
   */
  readonly expiredInBatch = new Set<EmbeddingRow>();
  /**
   * Every row object lookup read for the current batch, once each, in first-use order: what
   * `learn` writes back (sighting counts and last-touched times were stamped on them by the
   * lookup, in record order), less expiredInBatch.
   */
  readonly rowsInBatch: EmbeddingRow[] = [];
  denseDirty = false;
  /**
   * Run by lookup before it reads a batch's rows (`now`: the batch's latest event time): the learn step's model sync takes its peers'
   * deltas in here, so the batch starts from what every task learned so far, not what it knew at
   * its own last batch end.
   */
  beforeBatch?: (now: number) => Promise<void>;
  /** Ratings this task learned from; stored beside the dense weights, so a replay after a crash restores them exactly. */
  private readonly ratingStats = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  private ratingsDirty = false;
  /** How scores read as acceptance probabilities, learned from this task's binary feedback; stored beside the dense weights. */
  readonly acceptance: AcceptanceCalibration;
  /** How scores read as ratings beyond the running-mean centre, learned from this task's ratings; stored beside the dense weights. */
  readonly ratingCalibration: RatingCalibration;
  /** Feedback updates applied by this task: part of the model version in score records. */
  updates = 0;
  private versionAt = -1;
  private versionText = '';

  constructor(
    readonly model: RecommenderModel,
    store: KeyValueStore,
    requests: KeyValueStore,
    readonly partition: number,
  ) {
    this.store = store;
    this.rows = new EmbeddingRowStore(store, model.rowStore, { configPath: '/model/rows' });
    this.requests = new RequestChunkStore(requests, { ttlMs: model.requestTtlMs, maxStoredRequests: model.maxStoredRequests });
    const { projectionOffset, dcnOffset, size } = denseLayout(model);
    this.projectionOffset = projectionOffset;
    this.dcnOffset = dcnOffset;
    this.dense = new Float32Array(size);
    const slotCount = model.denseOptimizer.kind === 'adam' ? 2 : 1;
    this.denseSlots = new Float32Array(size * slotCount);
    if (model.denseOptimizer.kind === 'adam') {
      this.adam = { m: this.denseSlots.subarray(0, size), v: this.denseSlots.subarray(size), step: 0 };
    }
    this.denseGradient = new Float32Array(size);
    this.backend = createBackend(model, { values: this.dense, gradient: this.denseGradient });
    this.acceptance = new AcceptanceCalibration(model.acceptanceLearningRate);
    this.ratingCalibration = new RatingCalibration(model.rating.calibration);
    if (model.candidateCrosses) this.crosses = new CandidateCrosses(model.candidateCrosses, `model '${model.name}' partition ${partition}`);
  }

  /** Start of a batch (lookup): rows are read afresh, so whatever the backend still holds is dropped. */
  beginBatch(): void {
    this.backend.beginBatch();
    this.rowsInBatch.length = 0;
    this.inBatch = true;
  }

  /** End of a batch's learning (learn), before its rows are stored: row objects are current again. */
  endBatch(): void {
    this.backend.endBatch();
    this.inBatch = false;
  }

  /** The task's instance, created on first use by whichever step gets there first. */
  static of(ctx: StepContext, model: RecommenderModel): ModelTask {
    return ctx.scoped(modelTaskKey(model));
  }

  /** Loads dense weights (or initialises them deterministically from the row seed). */
  async ensureLoaded(): Promise<void> {
    if (this.loaded) return;
    await this.requests.load();
    const stored = await this.store.get(DENSE_KEY);
    const size = this.dense.length;
    const floatCount = size + this.denseSlots.length;
    if (stored && stored.length !== floatCount * 4 + 8) throw this.denseSizeMismatch(stored.length, floatCount * 4 + 8);
    if (stored) {
      const floats = new Float32Array(stored.buffer.slice(stored.byteOffset, stored.byteOffset + floatCount * 4));
      this.dense.set(floats.subarray(0, size));
      this.denseSlots.set(floats.subarray(size));
      this.updates = Number(stored.readBigUInt64LE(floatCount * 4));
      // One dense step per applied feedback, so Adam's bias-correction step is the update count.
      if (this.adam) this.adam.step = this.updates;
    } else {
      const seed = this.model.rowStore.init?.seed ?? 0;
      if (this.model.denseInputDim > 0) {
        const limit = Math.sqrt(6 / (this.model.dim + this.model.denseInputDim));
        fillUniform(
          this.dense,
          splitmix32(deriveSeed(seed, 'projection')),
          limit,
          this.projectionOffset,
          this.model.dim * this.model.denseInputDim,
        );
      }
      if (this.model.dcn) initDcnScorer(this.model.dcn, this.dense.subarray(this.dcnOffset), seed);
    }
    const history = await this.store.get(HISTORY_KEY);
    if (history) {
      if (history.length !== this.history.length * 4)
        throw new StateError(
          'STATE_CORRUPT',
          `model '${this.model.name}' partition ${this.partition}: stored history offsets are ${history.length} bytes, not ${this.history.length * 4}`,
        );
      this.history.set(new Float32Array(history.buffer.slice(history.byteOffset, history.byteOffset + history.length)));
    }
    await this.crosses?.load(this.store);
    const ratings = await this.store.get(RATINGS_KEY);
    if (ratings && ratings.length === 32) {
      this.ratingStats.count = ratings.readDoubleLE(0);
      this.ratingStats.sum = ratings.readDoubleLE(8);
      this.ratingStats.min = ratings.readDoubleLE(16);
      this.ratingStats.max = ratings.readDoubleLE(24);
    }
    const acceptance = await this.store.get(ACCEPTANCE_KEY);
    if (acceptance) this.acceptance.load(acceptance, `model '${this.model.name}' partition ${this.partition}`);
    const calibration = await this.store.get(RATING_CALIBRATION_KEY);
    if (calibration) this.ratingCalibration.load(calibration, `model '${this.model.name}' partition ${this.partition}`);
    this.loaded = true;
  }

  /**
   * A binary feedback's label (1 for ACCEPT and LIKE, 0 for REJECT, DISLIKE and CORRECTION) with
   * the judged candidate's score before the model learned from it: one step of the acceptance
   * calibration (a no-op when it is off or for other signals).
   */
  observeAcceptance(signal: FeedbackSignal, score: number, weight: number): void {
    if (this.model.acceptanceLearningRate === 0) return;
    const label = BINARY_LABEL[signal];
    if (label === undefined) return;
    this.acceptance.observe(score, label, weight);
    this.versionAt = -1; // the version carries the readout
  }

  /**
   * The rating a score of 0 stands for: the configured centre, or with 'auto' the mean of the
   * ratings learned from so far (`fallback`, the rating at hand, before the first: its target is 0).
   */
  ratingCenter(fallback: number, tally: RatingTally = this.ratingStats): number {
    const center = this.model.rating.center;
    if (center !== 'auto') return center;
    return tally.count > 0 ? tally.sum / tally.count : fallback;
  }

  /**
   * A copy of the count and sum of the ratings learned from: a batch backend's caller adds the
   * batch's ratings to it in order, so each rating's centre is the one the per-event path takes.
   */
  ratingTally(): RatingTally {
    return { count: this.ratingStats.count, sum: this.ratingStats.sum };
  }

  /** A score read back on the rating scale, clipped to the ratings seen; undefined before the first. */
  ratingOf(score: number): number | undefined {
    const readout = this.ratingReadout();
    return readout && readRating(readout, score, this.model.rating.scale);
  }

  /** How scores read as ratings now, as the model version carries it; undefined before the first rating. */
  private ratingReadout(): RatingReadout | undefined {
    const { count, min, max } = this.ratingStats;
    if (count === 0) return undefined;
    const calibration = this.ratingCalibration;
    return { center: this.ratingCenter(0) + calibration.intercept, min, max, slope: calibration.slope };
  }

  /**
   * A rating with the rated candidate's score before the model learned from it: one step of the
   * rating calibration. Call before observeRating() counts it, so the centre is the one it was
   * predicted with.
   */
  calibrateRating(value: number, score: number): void {
    this.ratingCalibration.observe(score / this.model.rating.scale, this.ratingCenter(value), value);
    this.versionAt = -1; // the version carries the readout
  }

  /** Counts a rating the model has just learned from. */
  observeRating(value: number): void {
    const stats = this.ratingStats;
    stats.count++;
    stats.sum += value;
    if (value < stats.min) stats.min = value;
    if (value > stats.max) stats.max = value;
    this.ratingsDirty = true;
  }

  /**
   * Dense weights of another size were written under other options (dim, denseInputDim, the DCN
   * layers or fields, the dense optimizer). Starting them over would silently drop what was learned
   * and leave the rows paired with weights they were never trained with, so the task stops instead.
   */
  private denseSizeMismatch(found: number, expected: number): StateError {
    const layout = this.model.dcn ? `, DCN fields [${this.model.dcn.fields.join(', ')}] (x0 ${this.model.dcn.inputDim} wide)` : '';
    const options = `dim ${this.model.dim}, denseInputDim ${this.model.denseInputDim}${layout}, ${this.model.denseOptimizer.kind}`;
    const why = `model '${this.model.name}' partition ${this.partition}: stored dense weights are ${found} bytes but ${options} need ${expected}`;
    return new StateError(
      'STATE_CORRUPT',
      `${why}; the model options changed since they were written: restore them or start from a new state directory`,
    );
  }

  /** Writes the candidate crosses' chunks stepped since the last call into the store (the commit hook calls it). */
  async saveCrosses(): Promise<void> {
    await this.crosses?.save(this.store);
  }

  /** Writes dense weights into the store (flushed with the rows and the offset at commit). */
  async saveDense(): Promise<void> {
    if (this.ratingsDirty) {
      const stats = Buffer.alloc(32);
      stats.writeDoubleLE(this.ratingStats.count, 0);
      stats.writeDoubleLE(this.ratingStats.sum, 8);
      stats.writeDoubleLE(this.ratingStats.min, 16);
      stats.writeDoubleLE(this.ratingStats.max, 24);
      await this.store.put(RATINGS_KEY, stats);
      this.ratingsDirty = false;
    }
    if (this.acceptance.dirty) {
      await this.store.put(ACCEPTANCE_KEY, this.acceptance.bytes());
      this.acceptance.dirty = false;
    }
    if (this.ratingCalibration.dirty) {
      await this.store.put(RATING_CALIBRATION_KEY, this.ratingCalibration.bytes());
      this.ratingCalibration.dirty = false;
    }
    if (this.historyDirty) {
      await this.store.put(HISTORY_KEY, Buffer.from(this.history.buffer.slice(0)));
      this.historyDirty = false;
    }
    if (!this.denseDirty) return;
    const size = this.dense.length;
    const slots = this.denseSlots.length;
    const buffer = Buffer.alloc((size + slots) * 4 + 8);
    Buffer.from(this.dense.buffer, this.dense.byteOffset, size * 4).copy(buffer, 0);
    Buffer.from(this.denseSlots.buffer, this.denseSlots.byteOffset, slots * 4).copy(buffer, size * 4);
    buffer.writeBigUInt64LE(BigInt(this.updates), (size + slots) * 4);
    await this.store.put(DENSE_KEY, buffer);
    this.denseDirty = false;
  }

  get version(): string {
    // Asked once per scored request; it changes only with the update count.
    if (this.versionAt !== this.updates) {
      this.versionAt = this.updates;
      // With ratings learned, how a score reads as a rating: /r<center>:<min>:<max>[:<slope>] (ratingFromScore parses it).
      const r = this.ratingReadout();
      const slope = r && this.ratingCalibration.fitted ? `:${+r.slope.toPrecision(6)}` : '';
      const rating = r ? `/r${+r.center.toPrecision(6)}:${r.min}:${r.max}${slope}` : '';
      // With binary feedback learned, how a score reads as an acceptance probability: /a<slope>:<intercept> (acceptanceReadout parses it).
      const acceptance = this.acceptance.versionPart();
      this.versionText = `${this.model.interaction}-d${this.model.dim}/p${this.partition}/u${this.updates}${acceptance}${rating}`;
    }
    return this.versionText;
  }

  /** Scores every candidate of the event into `scores`. */
  score(e: LookedUpEvent, scores: Float32Array): void {
    if (!this.inBatch) throw this.outsideBatch('score');
    this.backend.score(e, scores);
    const history = e.request?.candidateHistory;
    if (history) {
      const offsets = this.history;
      const n = Math.min(history.length, e.candidates.length);
      for (let c = 0; c < n; c++) scores[c] += offsets[history[c]];
      for (let c = n; c < e.candidates.length; c++) scores[c] += offsets[0];
    }
    this.crosses?.score(e, scores);
  }

  /**
   * Applies dLoss/dScore (from the last score() of the same event) to every row the event
   * touched and to the dense weights. Returns false, changing nothing, when a gradient is not
   * finite (the caller dead-letters the record).
   */
  learn(e: LookedUpEvent, dScores: Float32Array): boolean {
    if (!this.inBatch) throw this.outsideBatch('learn');
    if (!this.backend.learn(e, dScores, this.linearLearningRate(e))) return false;
    this.applyDense();
    const history = e.request?.candidateHistory;
    if (history) this.learnHistory(history, dScores, e.candidates.length);
    this.crosses?.learn(e, dScores);
    return true;
  }

  /** Whether this task's backend learns whole batches (learnBatch) rather than event by event. */
  get learnsInBatches(): boolean {
    return this.backend.tryLearnBatch !== undefined;
  }

  /**
   * Learns `items` (feedback with its loss, in record order) in one go on a batch backend, with
   * the same effect as score() and learn() per item: rows, dense weights, history offsets and crosses.
   * Resolves undefined, having changed nothing, when the backend could not; the caller then
   * learns them event by event.
   */
  async learnBatch(items: readonly BatchLearnItem[], step: string): Promise<BatchLearnResult | undefined> {
    if (!this.inBatch) throw this.outsideBatch('learn');
    const history = { state: this.history, config: this.model.history.config };
    const result = await this.backend.tryLearnBatch?.(items, this.denseSlots, step, history, this.crosses);
    if (!result) return undefined;
    this.updates += items.length;
    this.denseDirty = true;
    if (items.some((item) => item.event.request?.candidateHistory)) this.historyDirty = true;
    return result;
  }

  /**
   * The rate of the rows' linear weights for this update: a rating regresses on the star scale,
   * where biases must move much further than a ranking loss's logits do.
   */
  linearLearningRate(e: LookedUpEvent): number {
    const sparse = this.model.sparseOptimizer;
    if (sparse.kind !== 'adagrad') return sparse.config.learningRate;
    return e.event.feedback?.signal === 'RATING' ? this.model.rating.linearLearningRate : sparse.config.learningRate;
  }

  /** Outside a batch a backend may hold rows of an earlier one: scoring or learning on them would be silently wrong. */
  private outsideBatch(what: 'score' | 'learn'): AgentrecError {
    const why = 'its lookup step begins each batch and its learn step ends it, so they must run lookup → score → learn';
    return new AgentrecError('TASK_STATE_ILLEGAL', `model '${this.model.name}' cannot ${what} outside a batch: ${why}`);
  }

  /** A bucket's gradient is the sum of dLoss/dScore over the candidates in it. */
  private learnHistory(history: Uint8Array, dScores: Float32Array, count: number): void {
    const gradient = this.historyGradient.fill(0);
    for (let c = 0; c < count; c++) gradient[c < history.length ? history[c] : 0] += dScores[c];
    adagradUpdate(this.history, this.history.subarray(HISTORY_BUCKETS), gradient, this.model.history.config, HISTORY_BUCKETS);
    this.historyDirty = true;
  }

  private applyDense(): void {
    const dense = this.model.denseOptimizer;
    if (dense.kind === 'adam') adamUpdate(this.dense, this.adam!, this.denseGradient, dense.config);
    else adagradUpdate(this.dense, this.denseSlots, this.denseGradient, dense.config);
    this.denseDirty = true;
    this.updates++;
  }

  /** Keeps a scored request for its feedback; returns how many older ones went past maxStoredRequests. */
  storeRequest(snapshot: RequestSnapshot): Promise<number> {
    return this.requests.add(snapshot);
  }

  findRequests(requestIds: string[]): Promise<(RequestSnapshot | undefined)[]> {
    return this.requests.find(requestIds);
  }

  /**
   * Deletes stored requests past the TTL at `now` (event time), a chunk at a time: those in
   * chunks whose every request is past it (request-chunk-store.ts). Returns how many went.
   */
  purgeRequests(now: number): Promise<number> {
    return this.requests.purge(now);
  }
}
