/**
 * Drives ModelTask + ModelSync the way the learn step does (lookup rows, score, learn, put,
 * afterBatch), on in-memory stores and a shared embedded log. Not a test file itself.
 */
import { softmaxCrossEntropyLoss } from '../../../../src/recommender/model/kernels/losses.js';
import { modelSyncTopicSpec, resolveModelSyncConfig, type ModelSyncOptions } from '../../../../src/recommender/sync/model-sync-config.js';
import { ModelSync, type ModelSyncLog } from '../../../../src/recommender/sync/model-sync.js';
import { ModelTask } from '../../../../src/recommender/model/model-task.js';
import type { RecommenderModel } from '../../../../src/recommender/model/recommender-model.js';
import type { LookedUpEvent } from '../../../../src/recommender/types.js';
import type { TrajectoryEvent } from '../../../../src/recommender/records.js';
import { decodeRecord } from '../../../../src/recommender/rows/embedding-row-codec.js';
import { rowKey, rowKeyNamespace } from '../../../../src/recommender/rows/row-key.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';
import type { EmbeddingRow } from '../../../../src/recommender/rows/embedding-row-store.js';
import type { KeyValueStore } from '../../../../src/state/store.js';
import { createEmbeddedTransport } from '../../../../src/topology/transport/embedded-transport.js';
import type { Transport } from '../../../../src/topology/transport/types.js';

export const TOPIC = 'test.rec.model';
export const T0 = Date.UTC(2026, 2, 2, 13, 30);

export interface Interaction {
  user: string;
  features: string[];
  candidates: string[];
  /** Index of the chosen candidate. */
  chosen: number;
  /** Each candidate's action-history count bucket (the history step's output), when the request has one. */
  history?: number[];
}

export async function sharedLog(): Promise<{ transport: Transport; log: ModelSyncLog }> {
  const transport = createEmbeddedTransport();
  await transport.ensureTopics([modelSyncTopicSpec(resolveModelSyncConfig({ topic: TOPIC, everyEvents: 1 }))]);
  const producer = transport.createProducer();
  return { transport, log: { produce: (records) => producer.send(records), readToEnd: (tp, from) => transport.readToEnd(tp, from) } };
}

export class SyncedTask {
  readonly task: ModelTask;
  readonly sync: ModelSync;

  constructor(
    readonly model: RecommenderModel,
    readonly store: KeyValueStore,
    log: ModelSyncLog,
    options: Partial<ModelSyncOptions> & { partition: number },
  ) {
    this.task = new ModelTask(model, store, new MemoryStore('requests'), options.partition);
    this.sync = new ModelSync(this.task, store, log, { topic: TOPIC, everyEvents: 0, ...options });
  }

  async load(): Promise<void> {
    await this.task.ensureLoaded();
    await this.sync.ensureLoaded();
  }

  /** One batch: every interaction is a CHOSEN feedback learned in order, then rows are put and sync gets its turn. */
  async learnBatch(batch: readonly Interaction[], now = T0, options: { callSync?: boolean } = {}): Promise<void> {
    const callSync = options.callSync ?? true;
    await this.load();
    const keys: Buffer[] = [];
    for (const i of batch)
      keys.push(rowKey('user', i.user), ...i.features.map((f) => rowKey('feature', f)), ...i.candidates.map((c) => rowKey('action', c)));
    const rows = await this.task.rows.getRows(keys, now);
    this.task.beginBatch(); // as the lookup step does
    const touched = new Set<EmbeddingRow>();
    let at = 0;
    const scores = new Float32Array(this.model.maxCandidates);
    const dScores = new Float32Array(this.model.maxCandidates);
    for (const i of batch) {
      const user = rows[at++];
      const features = i.features.map((key) => ({ row: rows[at++]!, weight: 1, key }));
      const candidates = i.candidates.map(() => rows[at++]);
      const candidateHistory = i.history && Uint8Array.from(i.history);
      const request = { requestId: 'r', userId: i.user, eventTime: now, features: [], candidates: i.candidates, candidateHistory };
      const e: LookedUpEvent = { event: { eventTime: now } as TrajectoryEvent, role: 'learn', request, user, features, candidates };
      for (const row of [user, ...features.map((f) => f.row), ...candidates]) if (row) touched.add(row);
      this.task.score(e, scores);
      softmaxCrossEntropyLoss(scores, i.chosen, 1, dScores, i.candidates.length);
      if (callSync) this.sync.beforeLearn(e);
      if (!this.task.learn(e, dScores)) throw new Error('gradient not finite');
    }
    this.task.endBatch(); // as the learn step does: the backend's copies back into the row objects
    await this.task.rows.putRows(touched);
    await this.task.rows.writeBack(); // as a commit does, so the store holds what the tests read
    await this.task.saveDense();
    if (callSync) await this.sync.afterBatch(now);
    await (
      await this.sync.published()
    ).delivered; // as a commit does before it flushes
    await this.task.saveCrosses();
  }

  /** Row values by latin1 key, for rows of the given namespaces, as a commit would store them. */
  async values(namespaces: readonly string[]): Promise<Map<string, Float32Array>> {
    await this.task.rows.writeBack(); // a sync shifts resident rows in place; a commit stores them
    const out = new Map<string, Float32Array>();
    for await (const [key, value] of this.store.range()) {
      const namespace = rowKeyNamespace(key);
      if (namespace === undefined || !namespaces.includes(namespace)) continue;
      const record = decodeRecord(value, key);
      if (record.data) out.set(key.toString('latin1'), record.data.subarray(0, record.dim));
    }
    return out;
  }

  /** Raw bytes of rows of the given namespaces (values, slots and header), as a commit would store them. */
  async bytes(namespaces: readonly string[]): Promise<Map<string, string>> {
    await this.task.rows.writeBack();
    const out = new Map<string, string>();
    for await (const [key, value] of this.store.range()) {
      const namespace = rowKeyNamespace(key);
      if (namespace !== undefined && namespaces.includes(namespace)) out.set(key.toString('latin1'), value.toString('hex'));
    }
    return out;
  }
}

/** Deterministic traffic: users of one task prefer `preferred`, all tasks share some features and actions. */
export function traffic(options: {
  users: string[];
  preferred: string[];
  features: string[];
  actions: string[];
  count: number;
  seed: number;
}): Interaction[] {
  let state = options.seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  return Array.from({ length: options.count }, () => {
    const candidates = [...new Set([pick(options.preferred), pick(options.actions), pick(options.actions), pick(options.actions)])];
    const features = [...new Set([pick(options.features), pick(options.features)])];
    const chosen = Math.max(
      0,
      candidates.findIndex((c) => options.preferred.includes(c)),
    );
    // Preferred actions were taken before (bucket 2), the others seldom (bucket 0 or 1).
    const history = candidates.map((c) => (options.preferred.includes(c) ? 2 : Math.floor(next() * 2)));
    return { user: pick(options.users), features, candidates, chosen, history };
  });
}

/** The whole candidate-crosses weight table of a task (empty without crosses). */
export function crossWeights(task: ModelTask): Float32Array {
  return crossTable(task, 'chunkWeights');
}

/** The whole candidate-crosses AdaGrad accumulator table of a task (empty without crosses). */
export function crossAccumulators(task: ModelTask): Float32Array {
  return crossTable(task, 'chunkAccumulators');
}

function crossTable(task: ModelTask, part: 'chunkWeights' | 'chunkAccumulators'): Float32Array {
  const crosses = task.crosses;
  if (!crosses) return new Float32Array(0);
  const out = new Float32Array(crosses.chunkCount * crosses.chunkLength);
  for (let chunk = 0; chunk < crosses.chunkCount; chunk++) out.set(crosses[part](chunk), chunk * crosses.chunkLength);
  return out;
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
