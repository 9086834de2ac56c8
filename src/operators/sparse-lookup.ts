import { rowKey } from '../state/embedding-row-store.js';
import type { EmbeddingRow } from '../state/embedding-row-store.js';
import { batchStep } from '../topology/step.js';
import type { Batch, StepDefinition } from '../topology/types.js';
import { ModelTask } from './recommender/model-task.js';
import type { RecommenderModel } from './recommender/recommender-model.js';
import type { EncodedEvent, LookedUpEvent, RequestSnapshot } from './recommender/types.js';

export interface SparseLookupOptions {
  model: RecommenderModel;
}

/**
 * Gathers, from the partition's store, every row an event touches: the user's row, its feature
 * rows and one row per candidate action. Feedback is first joined to the request it answers
 * (stored by `update` when that request was scored, or scored earlier in this batch), so the
 * update uses exactly the features that were scored. Feedback whose request is unknown or past
 * its TTL falls back to user + action when it names an action, and is otherwise ignored
 * (counted as `feedback_unmatched`). Rows come from one getRows call per batch: the same row
 * used by two events of the batch is the same object, so updates accumulate in order.
 *
 * @example
 * .step(sparseLookup('lookup', { model }))
 */
export function sparseLookup(name: string, options: SparseLookupOptions): StepDefinition<EncodedEvent, LookedUpEvent> {
  const { model } = options;
  return batchStep<EncodedEvent, LookedUpEvent>(
    name,
    'sparseLookup',
    (ctx) => {
      const reported = { created: 0, expired: 0, filtered: 0 };
      // Users, actions and features repeat constantly; building their key bytes once saves a
      // UTF-8 encode per row per event. Bounded: cleared when full.
      const keyCache = new Map<string, Buffer>();
      const key = (namespace: 'user' | 'feature' | 'action', id: string): Buffer => {
        const cacheKey = `${namespace}\u0000${id}`;
        let bytes = keyCache.get(cacheKey);
        if (!bytes) {
          if (keyCache.size >= 200_000) keyCache.clear();
          keyCache.set(cacheKey, (bytes = rowKey(namespace, id)));
        }
        return bytes;
      };
      return async (batch: Batch<EncodedEvent>) => {
      const task = ModelTask.of(ctx, model);
      await task.ensureLoaded();
      const feedbackIds = batch.records.filter((r) => r.value.event.kind === 'FEEDBACK').map((r) => r.value.event.requestId ?? '');
      const stored = feedbackIds.length ? await task.findRequests(feedbackIds) : [];
      const storedById = new Map(feedbackIds.map((id, i) => [id, stored[i]]));
      const scoredInBatch = new Map<string, RequestSnapshot>();

      const keys: Buffer[] = [];
      const plans: { user: number; features: number[]; weights: number[]; candidates: number[] }[] = [];
      const out = batch.records.map((record) => {
        const { event } = record.value;
        let role: LookedUpEvent['role'] = 'ignore';
        let request: RequestSnapshot | undefined;
        let matched: boolean | undefined;
        if (event.kind === 'REQUEST') {
          role = 'score';
          request = {
            requestId: event.requestId ?? event.eventId,
            userId: event.userId,
            eventTime: event.eventTime,
            features: dedupe(record.value.features).slice(0, model.maxFeatures),
            candidates: event.candidates.slice(0, model.maxCandidates).map((c) => c.actionId),
            dense: record.value.dense ? Array.from(record.value.dense) : undefined,
          };
          scoredInBatch.set(request.requestId, request);
        } else if (event.kind === 'FEEDBACK') {
          const id = event.requestId ?? '';
          const found = scoredInBatch.get(id) ?? storedById.get(id);
          if (found && event.eventTime - found.eventTime <= model.requestTtlMs && found.userId === event.userId) {
            role = 'learn';
            request = found;
            matched = true;
          } else if (event.feedback?.actionId) {
            role = 'learn';
            matched = false;
            request = { requestId: id, userId: event.userId, eventTime: event.eventTime, features: [], candidates: [event.feedback.actionId] };
          } else {
            ctx.metrics.count('feedback_unmatched');
          }
        }
        const plan = { user: -1, features: [] as number[], weights: [] as number[], candidates: [] as number[] };
        if (request) {
          plan.user = keys.push(key('user', request.userId)) - 1;
          for (const f of request.features) {
            plan.features.push(keys.push(key('feature', f.key)) - 1);
            plan.weights.push(f.weight);
          }
          for (const actionId of request.candidates) plan.candidates.push(keys.push(key('action', actionId)) - 1);
        }
        plans.push(plan);
        const dense = request?.dense ? Float32Array.from(request.dense) : undefined;
        return { meta: record.meta, value: { event, role, request, matched, features: [], candidates: [], dense } as LookedUpEvent };
      });

      const now = batch.records.reduce((max, r) => Math.max(max, r.value.event.eventTime), 0);
      const rows: (EmbeddingRow | undefined)[] = keys.length ? await task.rows.getRows(keys, now) : [];
      out.forEach((record, i) => {
        const plan = plans[i];
        const value = record.value;
        if (plan.user >= 0) value.user = rows[plan.user];
        plan.features.forEach((k, j) => {
          const row = rows[k];
          if (row) value.features.push({ row, weight: plan.weights[j] });
        });
        value.candidates = plan.candidates.map((k) => rows[k]);
      });
      // The row store keeps running totals; metrics get the increase since the last batch.
      for (const counter of ['created', 'expired', 'filtered'] as const) {
        const total = task.rows.counters[counter];
        if (total > reported[counter]) ctx.metrics.count(`rows_${counter}`, total - reported[counter]);
        reported[counter] = total;
      }
      return { partition: batch.partition, records: out };
      };
    },
    { options: { model: model.name, dim: model.dim }, stores: model.stores },
  );
}

function dedupe(features: { key: string; weight: number }[]): { key: string; weight: number }[] {
  const merged = new Map<string, number>();
  for (const f of features) merged.set(f.key, (merged.get(f.key) ?? 0) + f.weight);
  return [...merged].map(([key, weight]) => ({ key, weight }));
}
