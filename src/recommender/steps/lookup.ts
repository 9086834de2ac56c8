import { AgentrecError } from '../../errors.js';
import { sighted, type EmbeddingRow } from '../rows/embedding-row-store.js';
import { batchStep } from '../../topology/step.js';
import type { Batch, StepDefinition } from '../../topology/types.js';
import { ModelTask } from '../model/model-task.js';
import { modelProtocol } from '../model/model-protocol.js';
import type { RecommenderModel } from '../model/recommender-model.js';
import { RowSlots, type RowSlot } from '../rows/row-slots.js';
import type { EncodedEvent, LookedUpEvent, RequestSnapshot } from '../types.js';

export interface LookupOptions {
  model: RecommenderModel;
}

/**
 * Gathers, from the partition's store, every row an event touches: the user's row, its feature
 * rows and one row per candidate action. Feedback is first joined to the request it answers
 * (stored by `learn` when that request was scored, or scored earlier in this batch), so the
 * learning uses exactly the features that were scored. Feedback whose request is unknown or past
 * its TTL falls back to user + action when it names an action, and is otherwise ignored
 * (counted as `feedback_unmatched`). Rows are read at each event's own time; the same row used
 * by two events of the batch is the same object, so updates accumulate in order.
 *
 * The first of a model's three steps: it begins the model's batch, which `learn` ends.
 *
 * @example
 * .step(model.lookup('lookup'))
 */
export function lookup(name: string, options: LookupOptions): StepDefinition<EncodedEvent, LookedUpEvent> {
  const { model } = options;
  const rowTtlMs = model.rowStore.ttlMs ?? Infinity;
  return batchStep<EncodedEvent, LookedUpEvent>(
    name,
    'lookup',
    (ctx) => {
      const reported = { created: 0, expired: 0, filtered: 0 };
      // Users, actions and features repeat constantly: their key bytes are built once, and each
      // key's slot remembers the row this batch read for it.
      const slots = new RowSlots();
      // Created here, the model's first step, so the row store's commit hook and its
      // rows_written_back count belong to this step, with the other row counts.
      const task = ModelTask.of(ctx, model);
      return async (batch: Batch<EncodedEvent>) => {
        slots.beginBatch();
        await task.ensureLoaded();
        if (task.beforeBatch) await task.beforeBatch(batch.records.reduce((max, r) => Math.max(max, r.value.event.eventTime), 0));
        task.beginBatch();
        // A text vector the model has no projection for would turn every score into NaN.
        const records = batch.records.filter((record) => {
          const dense = record.value.dense;
          if (!dense || dense.length === model.denseInputDim) return true;
          const why = `encode produced a ${dense.length}-dimensional text vector but /model/denseInputDim is ${model.denseInputDim}`;
          ctx.deadLetter(record.meta, new AgentrecError('CONFIG_INVALID', why, { step: name, field: 'text' }));
          return false;
        });
        // Feedback to a request scored earlier in this batch is joined in memory below; only the
        // rest is looked up among the stored requests (one read per chunk that holds some).
        const requestedEarlier = new Set<string>();
        const feedbackIds: string[] = [];
        for (const { value } of records) {
          const event = value.event;
          if (event.kind === 'REQUEST') requestedEarlier.add(event.requestId ?? event.eventId);
          else if (event.kind === 'FEEDBACK' && !requestedEarlier.has(event.requestId ?? '')) feedbackIds.push(event.requestId ?? '');
        }
        const stored = feedbackIds.length ? await task.findRequests(feedbackIds) : [];
        const storedById = new Map(feedbackIds.map((id, i) => [id, stored[i]]));
        const scoredInBatch = new Map<string, RequestSnapshot>();

        // Per record: the row slots it needs, laid out [user, ...features, ...candidates] (features
        // and candidates of its request, in order).
        const plans: RowSlot[][] = [];
        // A request's slots, for the feedback in this batch that answers it: the same user, features
        // and candidates, so the same plan, without looking ~35 keys up again.
        const planOf = new Map<RequestSnapshot, RowSlot[]>();
        const toolSlot = (tool: string): RowSlot => (tool === '' ? NO_TOOL : slots.slot('feature', toolKey(tool)));
        const planFor = (request: RequestSnapshot): RowSlot[] => {
          // Sized up front: growing ~35-element arrays by push reallocates them several times per record.
          const featureCount = request.features.length;
          const candidateCount = request.candidates.length;
          const tools = request.candidateTools;
          const plan = new Array<RowSlot>(1 + featureCount + candidateCount + (tools ? candidateCount : 0));
          plan[0] = slots.slot('user', request.userId);
          for (let i = 0; i < featureCount; i++) plan[1 + i] = slots.slot('feature', request.features[i].key);
          for (let i = 0; i < candidateCount; i++) plan[1 + featureCount + i] = slots.slot('action', request.candidates[i]);
          // A candidate without a tool has no tool slot; the NO_TOOL slot stands for it and is never read.
          if (tools) for (let i = 0; i < candidateCount; i++) plan[1 + featureCount + candidateCount + i] = toolSlot(tools[i] ?? '');
          planOf.set(request, plan);
          return plan;
        };
        const out = records.map((record) => {
          const { event } = record.value;
          let role: LookedUpEvent['role'] = 'ignore';
          let request: RequestSnapshot | undefined;
          let matched: boolean | undefined;
          if (event.kind === 'REQUEST') {
            role = 'score';
            // Past the model's bounds the request is scored on the first ones only: counted, so a log with more tools than maxCandidates shows.
            if (event.candidates.length > model.maxCandidates)
              ctx.metrics.count('request_candidates_dropped', event.candidates.length - model.maxCandidates);
            if (record.value.features.length > model.maxFeatures)
              ctx.metrics.count('request_features_dropped', record.value.features.length - model.maxFeatures);
            request = {
              requestId: event.requestId ?? event.eventId,
              userId: event.userId,
              eventTime: event.eventTime,
              features:
                record.value.features.length > model.maxFeatures
                  ? record.value.features.slice(0, model.maxFeatures)
                  : record.value.features,
              candidates: actionIds(event.candidates, model.maxCandidates),
              candidateTools: model.candidateTools ? candidateToolNames(event.candidates, model.maxCandidates) : undefined,
              dense: record.value.dense ? Array.from(record.value.dense) : undefined,
              candidateHistory: historyOf(record.value.candidateHistory, model.maxCandidates),
            };
            scoredInBatch.set(request.requestId, request);
          } else if (event.kind === 'FEEDBACK') {
            const id = event.requestId ?? '';
            const found = scoredInBatch.get(id) ?? storedById.get(id);
            if (found && event.eventTime - found.eventTime <= model.requestTtlMs && found.userId === event.userId) {
              role = 'learn';
              request = withAction(found, event.feedback?.actionId);
              matched = true;
            } else if (event.feedback?.actionId) {
              role = 'learn';
              matched = false;
              request = {
                requestId: id,
                userId: event.userId,
                eventTime: event.eventTime,
                features: [],
                candidates: [event.feedback.actionId],
                candidateTools: model.candidateTools ? [''] : undefined,
              };
            } else {
              ctx.metrics.count('feedback_unmatched');
            }
          }
          plans.push(request ? (planOf.get(request) ?? planFor(request)) : NO_ROWS);
          // A request's own vector as encode made it; a stored request's from its snapshot.
          const dense = event.kind === 'REQUEST' ? record.value.dense : request?.dense ? Float32Array.from(request.dense) : undefined;
          const value: LookedUpEvent = { event, role, request, matched, features: [], candidates: [], dense };
          return { meta: record.meta, value };
        });

        // Rows are read at each record's own event time, so the frequency filter's sightings and
        // row expiry come out exactly as with one record per batch (one getRows for the whole batch
        // at its latest time stamped sightings with that time and skipped expiry between two uses
        // inside the batch). A row already read in this batch is reused, not read again: the same
        // object, so the updates of this batch accumulate on it in order.
        await task.rows.prefetch(slots.listed);
        // Scratch, reused record after record (getRows has returned before they are refilled).
        const rows: (EmbeddingRow | undefined)[] = [];
        const missingKeys: Buffer[] = [];
        const missingAt: number[] = [];
        for (let i = 0; i < out.length; i++) {
          const plan = plans[i];
          if (plan.length === 0) continue;
          const value = out[i].value;
          const time = value.event.eventTime;
          rows.length = plan.length;
          missingKeys.length = 0;
          missingAt.length = 0;
          for (let j = 0; j < plan.length; j++) {
            if (plan[j] === NO_TOOL) {
              rows[j] = undefined;
              continue;
            }
            const row = slots.readThisBatch(plan[j]);
            if (row && !(time - row.lastTouchedMs > rowTtlMs)) {
              sighted(row, time);
              rows[j] = row;
            } else {
              if (row) task.expiredInBatch.add(row);
              rows[j] = undefined;
              missingKeys.push(plan[j].key);
              missingAt.push(j);
            }
          }
          if (missingKeys.length) {
            const fetched = task.rows.residentRows(missingKeys, time) ?? (await task.rows.getRows(missingKeys, time));
            for (let m = 0; m < missingAt.length; m++) {
              const j = missingAt[m];
              const row = fetched[m];
              rows[j] = row;
              slots.setRead(plan[j], row);
              // A row the lookup thought expired but the store still serves is the object already
              // listed: it is not expired after all. Any other row is new to this batch.
              if (row && !task.expiredInBatch.delete(row)) task.rowsInBatch.push(row);
            }
          }
          const request = value.request!;
          const featureCount = request.features.length;
          value.user = rows[0];
          // Sized once (rows the filter holds back are left out after): pushing onto the empty
          // literal regrew it several times per record.
          const features = new Array<{ row: EmbeddingRow; weight: number; key: string }>(featureCount);
          let admitted = 0;
          for (let j = 0; j < featureCount; j++) {
            const row = rows[1 + j];
            if (row) {
              const feature = request.features[j];
              features[admitted++] = { row, weight: feature.weight, key: feature.key };
            }
          }
          features.length = admitted;
          value.features = features;
          const candidateCount = request.candidates.length;
          value.candidates = rows.slice(1 + featureCount, 1 + featureCount + candidateCount);
          if (request.candidateTools)
            value.candidateTools = rows.slice(1 + featureCount + candidateCount, 1 + featureCount + 2 * candidateCount);
        }
        // The row store keeps running totals; metrics get the increase since the last batch.
        for (const counter of ['created', 'expired', 'filtered'] as const) {
          const total = task.rows.counters[counter];
          if (total > reported[counter]) ctx.metrics.count(`rows_${counter}`, total - reported[counter]);
          reported[counter] = total;
        }
        return { partition: batch.partition, records: out };
      };
    },
    {
      options: { model: model.name, dim: model.dim, learnUnseenActions: model.learnUnseenActions },
      stores: model.stores,
      protocol: modelProtocol(model, 'lookup'),
    },
  );

  /**
   * The request as feedback should learn from it: when the feedback names an action the request
   * did not offer (a tool first seen when it was called), a copy with that action as one more
   * candidate, so its row is created and the loss covers it; the stored request is not changed.
   */
  function withAction(request: RequestSnapshot, actionId: string | null | undefined): RequestSnapshot {
    if (!actionId || !model.learnUnseenActions || request.candidates.length >= model.maxCandidates || request.candidates.includes(actionId))
      return request;
    const candidateTools = request.candidateTools ? [...request.candidateTools, ''] : undefined;
    return { ...request, candidates: [...request.candidates, actionId], candidateTools };
  }
}

/** The candidates' history buckets as the request keeps them: as many as it keeps candidates. */
function historyOf(buckets: Uint8Array | undefined, maxCandidates: number): Uint8Array | undefined {
  return buckets && buckets.length > maxCandidates ? buckets.subarray(0, maxCandidates) : buckets;
}

/** Stands in the plan for a candidate without a tool: its row is undefined, nothing is read. */
const NO_TOOL: RowSlot = { key: Buffer.alloc(0), row: undefined, readIn: -1, listedIn: -1 };

/** Tool name → its candidate-side feature id, built once per tool (bounded like the row slots). */
const toolKeys = new Map<string, string>();
function toolKey(tool: string): string {
  let key = toolKeys.get(tool);
  if (key === undefined) {
    if (toolKeys.size >= 100_000) toolKeys.clear();
    toolKeys.set(tool, (key = `ctool=${tool}`));
  }
  return key;
}

/** The first `max` candidates' tools, in order ('' for a candidate without one). */
function candidateToolNames(candidates: readonly { tool?: string | null }[], max: number): string[] {
  const count = Math.min(candidates.length, max);
  const tools = new Array<string>(count);
  for (let i = 0; i < count; i++) tools[i] = candidates[i].tool ?? '';
  return tools;
}

/** The plan of a record that touches no rows. */
const NO_ROWS: RowSlot[] = [];

/** The first `max` candidates' action ids, in order. */
function actionIds(candidates: readonly { actionId: string }[], max: number): string[] {
  const count = Math.min(candidates.length, max);
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) ids[i] = candidates[i].actionId;
  return ids;
}
