import type { EventSource, TrajectoryEvent } from '../records.js';
import { binaryLabel, type CandidatePredictions } from './baselines/baseline.js';
import { MetricSet, rankOf, type MetricSummary } from './metrics.js';
import { argmax } from '../model/kernels/vector.js';
import { clipRating } from '../model/rating-readout.js';

/** The rating scale predictions are clipped to. */
export interface RatingRange {
  min: number;
  max: number;
}

interface Window {
  index: number;
  /** Events replayed (all kinds) up to this window's last evaluated feedback. */
  eventsReplayed: number;
  sets: Map<string, MetricSet>;
}

export interface WindowSummary {
  start: number;
  end: number;
  eventsReplayed: number;
  metrics: Record<string, MetricSummary>;
}

/**
 * Scores every predictor's guess for each feedback event — overall, per source (real or
 * simulated) and per event-time window of `windowMs` from `startTime` — from the predictions
 * made when its request arrived.
 */
export class Evaluator {
  private readonly overall = new Map<string, MetricSet>();
  private readonly bySource = new Map<EventSource, Map<string, MetricSet>>();
  private readonly windows = new Map<number, Window>();

  constructor(
    readonly predictors: readonly string[],
    private readonly ratingRange: RatingRange,
    private readonly startTime: number,
    readonly windowMs: number,
  ) {}

  /**
   * One feedback event against each predictor's predictions for its request (same candidate
   * order as the request). `ordinal` is the feedback's 0-based position in the replay.
   */
  evaluate(
    feedback: TrajectoryEvent,
    request: TrajectoryEvent,
    predictions: ReadonlyMap<string, CandidatePredictions>,
    ordinal: number,
  ): void {
    const f = feedback.feedback!;
    const index = f.actionId ? request.candidates.findIndex((c) => c.actionId === f.actionId) : -1;
    const label = binaryLabel(f.signal);
    const windowIndex = Math.floor((feedback.eventTime - this.startTime) / this.windowMs);
    let window = this.windows.get(windowIndex);
    if (!window) this.windows.set(windowIndex, (window = { index: windowIndex, eventsReplayed: 0, sets: new Map() }));
    window.eventsReplayed = Math.max(window.eventsReplayed, ordinal + 1);
    let sourceSets = this.bySource.get(feedback.source);
    if (!sourceSets) this.bySource.set(feedback.source, (sourceSets = new Map<string, MetricSet>()));
    for (const name of this.predictors) {
      const p = predictions.get(name);
      if (!p) continue;
      const slices = [setOf(this.overall, name), setOf(sourceSets, name), setOf(window.sets, name)];
      if (f.signal === 'CHOSEN') {
        if (p.scores && index >= 0) for (const s of slices) s.chosen.add(rankOf(p.scores, index));
      } else if (label !== undefined) {
        // Feedback that names no action is about the one the predictor ranked first (as the learner takes it).
        const at = index >= 0 ? index : p.scores ? argmax(p.scores) : 0;
        const probability = p.probabilities?.[at];
        if (probability !== undefined) for (const s of slices) s.binary.add(probability, label);
      } else if (f.signal === 'RATING') {
        const at = index >= 0 ? index : 0;
        const rating = p.ratings?.[at];
        if (rating !== undefined) {
          const clipped = clipRating(rating, this.ratingRange);
          for (const s of slices) s.rating.add(clipped, f.value);
        }
      }
    }
  }

  summary(): { overall: Record<string, MetricSummary>; bySource: Record<string, Record<string, MetricSummary>>; windows: WindowSummary[] } {
    const summarise = (sets: Map<string, MetricSet>) =>
      Object.fromEntries(this.predictors.filter((n) => sets.has(n)).map((n) => [n, sets.get(n)!.summary()]));
    return {
      overall: summarise(this.overall),
      bySource: Object.fromEntries([...this.bySource].map(([source, sets]) => [source, summarise(sets)])),
      windows: [...this.windows.values()]
        .sort((a, b) => a.index - b.index)
        .map((w) => ({
          start: this.startTime + w.index * this.windowMs,
          end: this.startTime + (w.index + 1) * this.windowMs,
          eventsReplayed: w.eventsReplayed,
          metrics: summarise(w.sets),
        })),
    };
  }
}

function setOf(sets: Map<string, MetricSet>, name: string): MetricSet {
  let set = sets.get(name);
  if (!set) sets.set(name, (set = new MetricSet()));
  return set;
}
