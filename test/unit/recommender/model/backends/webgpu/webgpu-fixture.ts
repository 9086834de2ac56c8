/**
 * Shared by the WebGPU tests: one adapter probe per file (a CI run without an adapter fails
 * instead of skipping), and batches of feedback events over a small row set in which users,
 * features and actions repeat within a batch, so the in-order semantics are exercised. Not a test file.
 */
import { ModelTask } from '../../../../../../src/recommender/model/model-task.js';
import {
  recommenderModel,
  type RecommenderModel,
  type RecommenderModelOptions,
} from '../../../../../../src/recommender/model/recommender-model.js';
import type { BatchLearnItem, FeedbackLoss } from '../../../../../../src/recommender/model/backends/webgpu/fm-batch-plan.js';
import type { TrajectoryEvent } from '../../../../../../src/recommender/records.js';
import type { RequestSnapshot } from '../../../../../../src/recommender/types.js';
import type { EmbeddingRow } from '../../../../../../src/recommender/rows/embedding-row-store.js';
import { rowKey } from '../../../../../../src/recommender/rows/row-key.js';
import { splitmix32 } from '../../../../../../src/recommender/model/kernels/prng.js';
import { MemoryStore } from '../../../../../../src/state/memory-store.js';

export { adapter, inCi, skipGpu } from '../../../../../support/webgpu-adapter.js';

/** The models these batches fit (8 candidates, 8 features), crosses off unless `options` turn them on. */
function smallModel(dim: number, options: Partial<RecommenderModelOptions> = {}): RecommenderModel {
  return recommenderModel({
    name: 'rec',
    dim,
    maxCandidates: 8,
    maxFeatures: 8,
    backend: 'typescript',
    candidateCrosses: false,
    ...options,
  });
}

/** An FM the WebGPU backend runs, candidate crosses off (crossModel() has them). */
export function fmModel(dim = 8): RecommenderModel {
  return smallModel(dim);
}

/** A DCN-v2 of the same rows: full rank by default, `rank` > 0 for low rank; `fields` get slots of their own. */
export function dcnModel(dim: number, dcn: { rank?: number; fields?: string[]; hidden?: number[] }): RecommenderModel {
  return smallModel(dim, { interaction: 'dcn', dcn: { crossLayers: 2, hidden: [8], ...dcn } });
}

/**
 * The same FM with every context feature (`f=…`) crossed with every candidate, in a small table
 * (1,024 buckets), so a batch's pairs share buckets and two pairs of one event may collide.
 */
export function crossModel(dim = 8): RecommenderModel {
  return smallModel(dim, { candidateCrosses: { fields: ['f'], buckets: 1024 } });
}

export async function freshTask(model: RecommenderModel): Promise<ModelTask> {
  const task = new ModelTask(model, new MemoryStore('rec'), new MemoryStore('rec-requests'), 0);
  await task.ensureLoaded();
  return task;
}

/** Every row the batches use, by key, from `task`'s store (deterministic init: two tasks get equal rows). */
export async function rowsOf(task: ModelTask): Promise<Map<string, EmbeddingRow>> {
  const keys = [
    ...Array.from({ length: 5 }, (_, i) => rowKey('user', `u${i}`)),
    ...Array.from({ length: 12 }, (_, i) => rowKey('feature', `f=${i}`)),
    ...Array.from({ length: 7 }, (_, i) => rowKey('action', `a${i}`)),
  ];
  const rows = await task.rows.getRows(keys, 0);
  return new Map(keys.map((k, i) => [k.toString('latin1'), rows[i]!]));
}

interface EventShape {
  user?: string;
  features: { key: string; weight: number }[];
  candidates: (string | undefined)[];
  loss: FeedbackLoss;
  signal: 'CHOSEN' | 'RATING';
}

/** `count` batches of `size` events, from a seed: losses of every kind, a missing user or candidate now and then. */
export function eventShapes(seed: number, batches: number, size: number, model: RecommenderModel): EventShape[][] {
  const random = splitmix32(seed);
  const pick = (n: number) => random.nextUint32() % n;
  const lr = model.sparseOptimizer.config.learningRate;
  return Array.from({ length: batches }, () =>
    Array.from({ length: size }, (): EventShape => {
      const featureIds = [...new Set(Array.from({ length: 1 + pick(6) }, () => pick(12)))];
      const candidateIds = [...new Set(Array.from({ length: 2 + pick(5) }, () => pick(7)))];
      const candidates: (string | undefined)[] = candidateIds.map((a) => `a${a}`);
      if (pick(8) === 0) candidates.push(undefined);
      const index = pick(5) === 0 ? -1 : pick(candidates.length);
      const kind = (['softmax', 'logistic', 'logistic', 'squared'] as const)[pick(4)];
      const rating = kind === 'squared';
      const loss: FeedbackLoss = {
        kind,
        index,
        value: kind === 'logistic' ? pick(2) : kind === 'squared' ? pick(5) - 2 : 0,
        weight: pick(4) === 0 ? 0.5 : 1,
        linearLearningRate: rating ? model.rating.linearLearningRate : lr,
      };
      return {
        user: pick(10) === 0 ? undefined : `u${pick(5)}`,
        features: featureIds.map((f) => ({ key: `f=${f}`, weight: f % 3 === 0 ? 0.5 : 1 })),
        candidates,
        loss,
        signal: rating ? 'RATING' : 'CHOSEN',
      };
    }),
  );
}

/** The shapes as items over one task's row objects; the request names the candidates (what candidate crosses pair). */
export function itemsOver(rows: Map<string, EmbeddingRow>, shapes: EventShape[]): BatchLearnItem[] {
  const row = (ns: string, id: string) => rows.get(rowKey(ns, id).toString('latin1'))!;
  return shapes.map((s) => ({
    event: {
      event: { eventTime: 0, feedback: { signal: s.signal } } as unknown as TrajectoryEvent,
      role: 'learn',
      user: s.user === undefined ? undefined : row('user', s.user),
      features: s.features.map((f) => ({ row: row('feature', f.key), weight: f.weight, key: f.key })),
      candidates: s.candidates.map((a) => (a === undefined ? undefined : row('action', a))),
      request: { candidates: s.candidates.map((a) => a ?? '') } as RequestSnapshot,
    },
    loss: s.loss,
  }));
}

/** Largest |a − b| / (1 + |b|) over every row's values and accumulators. */
export function maxRowDifference(a: Map<string, EmbeddingRow>, b: Map<string, EmbeddingRow>): number {
  let max = 0;
  for (const [key, x] of a) {
    const y = b.get(key)!;
    for (let i = 0; i < x.values.length; i++) max = Math.max(max, Math.abs(x.values[i] - y.values[i]) / (1 + Math.abs(y.values[i])));
    for (let i = 0; i < x.slots.length; i++) max = Math.max(max, Math.abs(x.slots[i] - y.slots[i]) / (1 + Math.abs(y.slots[i])));
  }
  return max;
}
