import type { TrajectoryEvent } from '../../records.js';
import { ALL_NEEDS, type Baseline, type CandidatePredictions, type PredictionNeeds } from './baseline.js';

/**
 * Ratings as global mean + user bias + item bias, each bias a damped mean of residuals:
 * b_i = Σ(r − μ) / (n_i + λ), b_u = Σ(r − μ − b_i) / (n_u + λ), with the residuals taken online
 * against μ and b_i as they stood when each rating arrived (λ = `damping`, default 5).
 */
export class UserItemBias implements Baseline {
  readonly name = 'user-item-bias';
  private sum = 0;
  private count = 0;
  private readonly item = new Map<string, { residual: number; n: number }>();
  private readonly user = new Map<string, { residual: number; n: number }>();

  constructor(
    private readonly initial: number,
    private readonly damping = 5,
  ) {}

  predict(request: TrajectoryEvent, needs: PredictionNeeds = ALL_NEEDS): CandidatePredictions {
    if (!needs.rating) return {};
    const mean = this.mean();
    const userBias = this.bias(this.user.get(request.userId));
    return { ratings: request.candidates.map((c) => mean + userBias + this.bias(this.item.get(c.actionId))) };
  }

  learn(feedback: TrajectoryEvent, request: TrajectoryEvent): void {
    const f = feedback.feedback!;
    if (f.signal !== 'RATING') return;
    const action = f.actionId ?? request.candidates[0]?.actionId;
    if (!action) return;
    const mean = this.mean();
    const item = this.item.get(action) ?? { residual: 0, n: 0 };
    const itemBias = this.bias(item);
    const user = this.user.get(feedback.userId) ?? { residual: 0, n: 0 };
    item.residual += f.value - mean;
    item.n++;
    user.residual += f.value - mean - itemBias;
    user.n++;
    this.item.set(action, item);
    this.user.set(feedback.userId, user);
    this.sum += f.value;
    this.count++;
  }

  private mean(): number {
    return this.count ? this.sum / this.count : this.initial;
  }

  private bias(entry: { residual: number; n: number } | undefined): number {
    return entry ? entry.residual / (entry.n + this.damping) : 0;
  }
}
