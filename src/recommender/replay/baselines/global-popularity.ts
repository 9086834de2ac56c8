import type { TrajectoryEvent } from '../../records.js';
import {
  ALL_NEEDS,
  Counts,
  Outcomes,
  binaryLabel,
  isPositive,
  type Baseline,
  type CandidatePredictions,
  type PredictionNeeds,
} from './baseline.js';

/**
 * Global popularity: candidates ranked by how often anyone chose, accepted or liked them so far;
 * the acceptance probability of an action is its smoothed accept rate over all users.
 */
export class GlobalPopularity implements Baseline {
  readonly name = 'global-popularity';
  private readonly positives = new Counts();
  private readonly outcomes = new Outcomes();

  predict(request: TrajectoryEvent, needs: PredictionNeeds = ALL_NEEDS): CandidatePredictions {
    const prior = this.outcomes.overall();
    return {
      // Binary feedback without an action is about the top-ranked candidate: scores serve it too.
      scores: needs.ranking || needs.binary ? request.candidates.map((c) => this.positives.get(c.actionId)) : undefined,
      probabilities: needs.binary ? request.candidates.map((c) => this.outcomes.rate(c.actionId, prior, 2)) : undefined,
    };
  }

  learn(feedback: TrajectoryEvent, request: TrajectoryEvent): void {
    const f = feedback.feedback!;
    const action = f.actionId ?? request.candidates[0]?.actionId;
    if (!action) return;
    if (isPositive(f.signal)) this.positives.add(action);
    const label = binaryLabel(f.signal);
    if (label !== undefined) this.outcomes.add(action, label);
  }
}
