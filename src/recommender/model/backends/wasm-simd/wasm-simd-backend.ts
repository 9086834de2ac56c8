import { ConfigError } from '../../../../errors.js';
import type { EmbeddingRow } from '../../../rows/embedding-row-store.js';
import type { LookedUpEvent } from '../../../types.js';
import type { RecommenderModel } from '../../recommender-model.js';
import type { BackendRequirements } from '../create-backend.js';
import type { DenseWeights, ModelBackend } from '../model-backend.js';
import { FmSimdKernel, type BackwardCall } from './fm-simd.js';

/** Linear memory reserved up front; it grows (doubling) when a batch places more rows. */
const INITIAL_BYTES = 4 << 20;

/** Why the fused FM + AdaGrad kernel cannot run `model`, or undefined when it can. */
export function wasmSimdObstacle(model: BackendRequirements): string | undefined {
  return model.interaction !== 'fm'
    ? 'it runs FM only (interaction is dcn)'
    : model.optimizer !== 'adagrad'
      ? 'its update is AdaGrad (optimizer is ftrl)'
      : model.denseInputDim > 0
        ? 'the text vector projection is not in it (denseInputDim > 0)'
        : model.candidateTools
          ? 'a candidate is one row in it (candidateTools is on)'
          : model.dim % 4 !== 0
            ? `it needs a dim that is a multiple of 4 (dim is ${model.dim})`
            : !FmSimdKernel.supported()
              ? 'this runtime does not compile WebAssembly SIMD'
              : undefined;
}

/**
 * FM with AdaGrad rows on the WebAssembly SIMD kernel (fm-simd.ts). The bias is the only dense
 * weight of such a model: it is read here and its gradient handed back; ModelTask updates it.
 *
 * The kernel works on rows in its own linear memory. Copying an event's ~35 rows in and out per
 * event would cost what the kernel saves, so rows are placed per batch: the first time an event
 * of the batch uses a row (the batch shares one object per row key), its values and AdaGrad
 * accumulators are copied in; every later use, scoring or learning, runs on that copy in place;
 * `endBatch` copies every placed row into its object once, before the batch's rows are stored.
 * Between `endBatch`/`beginBatch` and the next batch no row lives only in kernel memory.
 *
 * Where a row was placed is kept on the row (`backendSlot`), not in a Map keyed by row: that
 * lookup, per row per event, was the hottest line of scoring. Every placement is undone at the
 * end of its batch, so a slot found on a row is always this batch's (rows belong to one task).
 *
 * Missing rows (a user without a row, a candidate held back by the frequency filter) are zero
 * blocks, one for the context and one for the candidates: the fused update changes them like any
 * row, so they are zeroed again after each update (the TypeScript path skips them instead; the
 * gradients every other row receives are the same).
 *
 * Memory: 2 × 144 bytes per distinct row of a batch for d=32 (values and accumulators, each
 * padded to 16 bytes); the kernel's memory grows to the largest batch and is reused after.
 */
export class WasmSimdBackend implements ModelBackend {
  readonly kind = 'wasm-simd';
  private readonly dim: number;
  private readonly kernel: FmSimdKernel;
  private readonly rowFloats: number;
  /** Bytes from a row's values to its accumulators, and from one placed row to the next / 2. */
  private readonly stride: number;
  /** Rows placed this batch, in placement order (where each went is on the row: backendSlot). */
  private readonly placed: EmbeddingRow[] = [];
  private readonly areaStart: number;
  private next: number;
  private f32!: Float32Array;
  private i32!: Int32Array;
  // Per-event arrays in kernel memory (byte offsets).
  private readonly sum: number;
  private readonly scratch: number;
  private readonly scores: number;
  private readonly dScores: number;
  private readonly weights: number;
  private readonly rows: number;
  private readonly rowSlots: number;
  private readonly cands: number;
  private readonly candSlots: number;
  private readonly contextZero: number;
  private readonly candidateZero: number;
  /** learn()'s arguments to the kernel: offsets fixed here, counts set per event. */
  private readonly backwardCall: BackwardCall;
  /** The last scored event's layout, which learn() reuses. */
  private contextCount = 0;
  private candidateCount = 0;
  private usedZero = false;
  private readonly contextOffsets: number[] = [];
  private readonly candidateOffsets: number[] = [];
  private readonly userWeight: number;

  constructor(
    model: RecommenderModel,
    private readonly dense: DenseWeights,
  ) {
    const optimizer = model.sparseOptimizer;
    if (optimizer.kind !== 'adagrad') {
      const obstacle = wasmSimdObstacle({ ...model, optimizer: optimizer.kind });
      throw new ConfigError('/model/backend', `'wasm-simd' cannot run this model: ${obstacle}`);
    }
    const dim = model.dim;
    this.userWeight = model.userWeight;
    const maxContext = model.maxFeatures + 2;
    const maxCandidates = model.maxCandidates;
    this.dim = dim;
    this.kernel = new FmSimdKernel(dim, INITIAL_BYTES);
    this.rowFloats = dim + 1;
    this.stride = Math.ceil((this.rowFloats * 4) / 16) * 16;
    const k = this.kernel;
    this.sum = k.allocate(dim * 4);
    this.scratch = k.allocate(dim * 4);
    this.scores = k.allocate(maxCandidates * 4);
    this.dScores = k.allocate(maxCandidates * 4);
    this.weights = k.allocate(maxContext * 4);
    this.rows = k.allocate(maxContext * 4);
    this.rowSlots = k.allocate(maxContext * 4);
    this.cands = k.allocate(maxCandidates * 4);
    this.candSlots = k.allocate(maxCandidates * 4);
    this.contextZero = k.allocate(2 * this.stride);
    this.candidateZero = k.allocate(2 * this.stride);
    this.areaStart = k.allocate(0);
    this.backwardCall = {
      rows: this.rows,
      rowSlots: this.rowSlots,
      weights: this.weights,
      count: 0,
      cands: this.cands,
      candSlots: this.candSlots,
      candCount: 0,
      dScores: this.dScores,
      sum: this.sum,
      scratch: this.scratch,
      config: optimizer.config,
      linearLearningRate: optimizer.config.learningRate,
    };
    this.next = this.areaStart;
    this.refreshViews();
  }

  /** Forgets every placement without copying anything back (rows are read afresh). */
  beginBatch(): void {
    for (const row of this.placed) row.backendSlot = -1;
    this.placed.length = 0;
    this.next = this.areaStart;
  }

  /** Copies every placed row into its EmbeddingRow object, then forgets the placements. */
  endBatch(): void {
    const f32 = this.f32;
    const n = this.rowFloats;
    for (const row of this.placed) {
      const at = row.backendSlot;
      row.values.set(f32.subarray(at >> 2, (at >> 2) + n));
      row.slots.set(f32.subarray((at + this.stride) >> 2, ((at + this.stride) >> 2) + n));
      row.backendSlot = -1;
    }
    this.placed.length = 0;
    this.next = this.areaStart;
  }

  /** Scores every candidate of `e` into `scores` (bias added), like fmPrepareContext + fmScore. */
  score(e: LookedUpEvent, scores: Float32Array): void {
    const context = this.contextOffsets;
    const candidates = this.candidateOffsets;
    context.length = 0;
    candidates.length = 0;
    this.usedZero = false;
    // Place first: placing may grow the memory, which replaces the views written below.
    context.push(e.user ? this.place(e.user) : this.zero(this.contextZero));
    for (const f of e.features) context.push(this.place(f.row));
    for (const row of e.candidates) candidates.push(row ? this.place(row) : this.zero(this.candidateZero));
    const { f32, i32 } = this;
    f32[this.weights >> 2] = this.userWeight;
    const weightsAt = (this.weights >> 2) + 1;
    for (let i = 0; i < e.features.length; i++) f32[weightsAt + i] = e.features[i].weight;
    this.writeOffsets(i32, this.rows, this.rowSlots, context);
    this.writeOffsets(i32, this.cands, this.candSlots, candidates);
    this.contextCount = context.length;
    this.candidateCount = candidates.length;
    const exports = this.kernel.exports;
    const constant = exports.prepare(this.rows, this.weights, this.contextCount, this.dim, this.sum) + this.dense.values[0];
    exports.score(this.cands, this.candidateCount, this.dim, this.sum, constant, this.scores);
    scores.set(f32.subarray(this.scores >> 2, (this.scores >> 2) + this.candidateCount));
  }

  /**
   * Applies dLoss/dScore (for the event last passed to score()) to its rows with AdaGrad, in
   * place in kernel memory, and hands back dLoss/dBias; false, changing nothing, when a gradient
   * is not finite.
   */
  learn(_e: LookedUpEvent, dScores: Float32Array, linearLearningRate: number): boolean {
    this.f32.set(dScores.subarray(0, this.candidateCount), this.dScores >> 2);
    const call = this.backwardCall;
    call.linearLearningRate = linearLearningRate;
    call.count = this.contextCount;
    call.candCount = this.candidateCount;
    if (!this.kernel.gradientsFinite(call)) return false;
    const biasGradient = this.kernel.backwardAdagrad(call);
    if (this.usedZero) {
      this.f32.fill(0, this.contextZero >> 2, (this.contextZero + 2 * this.stride) >> 2);
      this.f32.fill(0, this.candidateZero >> 2, (this.candidateZero + 2 * this.stride) >> 2);
    }
    const gradient = this.dense.gradient;
    gradient.fill(0);
    gradient[0] = biasGradient;
    return true;
  }

  /** Byte offset of `row`'s values in kernel memory, copying it in on its first use this batch. */
  private place(row: EmbeddingRow): number {
    let at = row.backendSlot;
    if (at < 0) {
      at = this.next;
      this.next += 2 * this.stride;
      if (this.next > this.f32.byteLength) {
        this.kernel.ensureCapacity(this.next);
        this.refreshViews();
      }
      this.f32.set(row.values, at >> 2);
      this.f32.set(row.slots, (at + this.stride) >> 2);
      row.backendSlot = at;
      this.placed.push(row);
    }
    return at;
  }

  private zero(at: number): number {
    this.usedZero = true;
    return at;
  }

  private writeOffsets(i32: Int32Array, values: number, slots: number, offsets: readonly number[]): void {
    for (let i = 0; i < offsets.length; i++) {
      i32[(values >> 2) + i] = offsets[i];
      i32[(slots >> 2) + i] = offsets[i] + this.stride;
    }
  }

  private refreshViews(): void {
    this.f32 = new Float32Array(this.kernel.memory.buffer);
    this.i32 = new Int32Array(this.kernel.memory.buffer);
  }
}
