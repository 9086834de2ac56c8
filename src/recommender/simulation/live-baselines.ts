import type { TrajectoryEvent } from '../records.js';
import { isPositive, type Baseline, type PredictionNeeds } from '../replay/baselines/baseline.js';
import { GlobalPopularity } from '../replay/baselines/global-popularity.js';
import { MarkovChain } from '../replay/baselines/markov.js';
import { UserPopularity } from '../replay/baselines/user-popularity.js';
import { RunningMean } from '../replay/baselines/running-mean.js';
import { UserItemBias } from '../replay/baselines/user-item-bias.js';
import { argmax } from '../model/kernels/vector.js';
import { clipRating } from '../model/rating-readout.js';
import { ExponentialAverage } from '../../evaluation/exponential-average.js';

const RANKING: PredictionNeeds = { ranking: true, binary: false, rating: false };
const RATING: PredictionNeeds = { ranking: false, binary: false, rating: true };
/** What a rating baseline predicts before the first rating (replay's --rating-center default). */
const RATING_CENTER = 3;

/** A baseline's progressive hit@1 as LiveBaselines tracks it. */
export interface BaselineHitRate {
  name: string;
  hitAt1: number;
}

/** A rating baseline's progressive mean absolute error as LiveBaselines tracks it. */
export interface BaselineRatingError {
  name: string;
  mae: number;
}

/**
 * The replay's ranking baselines (global popularity, per-user popularity, Markov) fed the same
 * events a live topology gets, so its progress line can show how far the model is from them.
 * Hit@1 is measured as the learn step measures the model's: at the feedback, before learning
 * from it, on positive feedback (chosen, accepted, liked) naming one of several candidates, as an
 * exponential moving average. `smoothing` should be the learn step's divided by the partition
 * count: each partition's gauge averages over its own share of the stream, so that matches the
 * window of the mean of the partitions' gauges. The rating baselines (running mean, user + item
 * bias) are judged the same way on RATING feedback, by their absolute error clipped to the range
 * of ratings seen, beside the learn step's `rating_mae`.
 */
export class LiveBaselines {
  readonly baselines: readonly Baseline[];
  private readonly requests = new Map<string, TrajectoryEvent>();
  readonly ratingBaselines: readonly Baseline[];
  private readonly rates: ExponentialAverage[];
  private readonly errors: ExponentialAverage[];
  private readonly ratingRange = { min: Infinity, max: -Infinity };

  constructor(
    smoothing: number,
    baselines: readonly Baseline[] = [new GlobalPopularity(), new UserPopularity(), new MarkovChain()],
    ratingBaselines: readonly Baseline[] = [new RunningMean(RATING_CENTER), new UserItemBias(RATING_CENTER)],
  ) {
    this.baselines = baselines;
    this.ratingBaselines = ratingBaselines;
    this.rates = baselines.map(() => new ExponentialAverage(smoothing));
    this.errors = ratingBaselines.map(() => new ExponentialAverage(smoothing));
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
        this.rates[b].add(hit);
      }
    }
    if (f.signal === 'RATING') this.judgeRating(request, index < 0 ? 0 : index, f.value);
    for (const baseline of this.baselines) baseline.learn(event, request);
    for (const baseline of this.ratingBaselines) baseline.learn(event, request);
  }

  /** Each rating baseline's error on a rating, before it learns from it (none before the first rating: nothing to clip to). */
  private judgeRating(request: TrajectoryEvent, index: number, value: number): void {
    const range = this.ratingRange;
    if (range.min <= range.max) {
      for (let b = 0; b < this.ratingBaselines.length; b++) {
        const guess = this.ratingBaselines[b].predict(request, RATING).ratings?.[index];
        if (guess === undefined) continue;
        const error = Math.abs(clipRating(guess, range) - value);
        this.errors[b].add(error);
      }
    }
    range.min = Math.min(range.min, value);
    range.max = Math.max(range.max, value);
  }

  /** Every baseline's hit@1 so far (those with no ranked feedback yet left out). */
  hitRates(): BaselineHitRate[] {
    return this.baselines.flatMap((b, i) => {
      const hitAt1 = this.rates[i].value;
      return hitAt1 === undefined ? [] : [{ name: b.name, hitAt1 }];
    });
  }

  /** Every rating baseline's mean absolute error so far (those with no judged rating yet left out). */
  ratingErrors(): BaselineRatingError[] {
    return this.ratingBaselines.flatMap((b, i) => {
      const mae = this.errors[i].value;
      return mae === undefined ? [] : [{ name: b.name, mae }];
    });
  }

  /** The rating baseline with the lowest error so far, undefined before any judged rating. */
  bestRating(): BaselineRatingError | undefined {
    let best: BaselineRatingError | undefined;
    for (const error of this.ratingErrors()) if (!best || error.mae < best.mae) best = error;
    return best;
  }

  /** The baseline with the highest hit@1 so far, undefined before any ranked feedback. */
  best(): BaselineHitRate | undefined {
    let best: BaselineHitRate | undefined;
    for (const rate of this.hitRates()) if (!best || rate.hitAt1 > best.hitAt1) best = rate;
    return best;
  }
}
