import type { ScoreRecord, ScoredCandidate } from '../records.js';
import { recordStep } from '../../topology/step.js';
import type { StepDefinition } from '../../topology/types.js';
import type { LookedUpEvent } from '../types.js';

export interface EmitOptions {
  /** Only the top K candidates in the record; default all (every candidate gets a score and rank). */
  topK?: number;
}

/**
 * Scored requests → score records for downstream agent runtimes (schemas/score-record.v1.avsc):
 * request id, user id, model version, every candidate with score and rank (1 = best, ties broken
 * by the request's candidate order) and the user's embedding. Keyed by user by the sink (the
 * input key). Events that were not scored produce no record.
 *
 * @example
 * .step(emit('emit')).to('scores', { topic: 'agent.scores', serde: scoreRecordSerde() })
 */
export function emit(name: string, options: EmitOptions = {}): StepDefinition<LookedUpEvent, ScoreRecord> {
  return recordStep<LookedUpEvent, ScoreRecord>(
    name,
    'emit',
    (ctx) => (e) => {
      if (e.role !== 'score' || !e.scores || !e.request) return undefined;
      const candidates = e.request.candidates;
      const order = rankOrder(e.scores, candidates.length);
      const ranked = new Array<ScoredCandidate>(order.length);
      for (let rank = 0; rank < order.length; rank++)
        ranked[rank] = { actionId: candidates[order[rank]], score: e.scores[order[rank]], rank: rank + 1 };
      return {
        requestId: e.request.requestId,
        userId: e.request.userId,
        eventTime: e.request.eventTime,
        modelVersion: e.modelVersion ?? 'unknown',
        scoredAt: ctx.now(),
        candidates: options.topK ? ranked.slice(0, options.topK) : ranked,
        userEmbedding: e.userEmbedding ?? [],
      };
    },
    { options: options.topK ? { topK: options.topK } : {} },
  );
}

/**
 * Candidate indexes by descending score, ties in candidate order: an insertion sort, which for
 * the ~20 candidates of a request beats Array.prototype.sort calling a comparator closure per
 * comparison. Stable, so equal scores keep their order.
 */
export function rankOrder(scores: ArrayLike<number>, count: number): number[] {
  const order = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const score = scores[i];
    let at = i;
    while (at > 0 && scores[order[at - 1]] < score) {
      order[at] = order[at - 1];
      at--;
    }
    order[at] = i;
  }
  return order;
}
