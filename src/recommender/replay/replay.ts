import { ConfigError } from '../../errors.js';
import { avroSerde } from '../../serde/avro-serde.js';
import { TopologyTestDriver } from '../../topology/test-driver.js';
import type { Topology } from '../../topology/topology.js';
import type { ScoreRecord, TrajectoryEvent } from '../records.js';
import { binaryLabel, type Baseline, type CandidatePredictions, type PredictionNeeds } from './baselines/baseline.js';
import { GlobalPopularity, MarkovChain, RunningMean, UserItemBias, UserPopularity } from './baselines/index.js';
import { Evaluator, type RatingRange, type WindowSummary } from './evaluator.js';
import type { MetricSummary } from './metrics.js';
import { modelPredictions, type RatingCalibration } from './model-predictions.js';
import type { ReplayEvent } from './read-events.js';

export interface ReplayOptions {
  topology: Topology;
  events: ReplayEvent[];
  /** How the model's rating scores map to stars (default center 3, scale 1: the model's defaults). */
  rating?: Partial<RatingCalibration>;
  /** Rating range predictions are clipped to; default the range of the ratings in the events. */
  ratingRange?: RatingRange;
  /** Event-time window of the per-window metrics, ms; default a tenth of the replay's time span. */
  windowMs?: number;
  /**
   * Most events fed to the topology between two waits for it to settle (default 10000). Early in
   * a replay fewer are fed: a twentieth of the events replayed so far, at least maxBatch. Within
   * one feed each partition task runs through its share at its own pace and sees its peers'
   * learning only at its next model sync, so a large feed lets partitions drift apart in event
   * time; a cold model learning from a small file lost a sixth of its hit@1 to that with 4
   * partitions (bench/README.md, "Replay keeps partitions in step").
   */
  batchEvents?: number;
  /**
   * Most records one pipeline batch of a partition holds (default 50).
   * A batch's requests are all scored before any of its feedback is learned from, so with the
   * embedded log's 1000 a small file's first batches are scored by an untrained model: hit@1 on
   * the chat fixture 0.21 at 1000, 0.34 at 100, 0.35 at 10 and 50, at about the same speed.
   */
  maxBatch?: number;
  /**
   * How long a request waits for its feedback (default 6 h, the agent-recommender's request TTL):
   * older requests' predictions are dropped, so memory stays bounded on long replays. Feedback
   * after that is counted as `expiredRequest` and not judged.
   */
  requestTtlMs?: number;
  /** Replaces the default baselines (popularity, per-user popularity, Markov, running mean, user + item bias). */
  baselines?: Baseline[];
  /** Called after every batch with the events replayed so far. */
  onProgress?(replayed: number, total: number): void;
}

export interface ReplayResult {
  /** The topology's name: the model's key among the predictors. */
  model: string;
  predictors: string[];
  events: number;
  feedback: { evaluated: number; unknownRequest: number; expiredRequest: number; noScoreRecord: number; actionNotCandidate: number };
  deadLettered: number;
  ratingRange: RatingRange | null;
  rating: RatingCalibration;
  windowMs: number;
  overall: Record<string, MetricSummary>;
  bySource: Record<string, Record<string, MetricSummary>>;
  windows: WindowSummary[];
  seconds: number;
}

/**
 * Replays events through a topology in event-time order (a stable sort: ties keep file order)
 * on the in-process test driver, and scores the model against baselines prequentially. The
 * topology scores a REQUEST when it arrives and learns from its FEEDBACK later — within one
 * pipeline batch too, scoring runs before learning — so the score record a feedback is judged by
 * was always produced before the model learned from that feedback, however the events were
 * batched. Baselines predict at each REQUEST and learn at each FEEDBACK over the same sequence.
 * Feedback whose request is not in the events, or that the model emitted no score for, is
 * counted and not judged for any predictor (all are judged on the same events). The topology's
 * source must read Avro trajectory events and its sink write score records (schemas/*.avsc), as
 * the agent-recommender's do.
 */
/** Events to feed next: a twentieth of those replayed so far, within [maxBatch, batchEvents]. */
export function feedSize(replayed: number, batchEvents: number, maxBatch: number): number {
  return Math.max(1, Math.min(batchEvents, Math.max(maxBatch, Math.floor(replayed / 20))));
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const started = performance.now();
  const rating: RatingCalibration = { center: options.rating?.center ?? 3, scale: options.rating?.scale ?? 1 };
  if (!Number.isFinite(rating.center)) throw new ConfigError('--rating-center', `must be a finite number, got ${rating.center}`);
  if (!(rating.scale > 0) || !Number.isFinite(rating.scale))
    throw new ConfigError('--rating-scale', `must be a finite number > 0, got ${rating.scale}`);
  const batchEvents = options.batchEvents ?? 10_000;
  if (!Number.isInteger(batchEvents) || batchEvents < 1) throw new ConfigError('--batch', `must be a positive integer, got ${batchEvents}`);
  // Array.prototype.sort is stable: events at the same time keep their file order.
  const sorted = [...options.events].sort((a, b) => a.event.eventTime - b.event.eventTime);
  const first = sorted[0]?.event.eventTime ?? 0;
  const span = sorted.length ? sorted[sorted.length - 1].event.eventTime - first : 0;
  const windowMs = options.windowMs ?? Math.max(1, Math.ceil((span + 1) / 10));
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) throw new ConfigError('--window', `must be a positive duration, got ${windowMs}`);
  const ratingRange = options.ratingRange ?? observedRatingRange(sorted);
  const baselines = options.baselines ?? defaultBaselines(rating.center);
  const model = options.topology.name;
  const predictors = [model, ...baselines.map((b) => b.name)];
  const evaluator = new Evaluator(predictors, ratingRange ?? { min: -Infinity, max: Infinity }, first, windowMs);
  const feedback = { evaluated: 0, unknownRequest: 0, expiredRequest: 0, noScoreRecord: 0, actionNotCandidate: 0 };
  const ttl = options.requestTtlMs ?? 6 * 3_600_000;
  if (!(ttl > 0)) throw new ConfigError('--request-ttl', `must be a positive duration, got ${ttl}`);

  // Score records as schemas/score-record*.avsc has them, without the user embedding nothing here reads.
  const scoreReader = avroSerde<ScoreRecord>('score-record', { skipOnRead: ['userEmbedding'] });
  const maxBatch = options.maxBatch ?? 50;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new ConfigError('--max-batch', `must be a positive integer, got ${maxBatch}`);
  const driver = await TopologyTestDriver.start(options.topology, { stateBackend: 'memory', startTime: first, maxBatch });
  // What each request's feedback will be judged on, and how many feedback events are still to come:
  // requests nobody answers are not predicted, and a request is forgotten after its last feedback.
  const plans = feedbackPlans(sorted);
  // Both in request-time order (Map insertion order), so expired requests are dropped from the front.
  const requests = new Map<string, TrajectoryEvent>();
  const predictions = new Map<string, Map<string, CandidatePredictions>>();
  const expired = new Set<string>();
  // Score records without the user embedding: the candidates' scores are judged, the version says how to read ratings.
  const scores = new Map<string, { candidates: ScoreRecord['candidates']; modelVersion: string }>();
  let deadLettered = 0;
  try {
    for (let start = 0, feed = 0; start < sorted.length; start += feed) {
      feed = feedSize(start, batchEvents, maxBatch);
      const batch = sorted.slice(start, start + feed);
      for (const { event, bytes } of batch) driver.pipeInput(event.userId, bytes, { timestamp: event.eventTime });
      const latest = batch[batch.length - 1].event.eventTime;
      if (latest > driver.now()) driver.advanceTime(latest - driver.now());
      await driver.settle(600_000);
      for (const out of driver.readTopic(options.topology.sink.topic)) {
        const record = scoreReader.deserialize(out.value!);
        if (plans.has(record.requestId)) scores.set(record.requestId, { candidates: record.candidates, modelVersion: record.modelVersion });
      }
      deadLettered += driver.readTopic(options.topology.deadLetterTopic).length;

      batch.forEach(({ event }, i) => {
        if (event.kind === 'REQUEST') {
          const id = event.requestId ?? event.eventId;
          const plan = plans.get(id);
          if (!plan) return;
          requests.set(id, event);
          predictions.set(id, new Map(baselines.map((b) => [b.name, b.predict(event, plan.needs)])));
          return;
        }
        if (event.kind !== 'FEEDBACK' || !event.feedback) return;
        const id = event.requestId ?? '';
        const request = requests.get(id);
        if (!request) {
          if (expired.has(id)) feedback.expiredRequest++;
          else feedback.unknownRequest++;
          return;
        }
        const record = scores.get(id);
        const actionId = event.feedback.actionId;
        if (!record) feedback.noScoreRecord++;
        else if (actionId && !request.candidates.some((c) => c.actionId === actionId)) feedback.actionNotCandidate++;
        else {
          const all = new Map(predictions.get(id));
          all.set(model, modelPredictions(record.candidates, request, rating, record.modelVersion, plans.get(id)!.needs));
          evaluator.evaluate(event, request, all, start + i);
          feedback.evaluated++;
        }
        // Baselines learn from every feedback the model could learn from, judged or not.
        for (const b of baselines) b.learn(event, request);
        if (--plans.get(id)!.remaining === 0) forget(id);
      });
      dropExpired(latest - ttl);
      options.onProgress?.(Math.min(sorted.length, start + feed), sorted.length);
    }
  } finally {
    await driver.close();
  }

  function dropExpired(cutoff: number): void {
    for (const [id, request] of requests) {
      if (request.eventTime >= cutoff) break;
      forget(id);
      expired.add(id);
    }
  }

  function forget(id: string): void {
    requests.delete(id);
    predictions.delete(id);
    scores.delete(id);
  }
  return {
    model,
    predictors,
    events: sorted.length,
    feedback,
    deadLettered,
    ratingRange,
    rating,
    windowMs,
    ...evaluator.summary(),
    seconds: (performance.now() - started) / 1000,
  };
}

export function defaultBaselines(ratingCenter: number): Baseline[] {
  return [new GlobalPopularity(), new UserPopularity(), new MarkovChain(), new RunningMean(ratingCenter), new UserItemBias(ratingCenter)];
}

/** Per request id: the metric families its feedback needs and how many feedback events answer it. */
function feedbackPlans(events: ReplayEvent[]): Map<string, { needs: PredictionNeeds; remaining: number }> {
  const plans = new Map<string, { needs: PredictionNeeds; remaining: number }>();
  for (const { event } of events) {
    if (event.kind !== 'FEEDBACK' || !event.feedback || !event.requestId) continue;
    let plan = plans.get(event.requestId);
    if (!plan) plans.set(event.requestId, (plan = { needs: { ranking: false, binary: false, rating: false }, remaining: 0 }));
    plan.remaining++;
    const signal = event.feedback.signal;
    if (signal === 'CHOSEN') plan.needs.ranking = true;
    else if (signal === 'RATING') plan.needs.rating = true;
    else if (binaryLabel(signal) !== undefined) plan.needs.binary = true;
  }
  return plans;
}

function observedRatingRange(events: ReplayEvent[]): RatingRange | null {
  let min = Infinity;
  let max = -Infinity;
  for (const { event } of events) {
    if (event.feedback?.signal !== 'RATING') continue;
    min = Math.min(min, event.feedback.value);
    max = Math.max(max, event.feedback.value);
  }
  return min <= max ? { min, max } : null;
}
