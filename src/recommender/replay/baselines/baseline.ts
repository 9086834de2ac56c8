import type { FeedbackSignal, TrajectoryEvent } from '../../records.js';

/** What one predictor says about a request's candidates, in candidate order; absent = not predicted. */
export interface CandidatePredictions {
  /** Higher is better; ties rank in candidate order. */
  scores?: number[];
  /** Probability that feedback on the candidate is an accept. */
  probabilities?: number[];
  /** Predicted rating, on the rating scale (clipped by the evaluator). */
  ratings?: number[];
}

/**
 * Which predictions a request's feedback will be judged on (the replay knows its events ahead):
 * families nobody will look at are not computed.
 */
export interface PredictionNeeds {
  ranking: boolean;
  binary: boolean;
  rating: boolean;
}

export const ALL_NEEDS: PredictionNeeds = { ranking: true, binary: true, rating: true };

/**
 * A baseline replayed over the same events as the model, prequentially: `predict` at each
 * REQUEST (before any feedback on it), `learn` at each FEEDBACK after every predictor's guess for
 * it was scored.
 */
export interface Baseline {
  readonly name: string;
  predict(request: TrajectoryEvent, needs?: PredictionNeeds): CandidatePredictions;
  /** `request` is the REQUEST the feedback answers (always known: unmatched feedback is not replayed to baselines). */
  learn(feedback: TrajectoryEvent, request: TrajectoryEvent): void;
}

/** The binary label of a feedback signal, undefined for signals that are not accept/reject. */
export function binaryLabel(signal: FeedbackSignal): 0 | 1 | undefined {
  switch (signal) {
    case 'ACCEPT':
    case 'LIKE':
      return 1;
    case 'REJECT':
    case 'DISLIKE':
    case 'CORRECTION':
      return 0;
    default:
      return undefined;
  }
}

/** Signals that say the user wanted the action: what popularity counts. */
export function isPositive(signal: FeedbackSignal): boolean {
  return signal === 'CHOSEN' || signal === 'ACCEPT' || signal === 'LIKE';
}

/** A count table that grows as it is used. */
export class Counts {
  private readonly map = new Map<string, number>();
  total = 0;

  get(key: string): number {
    return this.map.get(key) ?? 0;
  }

  add(key: string, by = 1): void {
    this.map.set(key, this.get(key) + by);
    this.total += by;
  }
}

/** Counts per (outer, inner) pair — user × action, previous × next — without building a key string per lookup. */
export class PairCounts {
  private readonly map = new Map<string, Counts>();
  total = 0;

  /** The inner counts of one outer key (undefined when never counted): look it up once per request. */
  row(outer: string): Counts | undefined {
    return this.map.get(outer);
  }

  add(outer: string, inner: string, by = 1): void {
    let row = this.map.get(outer);
    if (!row) this.map.set(outer, (row = new Counts()));
    row.add(inner, by);
    this.total += by;
  }
}

/** Accept/reject counts per key, for smoothed acceptance rates. */
export class Outcomes {
  readonly accepted = new Counts();
  readonly seen = new Counts();

  add(key: string, label: 0 | 1): void {
    this.seen.add(key);
    if (label) this.accepted.add(key);
  }

  /** (accepted + prior · strength) / (seen + strength): the prior until evidence accumulates. */
  rate(key: string, prior: number, strength: number): number {
    return (this.accepted.get(key) + prior * strength) / (this.seen.get(key) + strength);
  }

  /** The acceptance rate over every key, Laplace-smoothed (0.5 before any outcome). */
  overall(): number {
    return (this.accepted.total + 1) / (this.seen.total + 2);
  }
}

/** Accept/reject counts per (outer, inner) pair. */
export class PairOutcomes {
  private readonly map = new Map<string, Outcomes>();

  row(outer: string): Outcomes | undefined {
    return this.map.get(outer);
  }

  add(outer: string, inner: string, label: 0 | 1): void {
    let row = this.map.get(outer);
    if (!row) this.map.set(outer, (row = new Outcomes()));
    row.add(inner, label);
  }
}
