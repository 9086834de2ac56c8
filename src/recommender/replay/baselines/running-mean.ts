import type { TrajectoryEvent } from '../../records.js';
import { ALL_NEEDS, type Baseline, type CandidatePredictions, type PredictionNeeds } from './baseline.js';

/** Every rating predicted as the mean of the ratings seen so far (`initial` before the first). */
export class RunningMean implements Baseline {
  readonly name = 'running-mean';
  private sum = 0;
  private count = 0;

  constructor(private readonly initial: number) {}

  predict(request: TrajectoryEvent, needs: PredictionNeeds = ALL_NEEDS): CandidatePredictions {
    if (!needs.rating) return {};
    const mean = this.count ? this.sum / this.count : this.initial;
    return { ratings: request.candidates.map(() => mean) };
  }

  learn(feedback: TrajectoryEvent): void {
    const f = feedback.feedback!;
    if (f.signal !== 'RATING') return;
    this.sum += f.value;
    this.count++;
  }
}
