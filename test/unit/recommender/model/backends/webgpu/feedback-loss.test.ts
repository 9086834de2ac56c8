import { describe, expect, it } from 'vitest';
import { feedbackLoss } from '../../../../../../src/recommender/model/backends/webgpu/feedback-loss.js';
import { recommenderModel } from '../../../../../../src/recommender/model/recommender-model.js';
import type { FeedbackSignal } from '../../../../../../src/recommender/records.js';
import type { LookedUpEvent } from '../../../../../../src/recommender/types.js';

function feedback(signal: FeedbackSignal, value: number): LookedUpEvent {
  return {
    event: { kind: 'FEEDBACK', userId: 'u', requestId: 'r', feedback: { signal, value, actionId: 'b' } },
    role: 'learn',
    request: { requestId: 'r', userId: 'u', eventTime: 0, features: [], candidates: ['a', 'b'] },
    features: [],
    candidates: [undefined, undefined],
  } as unknown as LookedUpEvent;
}

describe('feedbackLoss', () => {
  const center = () => 3;

  it("weighs a rating by the model's rating weight on top of the sample weight, and a choice by the sample weight alone", () => {
    const model = recommenderModel({ name: 'rec', rating: { weight: 0.25 } });
    expect(feedbackLoss(feedback('RATING', 5), model, 0.5, 0.4, center)).toEqual({
      kind: 'squared',
      value: 2,
      index: 1,
      weight: 0.125,
      linearLearningRate: 0.4,
    });
    expect(feedbackLoss(feedback('CHOSEN', 1), model, 0.5, 0.05, center)).toMatchObject({ kind: 'softmax', index: 1, weight: 0.5 });
    expect(feedbackLoss(feedback('REJECT', 0), model, 0.5, 0.05, center)).toMatchObject({ kind: 'logistic', value: 0, weight: 0.5 });
  });
});
