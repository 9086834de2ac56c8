import type { LookedUpEvent } from '../../../types.js';
import { logisticLoss, softmaxCrossEntropyLoss, squaredLoss } from '../../kernels/losses.js';
import type { RecommenderModel } from '../../recommender-model.js';
import type { FeedbackLoss } from './fm-batch-plan.js';

/**
 * The loss learn.ts applies to a feedback event, as data for a batch backend; undefined where
 * learn.ts ignores the event (no feedback or request, an action the request did not offer, a
 * signal without a loss). `ratingCenter` is the centre a RATING is taken against at that point
 * of the batch; `weight` the event's sample weight.
 */
export function feedbackLoss(
  e: LookedUpEvent,
  model: RecommenderModel,
  weight: number,
  linearLearningRate: number,
  ratingCenter: (value: number) => number,
): FeedbackLoss | undefined {
  const feedback = e.event.feedback;
  const request = e.request;
  if (!feedback || !request) return undefined;
  const count = e.candidates.length;
  const index = feedback.actionId ? request.candidates.indexOf(feedback.actionId) : -1;
  if (feedback.actionId && index < 0) return undefined;
  const base = { index, weight, linearLearningRate };
  switch (feedback.signal) {
    case 'CHOSEN':
      return count > 1 ? { kind: 'softmax', value: 0, ...base } : { kind: 'logistic', value: 1, ...base };
    case 'ACCEPT':
    case 'LIKE':
      return { kind: 'logistic', value: 1, ...base };
    case 'REJECT':
    case 'DISLIKE':
    case 'CORRECTION':
      return { kind: 'logistic', value: 0, ...base };
    case 'RATING':
      return {
        kind: 'squared',
        value: (feedback.value - ratingCenter(feedback.value)) * model.rating.scale,
        ...base,
        weight: weight * model.rating.weight,
      };
    default:
      return undefined;
  }
}

/**
 * Whether the feedback names an action its request did not offer (feedbackLoss then has no loss
 * for it; the learn step counts it as feedback_action_unknown).
 */
export function namesUnofferedAction(e: LookedUpEvent): boolean {
  const actionId = e.event.feedback?.actionId;
  return !!actionId && !!e.request && !e.request.candidates.includes(actionId);
}

/**
 * Takes `loss` on `scores` for the candidate at `index` (the named action, or whatever the caller
 * chose for feedback naming none): writes dLoss/dScore into `dScores` and returns the loss.
 */
export function applyFeedbackLoss(loss: FeedbackLoss, scores: Float32Array, index: number, dScores: Float32Array, count: number): number {
  switch (loss.kind) {
    case 'softmax':
      return softmaxCrossEntropyLoss(scores, index, loss.weight, dScores, count);
    case 'logistic':
      return logisticLoss(scores, index, loss.value, loss.weight, dScores, count);
    case 'squared':
      return squaredLoss(scores, index, loss.value, loss.weight, dScores, count);
  }
}
