import { applyFeedbackLoss } from './feedback-loss.js';
import { adagradUpdate, type AdagradConfig } from '../../kernels/optimizers.js';
import { argmax } from '../../kernels/vector.js';
import type { DenseWeights, ModelBackend } from '../model-backend.js';
import type { BatchLearnItem } from './fm-batch-plan.js';
import { HISTORY_BUCKETS } from '../../../features/action-history-state.js';
import type { CandidateCrosses } from '../../candidate-crosses.js';

/**
 * The action-history score offsets of a task (ModelTask's): the six offsets then their AdaGrad
 * accumulators, updated in place, and their optimizer.
 */
export interface HistoryOffsets {
  readonly state: Float32Array;
  readonly config: AdagradConfig;
}

/** What a batch's learning produced, per item in order: its scores before its update, its loss, whether it applied. */
export interface BatchLearnResult {
  /** Where the batch ran: 'cpu' after a GPU failure or a non-finite gradient. */
  readonly ran: 'webgpu' | 'cpu';
  /** All items' candidate scores back to back; item i's start at scoreOffsets[i]. */
  readonly scores: Float32Array;
  readonly scoreOffsets: Uint32Array;
  readonly losses: Float32Array;
  /** 1 applied; 0 a gradient was not finite and nothing changed (the learn step dead-letters it). */
  readonly applied: Uint8Array;
}

/**
 * The batch on a CPU backend, exactly as the learn step drives one per event: score (plus the
 * action-history and candidate-cross offsets), the loss's gradient (losses.ts), learn, then the
 * dense, history and cross AdaGrad steps ModelTask takes. The reference the GPU path is tested against, and its fallback.
 */
export function learnBatchOnCpu(
  backend: ModelBackend,
  dense: DenseWeights,
  denseSlots: Float32Array,
  denseConfig: AdagradConfig,
  items: readonly BatchLearnItem[],
  maxCandidates: number,
  history?: HistoryOffsets,
  crosses?: CandidateCrosses,
): BatchLearnResult {
  const scoreOffsets = new Uint32Array(items.length + 1);
  items.forEach((item, i) => (scoreOffsets[i + 1] = scoreOffsets[i] + item.event.candidates.length));
  const scores = new Float32Array(scoreOffsets[items.length]);
  const losses = new Float32Array(items.length);
  const applied = new Uint8Array(items.length);
  const eventScores = new Float32Array(maxCandidates);
  const dScores = new Float32Array(maxCandidates);
  const historyGradient = new Float64Array(HISTORY_BUCKETS);
  items.forEach(({ event, loss }, i) => {
    const count = event.candidates.length;
    backend.score(event, eventScores);
    const buckets = history && event.request?.candidateHistory;
    if (buckets) for (let c = 0; c < count; c++) eventScores[c] += history.state[c < buckets.length ? buckets[c] : 0];
    crosses?.score(event, eventScores);
    scores.set(eventScores.subarray(0, count), scoreOffsets[i]);
    const index = loss.index >= 0 ? loss.index : argmax(eventScores, count);
    losses[i] = applyFeedbackLoss(loss, eventScores, index, dScores, count);
    if (!backend.learn(event, dScores, loss.linearLearningRate)) return;
    adagradUpdate(dense.values, denseSlots, dense.gradient, denseConfig);
    if (buckets) {
      historyGradient.fill(0);
      for (let c = 0; c < count; c++) historyGradient[c < buckets.length ? buckets[c] : 0] += dScores[c];
      adagradUpdate(history.state, history.state.subarray(HISTORY_BUCKETS), historyGradient, history.config, HISTORY_BUCKETS);
    }
    crosses?.learn(event, dScores);
    applied[i] = 1;
  });
  return { ran: 'cpu', scores, scoreOffsets: scoreOffsets.subarray(0, items.length), losses, applied };
}
