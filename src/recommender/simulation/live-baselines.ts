import type { TrajectoryEvent } from '../records.js';
import { isPositive, type Baseline, type PredictionNeeds } from '../replay/baselines/baseline.js';
import { GlobalPopularity } from '../replay/baselines/global-popularity.js';
import { MarkovChain } from '../replay/baselines/markov.js';
import { UserPopularity } from '../replay/baselines/user-popularity.js';
import { argmax } from '../model/kernels/vector.js';

const RANKING: PredictionNeeds = { ranking: true, binary: false, rating: false };

/** A baseline's progressive hit@1 as LiveBaselines tracks it. */
export interface BaselineHitRate {
  name: string;
  hitAt1: number;
}

/**
 * The replay's ranking baselines (global popularity, per-user popularity, Markov) fed the same
 * events a live topology gets, so its progress line can show how far the model is from them.
 * Hit@1 is measured as the learn step measures the model's: at the feedback, before learning
 * from it, on positive feedback (chosen, accepted, liked) naming one of several candidates, as an
 * exponential moving average. `smoothing` should be the learn step's divided by the partition
 * count: each partition's gauge averages over its own share of the stream, so that matches the
 * window of the mean of the partitions' gauges.
 */
export class LiveBaselines {
  readonly baselines: readonly Baseline[];
  private readonly requests = new Map<string, TrajectoryEvent>();
  private readonly rates: (number | undefined)[];

  constructor(
    private readonly smoothing: number,
    baselines: readonly Baseline[] = [new GlobalPopularity(), new UserPopularity(), new MarkovChain()],
  ) {
    this.baselines = baselines;
    this.rates = baselines.map(() => undefined);
  }

  /** One event, in stream order. A request is kept until its feedback arrives. */
  observe(event: TrajectoryEvent): void {
    const id = event.requestId ?? event.eventId;
    if (event.kind === 'REQUEST') {
      this.requests.set(id, event);
      return;
    }
    if (event.kind !== 'FEEDBACK' || !event.feedback) return;
    const request = this.requests.get(id);
    if (!request || request.userId !== event.userId) return;
    this.requests.delete(id);
    const f = event.feedback;
    const index = f.actionId ? request.candidates.findIndex((c) => c.actionId === f.actionId) : -1;
    if (isPositive(f.signal) && index >= 0 && request.candidates.length > 1) {
      for (let b = 0; b < this.baselines.length; b++) {
        const scores = this.baselines[b].predict(request, RANKING).scores;
        if (!scores) continue;
        const hit = argmax(scores) === index ? 1 : 0;
        const previous = this.rates[b];
        this.rates[b] = previous === undefined ? hit : previous + this.smoothing * (hit - previous);
      }
    }
    for (const baseline of this.baselines) baseline.learn(event, request);
  }

  /** Every baseline's hit@1 so far (those with no ranked feedback yet left out). */
  hitRates(): BaselineHitRate[] {
    return this.baselines.flatMap((b, i) => (this.rates[i] === undefined ? [] : [{ name: b.name, hitAt1: this.rates[i] }]));
  }

  /** The baseline with the highest hit@1 so far, undefined before any ranked feedback. */
  best(): BaselineHitRate | undefined {
    let best: BaselineHitRate | undefined;
    for (const rate of this.hitRates()) if (!best || rate.hitAt1 > best.hitAt1) best = rate;
    return best;
  }
}
