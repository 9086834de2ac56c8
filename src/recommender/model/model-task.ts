import { AgentrecError } from '../../errors.js';
import { EmbeddingRowStore, rowKey } from '../rows/embedding-row-store.js';
import type { EmbeddingRow } from '../rows/embedding-row-store.js';
import type { KeyValueStore } from '../../state/store.js';
import { scopeKey, type ScopeKey } from '../../topology/task-scope.js';
import type { StepContext } from '../../topology/types.js';
import { createDcnScorerWorkspace, dcnScorerBackward, dcnScorerForward, initDcnScorer, type DcnScorerWorkspace } from './kernels/dcn-scorer.js';
import { createFmWorkspace, fmBackward, fmPrepareContext, fmScore, type FmWorkspace } from './kernels/fm.js';
import { adagradUpdate, adamUpdate, ftrlUpdate, type AdamState } from './kernels/optimizers.js';
import { deriveSeed, fillUniform, splitmix32 } from './kernels/prng.js';
import { isFiniteArray } from './kernels/vector.js';
import { FmSimdRows } from './backends/wasm-simd/fm-simd-rows.js';
import type { RecommenderModel } from './recommender-model.js';
import { RequestChunkStore } from '../requests/request-chunk-store.js';
import type { LookedUpEvent, RequestSnapshot } from '../types.js';

const DENSE_KEY = rowKey('model', 'dense');

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
      });
      return created;
    });
    taskKeys.set(model, key);
  }
  return key;
}

/**
 * One partition's live copy of a recommender model: its row store, its dense weights (bias,
 * text projection, DCN/MLP weights) and the scratch buffers of the kernels. Shared by the
 * sparseLookup, interact and update steps of one task through the task's scope; never across tasks.
 *
 * Dense layout: [bias | projection d×D | dcn params] followed by the same number of AdaGrad
 * accumulators. Stored as one value, so dense weights flush atomically with the rows.
 *
 * With the SIMD kernel (model.kernel 'wasm-simd') a batch's rows are worked on in the kernel's
 * memory between beginBatch() (sparseLookup) and endBatch() (update): in between, a row object's
 * arrays hold its values as of the start of the batch.
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
  private readonly projectionOffset = 1;
  private readonly dcnOffset: number;
  private readonly fm: FmWorkspace;
  private readonly dcn?: DcnScorerWorkspace;
  private readonly contextRows: Float32Array[] = [];
  private readonly contextWeights: Float64Array;
  private readonly contextGradients: Float32Array[];
  private readonly candidateGradients: Float32Array[];
  private readonly candidateValues: Float32Array[] = [];
  private readonly zeroRow: Float32Array;
  private readonly projected: Float32Array;
  private readonly projectedGradient: Float32Array;
  /** The SIMD kernel's rows of the current batch, when model.kernel is 'wasm-simd'. */
  private readonly simd?: FmSimdRows;
  private loaded = false;
  /** Between lookup's beginBatch() and learn's endBatch(): the only time score() and learn() may run. */
  private inBatch = false;
  /**
   * Rows of the current batch that expired before a later event of the same batch used their key
   * again: sparseLookup read the key afresh, so `update` must not write these objects back over it.
   */
  readonly expiredInBatch = new Set<EmbeddingRow>();
  /**
   * Every row object sparseLookup read for the current batch, once each, in first-use order:
   * what `update` writes back (sighting counts and last-touched times were stamped on them by
   * the lookup, in record order), less expiredInBatch.
   */
  readonly rowsInBatch: EmbeddingRow[] = [];
  denseDirty = false;
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
    const d = model.dim;
    const rowLength = d + 1;
    this.dcnOffset = this.projectionOffset + d * model.denseInputDim;
    const size = this.dcnOffset + (model.dcn?.parameterCount ?? 0);
    this.dense = new Float32Array(size);
    const slotCount = model.denseOptimizer.kind === 'adam' ? 2 : 1;
    this.denseSlots = new Float32Array(size * slotCount);
    if (model.denseOptimizer.kind === 'adam') {
      this.adam = { m: this.denseSlots.subarray(0, size), v: this.denseSlots.subarray(size), step: 0 };
    }
    this.denseGradient = new Float32Array(size);
    this.fm = createFmWorkspace(d);
    if (model.dcn) this.dcn = createDcnScorerWorkspace(model.dcn, model.maxCandidates);
    const maxContext = model.maxFeatures + 2;
    this.contextWeights = new Float64Array(maxContext);
    this.contextGradients = Array.from({ length: maxContext }, () => new Float32Array(rowLength));
    this.candidateGradients = Array.from({ length: model.maxCandidates }, () => new Float32Array(rowLength));
    this.zeroRow = new Float32Array(rowLength);
    this.projected = new Float32Array(rowLength);
    this.projectedGradient = new Float32Array(rowLength);
    // recommenderModel picks 'wasm-simd' only for AdaGrad rows.
    if (model.kernel === 'wasm-simd' && model.sparseOptimizer.kind === 'adagrad') this.simd = new FmSimdRows(d, maxContext, model.maxCandidates, model.sparseOptimizer.config);
  }

  /**
   * Start of a batch (sparseLookup): rows are read afresh, so copies the SIMD kernel still holds
   * from a batch that did not finish are dropped.
   */
  beginBatch(): void {
    this.simd?.reset();
    this.rowsInBatch.length = 0;
    this.inBatch = true;
  }

  /** End of a batch's learning (update), before its rows are stored: row objects are current again. */
  endBatch(): void {
    this.simd?.writeBack();
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
    if (stored && stored.length === floatCount * 4 + 8) {
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
        fillUniform(this.dense, splitmix32(deriveSeed(seed, 'projection')), limit, this.projectionOffset, this.model.dim * this.model.denseInputDim);
      }
      if (this.model.dcn) initDcnScorer(this.model.dcn, this.dense.subarray(this.dcnOffset), seed);
    }
    this.loaded = true;
  }

  /** Writes dense weights into the store (flushed with the rows and the offset at commit). */
  async saveDense(): Promise<void> {
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
      this.versionText = `${this.model.interaction}-d${this.model.dim}/p${this.partition}/u${this.updates}`;
    }
    return this.versionText;
  }

  /** Scores every candidate of the event into `scores`. */
  score(e: LookedUpEvent, scores: Float32Array): void {
    if (!this.inBatch) throw this.outsideBatch('score');
    if (this.simd) {
      this.simd.score(e, this.dense[0], scores);
      return;
    }
    const count = e.candidates.length;
    this.prepare(e);
    if (this.dcn && this.model.dcn) {
      dcnScorerForward(this.model.dcn, this.dense.subarray(this.dcnOffset), this.dcn, this.dcnContext(e), this.candidateValues, scores, count);
      for (let c = 0; c < count; c++) scores[c] += this.dense[0];
    } else {
      fmPrepareContext(this.fm, this.dense[0], this.contextRows, this.contextWeights, this.contextRows.length);
      fmScore(this.fm, this.candidateValues, scores, count);
    }
  }

  /**
   * Applies dLoss/dScore (from the last score() of the same event) to every row the event
   * touched and to the dense weights. Returns false, changing nothing, when a gradient is not
   * finite (the caller dead-letters the record).
   */
  learn(e: LookedUpEvent, dScores: Float32Array): boolean {
    if (!this.inBatch) throw this.outsideBatch('learn');
    if (this.simd) return this.learnSimd(dScores);
    const count = e.candidates.length;
    const contextCount = this.contextRows.length;
    this.denseGradient.fill(0);
    let biasGradient = 0;
    for (let c = 0; c < count; c++) biasGradient += dScores[c];
    if (this.dcn && this.model.dcn) {
      dcnScorerBackward(
        this.model.dcn,
        this.dense.subarray(this.dcnOffset),
        this.dcn,
        this.dcnContext(e),
        dScores,
        this.denseGradient.subarray(this.dcnOffset),
        {
          user: this.contextGradients[0],
          features: this.contextGradients.slice(1, 1 + e.features.length),
          candidates: this.candidateGradients,
          dense: e.dense ? this.projectedGradient : undefined,
        },
        count,
      );
    } else {
      fmBackward(this.fm, this.contextRows, this.contextWeights, this.candidateValues, dScores, this.contextGradients, this.candidateGradients, contextCount, count);
      if (e.dense) this.projectedGradient.set(this.contextGradients[contextCount - 1]);
    }
    this.denseGradient[0] = biasGradient;
    if (e.dense) this.accumulateProjectionGradient(e.dense);
    for (let i = 0; i < contextCount; i++) if (!isFiniteArray(this.contextGradients[i])) return false;
    if (!isFiniteArray(this.denseGradient)) return false;
    for (let c = 0; c < count; c++) if (dScores[c] !== 0 && !isFiniteArray(this.candidateGradients[c])) return false;

    if (e.user) this.applySparse(e.user, this.contextGradients[0]);
    e.features.forEach((f, i) => this.applySparse(f.row, this.contextGradients[1 + i]));
    e.candidates.forEach((row, c) => {
      if (row && dScores[c] !== 0) this.applySparse(row, this.candidateGradients[c]);
    });
    this.applyDense();
    return true;
  }

  /** learn() on the SIMD kernel: rows updated in its memory, the bias (the only dense weight) here. */
  private learnSimd(dScores: Float32Array): boolean {
    const biasGradient = this.simd!.learn(dScores);
    if (biasGradient === undefined) return false;
    this.denseGradient.fill(0);
    this.denseGradient[0] = biasGradient;
    this.applyDense();
    return true;
  }

  /** Outside a batch a backend may hold rows of an earlier one: scoring or learning on them would be silently wrong. */
  private outsideBatch(what: 'score' | 'learn'): AgentrecError {
    const why = 'its lookup step begins each batch and its learn step ends it, so they must run lookup → score → learn';
    return new AgentrecError('TASK_STATE_ILLEGAL', `model '${this.model.name}' cannot ${what} outside a batch: ${why}`);
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

  private prepare(e: LookedUpEvent): void {
    const rows = this.contextRows;
    rows.length = 0;
    rows.push(e.user?.values ?? this.zeroRow);
    this.contextWeights[0] = 1;
    e.features.forEach((f, i) => {
      rows.push(f.row.values);
      this.contextWeights[i + 1] = f.weight;
    });
    if (e.dense) {
      this.project(e.dense);
      this.contextWeights[rows.length] = 1;
      rows.push(this.projected);
    }
    this.candidateValues.length = 0;
    for (const row of e.candidates) this.candidateValues.push(row?.values ?? this.zeroRow);
  }

  private dcnContext(e: LookedUpEvent) {
    return {
      user: e.user?.values ?? this.zeroRow,
      features: e.features.map((f) => f.row.values),
      featureWeights: e.features.map((f) => f.weight / Math.max(1, e.features.length)),
      featureCount: e.features.length,
      // Feedback that fell back to user + action has no text vector; a zero block stands in, as
      // the FM path simply leaves the projected context out.
      dense: e.dense ? this.projected : this.model.dcn?.denseInput ? this.zeroRow : undefined,
    };
  }

  /** projected = P · dense (P is d×D, row-major), with a zero linear weight. */
  private project(dense: Float32Array): void {
    const d = this.model.dim;
    const D = this.model.denseInputDim;
    for (let k = 0; k < d; k++) {
      let s = 0;
      const at = this.projectionOffset + k * D;
      for (let j = 0; j < D; j++) s += this.dense[at + j] * dense[j];
      this.projected[k] = s;
    }
    this.projected[d] = 0;
  }

  private accumulateProjectionGradient(dense: Float32Array): void {
    const d = this.model.dim;
    const D = this.model.denseInputDim;
    for (let k = 0; k < d; k++) {
      const g = this.projectedGradient[k];
      const at = this.projectionOffset + k * D;
      for (let j = 0; j < D; j++) this.denseGradient[at + j] += g * dense[j];
    }
  }

  private applySparse(row: EmbeddingRow, gradient: Float32Array): void {
    const optimizer = this.model.sparseOptimizer;
    if (optimizer.kind === 'adagrad') adagradUpdate(row.values, row.slots, gradient, optimizer.config);
    else ftrlUpdate(row.values, row.slots, gradient, optimizer.config);
  }
}
