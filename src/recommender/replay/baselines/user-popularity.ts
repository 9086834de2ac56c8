import type { TrajectoryEvent } from '../../records.js';
import {
  ALL_NEEDS,
  Counts,
  Outcomes,
  PairCounts,
  PairOutcomes,
  binaryLabel,
  isPositive,
  type Baseline,
  type CandidatePredictions,
  type PredictionNeeds,
} from './baseline.js';

/**
 * Per-user popularity: candidates ranked by how often this user chose, accepted or liked them,
 * ties broken by global popularity; the acceptance probability is the user's smoothed accept
 * rate for the action, shrunk towards the action's global rate.
 */
export class UserPopularity implements Baseline {
  readonly name = 'user-popularity';
  private readonly userPositives = new PairCounts();
  private readonly globalPositives = new Counts();
  private readonly userOutcomes = new PairOutcomes();
  private readonly globalOutcomes = new Outcomes();

  predict(request: TrajectoryEvent, needs: PredictionNeeds = ALL_NEEDS): CandidatePredictions {
    if (!needs.ranking && !needs.binary) return {};
    const own = this.userPositives.row(request.userId);
    const outcomes = this.userOutcomes.row(request.userId);
    // Global counts enter scaled below 1, so they only order what the user's own counts tie.
    const tieBreak = 1 / (this.globalPositives.total + 1);
    const prior = this.globalOutcomes.overall();
    const n = request.candidates.length;
    const scores = new Array<number>(n);
    const probabilities = needs.binary ? new Array<number>(n) : undefined;
    for (let i = 0; i < n; i++) {
      const action = request.candidates[i].actionId;
      scores[i] = (own?.get(action) ?? 0) + tieBreak * this.globalPositives.get(action);
      if (!probabilities) continue;
      const global = this.globalOutcomes.rate(action, prior, 2);
      probabilities[i] = outcomes ? outcomes.rate(action, global, 2) : global;
    }
    return { scores, probabilities };
  }

  learn(feedback: TrajectoryEvent, request: TrajectoryEvent): void {
    const f = feedback.feedback!;
    const action = f.actionId ?? request.candidates[0]?.actionId;
    if (!action) return;
    if (isPositive(f.signal)) {
      this.userPositives.add(feedback.userId, action);
      this.globalPositives.add(action);
    }
    const label = binaryLabel(f.signal);
    if (label !== undefined) {
      this.userOutcomes.add(feedback.userId, action, label);
      this.globalOutcomes.add(action, label);
    }
  }
}
