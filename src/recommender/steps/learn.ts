import { AgentrecError } from '../../errors.js';
import type { TrajectoryEvent } from '../records.js';
import { batchStep } from '../../topology/step.js';
import type { Batch, StepContext, StepDefinition } from '../../topology/types.js';
import { argmax } from '../model/kernels/vector.js';
import { ModelSync, type ModelSyncReport } from '../sync/model-sync.js';
import { modelSyncTopicSpec, resolveModelSyncConfig, type ModelSyncOptions } from '../sync/model-sync-config.js';
import { ExponentialAverage } from '../../evaluation/exponential-average.js';
import { ModelTask } from '../model/model-task.js';
import { modelProtocol } from '../model/model-protocol.js';
import type { RecommenderModel } from '../model/recommender-model.js';
import type { LookedUpEvent } from '../types.js';
import { applyFeedbackLoss, feedbackLoss, namesUnofferedAction } from '../model/backends/webgpu/feedback-loss.js';
import type { BatchLearnItem } from '../model/backends/webgpu/fm-batch-plan.js';

type LearnOutcome = 'applied' | 'ignored' | 'invalid';

export interface LearnOptions {
  model: RecommenderModel;
  /**
   * Reconcile shared rows (feature, action) and dense weights with the other tasks through a
   * compacted model topic every `everyEvents` updates (delta averaging; user rows never). Off
   * by default: with it on, a task's state depends on when other tasks' deltas arrive, so
   * replay after a crash is exact only per task with sync off (see model-sync.ts).
   */
  sync?: ModelSyncOptions;
  /** Smoothing of the progress gauges (running loss, hit@1): weight of the newest event. */
  metricsSmoothing?: number;
}

/**
 * Online learning from feedback, record by record in offset order. Each feedback is turned into
 * a loss on the scores of the request it answers — recomputed from the current rows, so the
 * model state is the same however the stream was cut into batches:
 *   ACCEPT, LIKE → logistic, label 1 on the named action (default: the top-scored one)
 *   REJECT, DISLIKE, CORRECTION → logistic, label 0
 *   RATING → squared loss towards (value − center) · scale, center the running mean by default
 *   CHOSEN → softmax cross-entropy over the request's candidates
 * weighted by source (real vs simulated). Gradients reach only the rows the event touched (the
 * user's own row, its feature rows, the candidate rows) plus the shared dense weights; no other
 * user's row moves. Scored requests are stored here, for feedback that arrives later.
 *
 * Progress gauges: `loss`, `hit_at_1` (was the chosen/accepted action ranked first before
 * this update — progressive validation) and `rating_mae` (the rating's absolute error as the
 * model read it before this update).
 *
 * On a batch backend (WebGPU) the batch's feedback is learned in one go on the device, with the
 * same per-event semantics (`device_batches`); a batch the device could not take is learned event
 * by event on the CPU instead (`device_batches_relearned`), nothing applied twice.
 *
 * The last of a model's three steps: it ends the batch `lookup` began and stores its rows.
 *
 * @example
 * .step(model.learn('learn', { sync }))
 */
export function learn(name: string, options: LearnOptions): StepDefinition<LookedUpEvent, LookedUpEvent> {
  const { model } = options;
  const smoothing = options.metricsSmoothing ?? 0.01;
  const syncConfig = options.sync ? resolveModelSyncConfig(options.sync, '/learn/sync') : undefined;
  return batchStep<LookedUpEvent, LookedUpEvent>(
    name,
    'learn',
    (ctx) => {
      const task = ModelTask.of(ctx, model);
      const syncing = syncConfig !== undefined && syncConfig.everyEvents > 0;
      const sync = syncing ? new ModelSync(task, ctx.store(model.rowsStore), requireLog(ctx.log), options.sync!, '/learn/sync') : undefined;
      // A sync's deltas must be acknowledged before the state that reflects them is flushed.
      if (sync) ctx.beforeCommit(async () => ctx.commitAfter((await sync.published()).delivered));
      const countSync = (synced: ModelSyncReport | undefined) => {
        if (!synced) return;
        ctx.metrics.count('model_syncs');
        ctx.metrics.count('model_deltas_published', synced.published);
        ctx.metrics.count('model_deltas_received', synced.received);
        if (synced.rejected) ctx.metrics.count('model_deltas_rejected', synced.rejected);
        ctx.metrics.gauge('model_sync_peers', synced.peers);
      };
      if (sync) task.beforeBatch = async (now) => countSync(await sync.beforeBatch(now));
      const scores = new Float32Array(model.maxCandidates);
      const dScores = new Float32Array(model.maxCandidates);
      const runningLoss = new ExponentialAverage(smoothing);
      const runningHit = new ExponentialAverage(smoothing);
      const runningRatingError = new ExponentialAverage(smoothing);
      // Requests past their TTL are purged at fixed event-time boundaries (multiples of TTL/4)
      // with the boundary as the cutoff, so what a purge deletes does not depend on batch
      // boundaries or on a restart resetting this state.
      const purgeBoundary = boundaryCrossings(model.requestTtlMs / 4);
      // Rows of users (and features, actions) that never come back are swept the same way, at
      // multiples of a quarter of the row TTL: a row expired at the cutoff would be treated as
      // absent by any later read, so deleting it changes no result, only the bytes kept on disk.
      const sweepBoundary = boundaryCrossings(task.rows.expirySweepIntervalMs);
      /** A rating, with the rated candidate's score before learning: the rating_mae gauge judges the readout as it stands, then the readout learns. */
      const judgeRating = (value: number, score: number) => {
        const guess = task.ratingOf(score);
        if (guess !== undefined) runningRatingError.add(Math.abs(guess - value));
        task.calibrateRating(value, score);
      };

      return async (batch: Batch<LookedUpEvent>) => {
        await task.ensureLoaded();
        await sync?.ensureLoaded();
        const learnedInBatch = task.learnsInBatches ? await learnAsBatch(batch) : undefined;
        const kept = [];
        for (const [i, record] of batch.records.entries()) {
          const e = record.value;
          if (e.role === 'score' && e.request) {
            const evicted = await task.storeRequest(e.request);
            if (evicted) ctx.metrics.count('requests_evicted', evicted);
          }
          if (e.role === 'learn') {
            let outcome = learnedInBatch?.[i];
            if (!outcome) {
              sync?.beforeLearn(e);
              outcome = learnFrom(e);
            }
            if (outcome === 'invalid') {
              ctx.deadLetter(
                record.meta,
                new AgentrecError('NUMERIC_INVALID', 'gradient is not finite; no row was changed', { step: name, field: 'feedback.value' }),
              );
              continue;
            }
            ctx.metrics.count(
              outcome === 'applied' ? (e.matched ? 'feedback_applied' : 'feedback_applied_without_request') : 'feedback_ignored',
            );
          }
          kept.push(record);
        }
        // Every row read this batch is written back (sighting counts, last-touched time), so the
        // stored bytes are the same whatever the batch boundaries were.
        task.endBatch();
        const expired = task.expiredInBatch;
        await task.rows.putRows(expired.size ? task.rowsInBatch.filter((row) => !expired.has(row)) : task.rowsInBatch);
        expired.clear();
        await task.saveDense();
        const latest = batch.records.reduce((max, r) => Math.max(max, r.value.event.eventTime), 0);
        countSync(await sync?.afterBatch(latest));
        const purgeCutoff = purgeBoundary(latest);
        if (purgeCutoff !== undefined) {
          const purged = await task.purgeRequests(purgeCutoff);
          if (purged) ctx.metrics.count('requests_expired', purged);
        }
        const sweepCutoff = sweepBoundary(latest);
        // Counted in the row store's `expired` total, which lookup reports as rows_expired.
        if (sweepCutoff !== undefined) await task.rows.expire(sweepCutoff);
        for (const [gauge, average] of [
          ['loss', runningLoss],
          ['hit_at_1', runningHit],
          ['rating_mae', runningRatingError],
        ] as const) {
          if (average.value !== undefined) ctx.metrics.gauge(gauge, average.value);
        }
        ctx.metrics.gauge('updates', task.updates, 'sum');
        ctx.metrics.gauge('requests_stored', task.requests.size, 'sum');
        return { partition: batch.partition, records: kept };
      };

      /**
       * The batch's feedback through the backend's batch path (WebGPU), each record's outcome at
       * its index; undefined, with nothing changed, when the backend could not take the batch:
       * then the loop learns it event by event, dead-lettering what is not finite.
       */
      async function learnAsBatch(batch: Batch<LookedUpEvent>): Promise<LearnOutcome[] | undefined> {
        const outcomes: LearnOutcome[] = [];
        const items: BatchLearnItem[] = [];
        const itemRecords: number[] = [];
        const tally = task.ratingTally();
        let unknownActions = 0;
        batch.records.forEach((record, i) => {
          const e = record.value;
          if (e.role !== 'learn') return;
          outcomes[i] = 'ignored';
          const feedback = e.event.feedback;
          if (!feedback || !e.request) return;
          const center = (value: number) => task.ratingCenter(value, tally);
          const loss = feedbackLoss(e, model, sampleWeight(e.event), task.linearLearningRate(e), center);
          if (!loss) {
            if (namesUnofferedAction(e)) unknownActions++;
            return;
          }
          if (feedback.signal === 'RATING') {
            tally.count++;
            tally.sum += feedback.value;
          }
          items.push({ event: e, loss });
          itemRecords.push(i);
        });
        if (items.length === 0) return undefined;
        for (const item of items) sync?.beforeLearn(item.event);
        const result = await task.learnBatch(items, name);
        if (!result) {
          ctx.metrics.count('device_batches_relearned');
          return undefined;
        }
        ctx.metrics.count('device_batches');
        if (unknownActions) ctx.metrics.count('feedback_action_unknown', unknownActions);
        items.forEach(({ event, loss }, k) => {
          outcomes[itemRecords[k]] = 'applied';
          const feedback = event.event.feedback!;
          const count = event.candidates.length;
          const scores = result.scores.subarray(result.scoreOffsets[k], result.scoreOffsets[k] + count);
          const positive = feedback.signal === 'CHOSEN' || feedback.signal === 'ACCEPT' || feedback.signal === 'LIKE';
          const top = argmax(scores, count);
          if (positive && count > 1) runningHit.add(loss.index < 0 || top === loss.index ? 1 : 0);
          const judged = scores[loss.index < 0 ? top : loss.index];
          if (feedback.signal === 'RATING') {
            judgeRating(feedback.value, judged);
            task.observeRating(feedback.value);
          }
          task.observeAcceptance(feedback.signal, judged, loss.weight);
          if (loss.weight > 0) runningLoss.add(result.losses[k] / loss.weight);
        });
        return outcomes;
      }

      function learnFrom(e: LookedUpEvent): LearnOutcome {
        const feedback = e.event.feedback;
        const request = e.request;
        if (!feedback || !request) return 'ignored';
        const count = e.candidates.length;
        task.score(e, scores);
        const loss = feedbackLoss(e, model, sampleWeight(e.event), task.linearLearningRate(e), (value) => task.ratingCenter(value));
        if (!loss) {
          // lookup adds an action its request did not offer unless learnUnseenActions is off.
          if (namesUnofferedAction(e)) ctx.metrics.count('feedback_action_unknown');
          return 'ignored';
        }
        // Feedback naming no action is about the candidate the model ranked first.
        const top = argmax(scores, count);
        const index = loss.index < 0 ? top : loss.index;
        // Before learning changes the rows: the calibration learns from the score as it was.
        task.observeAcceptance(feedback.signal, scores[index], loss.weight);
        if (feedback.signal === 'RATING') judgeRating(feedback.value, scores[index]);
        const value = applyFeedbackLoss(loss, scores, index, dScores, count);
        const positive = feedback.signal === 'CHOSEN' || feedback.signal === 'ACCEPT' || feedback.signal === 'LIKE';
        if (positive && count > 1) runningHit.add(top === index ? 1 : 0);
        if (!task.learn(e, dScores)) return 'invalid';
        if (feedback.signal === 'RATING') task.observeRating(feedback.value);
        if (loss.weight > 0) runningLoss.add(value / loss.weight);
        return 'applied';
      }
    },
    {
      options: {
        model: model.name,
        optimizer: model.sparseOptimizer.kind,
        sampleWeights: model.sampleWeights,
        requestTtlMs: model.requestTtlMs,
        syncEveryEvents: syncConfig?.everyEvents ?? 0,
      },
      stores: model.stores,
      topics: syncConfig && syncConfig.everyEvents > 0 ? [modelSyncTopicSpec(syncConfig)] : undefined,
      protocol: modelProtocol(model, 'learn'),
    },
  );

  function sampleWeight(event: TrajectoryEvent): number {
    return event.source === 'SIMULATED' ? model.sampleWeights.simulated : model.sampleWeights.real;
  }
}

/**
 * For event times seen in order: the latest multiple of `interval` at or below `latest` when it
 * is past the one returned last, otherwise undefined (never for an infinite interval).
 */
function boundaryCrossings(interval: number): (latest: number) => number | undefined {
  let last = -Infinity;
  return (latest) => {
    if (!Number.isFinite(interval)) return undefined;
    const boundary = Math.floor(latest / interval) * interval;
    if (boundary <= last) return undefined;
    last = boundary;
    return boundary;
  };
}

function requireLog(log: StepContext['log']): NonNullable<StepContext['log']> {
  if (!log) throw new AgentrecError('TOPOLOGY_INVALID', 'model sync needs a runtime that gives steps access to the log');
  return log;
}
