import type { LookedUpEvent } from '../../types.js';
import type { CandidateCrosses } from '../candidate-crosses.js';
import type { RecommenderModel } from '../recommender-model.js';
import type { BatchLearnResult, HistoryOffsets } from './webgpu/cpu-batch.js';
import type { BatchLearnItem } from './webgpu/fm-batch-plan.js';

/** The code a model's arithmetic runs on. */
export type BackendKind = 'typescript' | 'wasm-simd' | 'webgpu';

/**
 * The model's dense weights, which ModelTask owns (it loads, stores and syncs them and applies
 * their optimizer), as a backend sees them: values to read, a gradient to fill.
 */
export interface DenseWeights {
  /** Laid out as denseLayout() says. */
  readonly values: Float32Array;
  /** The same layout; learn() overwrites all of it. */
  readonly gradient: Float32Array;
}

/**
 * What ModelTask asks of the code that does a model's arithmetic, in this order per batch:
 * beginBatch() (the lookup step), then event by event in record order score() and, for
 * feedback, score() and learn() on the same event (the score and learn steps), then endBatch()
 * (the learn step, before the batch's rows are stored). A backend may keep the batch's rows in
 * its own memory in between; after endBatch() every row object holds its current values.
 */
export interface ModelBackend {
  readonly kind: BackendKind;
  /** Rows are read afresh for this batch: anything still held from one that did not end is dropped. */
  beginBatch(): void;
  /** Scores every candidate of `e` into `scores` (its first e.candidates.length entries), bias included. */
  score(e: LookedUpEvent, scores: Float32Array): void;
  /**
   * Applies dLoss/dScore (for the event last passed to score()) to every row the event touched,
   * with the model's sparse optimizer, and writes dLoss/dDense into the dense gradient. Returns
   * false, changing no row, when a gradient is not finite. With AdaGrad rows, the rows' linear
   * weights step at `linearLearningRate` (ModelTask picks it per feedback signal), the factors
   * at the optimizer's rate.
   */
  learn(e: LookedUpEvent, dScores: Float32Array, linearLearningRate: number): boolean;
  /** The batch's learning is done: row objects get their current values before they are stored. */
  endBatch(): void;
  /**
   * Optional, for backends whose device pays off only per batch (WebGPU): learns the batch's
   * feedback `items` in order in one go — score, loss gradient, rows, the bias (its accumulator
   * first in `denseSlots`), `history`'s offsets and the `crosses`' — with exactly the per-event
   * path's semantics.
   * Resolves undefined, having changed nothing, when it could not (a device failure, a gradient
   * that is not finite): the caller then learns the batch event by event.
   */
  tryLearnBatch?(
    items: readonly BatchLearnItem[],
    denseSlots: Float32Array,
    step: string,
    history?: HistoryOffsets,
    crosses?: CandidateCrosses,
  ): Promise<BatchLearnResult | undefined>;
}

/** Where each part of the dense weights sits: [bias | projection d×D | DCN/MLP parameters]. */
export interface DenseLayout {
  readonly projectionOffset: number;
  readonly dcnOffset: number;
  readonly size: number;
}

export function denseLayout(model: Pick<RecommenderModel, 'dim' | 'denseInputDim' | 'dcn'>): DenseLayout {
  const projectionOffset = 1;
  const dcnOffset = projectionOffset + model.dim * model.denseInputDim;
  return { projectionOffset, dcnOffset, size: dcnOffset + (model.dcn?.parameterCount ?? 0) };
}
