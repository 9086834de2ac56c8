import { describe, expect, it } from 'vitest';
import {
  decodeModelSyncRecord,
  encodeModelDelta,
  encodeSparseModelDelta,
  isSparseModelDelta,
  modelDeltaKey,
  sparseModelDeltaKey,
  type SparseModelDelta,
} from '../../../../src/recommender/sync/model-sync-record.js';
import type { ModelSyncLog } from '../../../../src/recommender/sync/model-sync.js';
import { recommenderModel } from '../../../../src/recommender/model/recommender-model.js';
import { rowKey } from '../../../../src/recommender/rows/row-key.js';
import { CachingStore } from '../../../../src/state/caching-store.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';
import type { SourceRecord } from '../../../../src/topology/transport/types.js';
import { crossWeights, maxAbsDifference, sharedLog, SyncedTask, T0, traffic } from './model-sync-harness.js';

// One chunk of 1,024 crosses: enough pairs in the traffic below to move more than half of it.
const model = () => recommenderModel({ name: 'rec', dim: 4, maxCandidates: 8, candidateCrosses: { buckets: 1024 } });
const CHUNK = rowKey('model', 'cross/0');

async function modelTopic(log: ModelSyncLog): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const chunk of log.readToEnd({ topic: 'test.rec.model', partition: 0 })) out.push(...chunk);
  return out;
}

/** The log as Kafka's compaction may leave it: only the latest record of each key. */
function compacted(records: SourceRecord[], produce: ModelSyncLog['produce']): ModelSyncLog {
  const latest = [...new Map(records.map((r) => [r.key!.toString('latin1'), r])).values()].sort((a, b) => a.offset - b.offset);
  return {
    produce,
    async *readToEnd(_tp, from = 0) {
      yield latest.filter((r) => r.offset >= from);
    },
  };
}

const sparse = (overrides: Partial<SparseModelDelta> = {}): SparseModelDelta => ({
  rowKey: CHUNK,
  taskId: 'x/p0',
  weight: 1,
  length: 1024,
  changed: Uint32Array.of(3, 700),
  increment: Float32Array.of(0.5, -0.25),
  totalAt: Uint32Array.of(3, 9, 700),
  total: Float32Array.of(1.5, 2, -0.25),
  ...overrides,
});

describe('sparse model-sync records', () => {
  it('round-trip, and are refused when cut short or indexing past their block', () => {
    const delta = sparse();
    const back = decodeModelSyncRecord(encodeSparseModelDelta(delta));
    expect(isSparseModelDelta(back)).toBe(true);
    expect({ ...back, rowKey: back.rowKey.toString('hex') }).toEqual({ ...delta, rowKey: CHUNK.toString('hex') });
    expect(() => decodeModelSyncRecord(encodeSparseModelDelta(delta).subarray(0, 60))).toThrow(/sparse model delta/);
    expect(() => decodeModelSyncRecord(encodeSparseModelDelta(sparse({ length: 500 })))).toThrow(/index 700 is outside its 500 values/);
    // Compaction keeps a block's latest dense and latest sparse record apart.
    expect(sparseModelDeltaKey(CHUNK, 'x/p0').equals(modelDeltaKey(CHUNK, 'x/p0'))).toBe(false);
  });

  it('a first read rebuilds a block from its latest dense record and the sparse totals after it, not before it', async () => {
    const { log } = await sharedLog();
    const denseOf = (taskId: string, values: Record<number, number>) => {
      const total = new Float32Array(1024);
      for (const [i, v] of Object.entries(values)) total[Number(i)] = v;
      const value = encodeModelDelta({ rowKey: CHUNK, taskId, weight: 1, increment: total, total });
      return { topic: 'test.rec.model', partition: 0, key: modelDeltaKey(CHUNK, taskId), value };
    };
    const sparseOf = (taskId: string, totalAt: number[], total: number[]) => {
      const value = encodeSparseModelDelta(sparse({ taskId, totalAt: Uint32Array.from(totalAt), total: Float32Array.from(total) }));
      return { topic: 'test.rec.model', partition: 0, key: sparseModelDeltaKey(CHUNK, taskId), value };
    };
    await log.produce([
      // Incarnation x: its sparse record is superseded by the dense one after it, which holds its totals.
      sparseOf('x/p0', [20], [-1]),
      denseOf('x/p0', { 3: 1, 9: 4, 20: -2 }),
      // Incarnation y: the sparse totals after its dense record replace that record's at their indices.
      denseOf('y/p0', { 5: 1, 9: 1 }),
      sparseOf('y/p0', [5, 700], [3, -0.25]),
    ]);
    const late = new SyncedTask(model(), new MemoryStore(), log, { partition: 1, everyEvents: 1000, weighting: 'sum' });
    await late.load();
    const report = await late.sync.sync(T0);
    expect(report).toMatchObject({ bootstrapped: true, received: 2, rejected: 0 });
    const weights = crossWeights(late.task);
    expect([weights[3], weights[5], weights[9], weights[20], weights[700]]).toEqual([1, 3, 5, -2, -0.25]);
    expect(weights.filter((w) => w !== 0)).toHaveLength(5);
  });

  it('publish a chunk sparse while few of its crosses moved and dense once most did; a late task rebuilds it from the compacted topic', async () => {
    const prev = Array.from({ length: 40 }, (_, i) => `prev_action=a${i}`);
    const actions = Array.from({ length: 40 }, (_, i) => `a${i}`);
    const data = traffic({ users: ['u1', 'u2', 'u3'], preferred: ['a0', 'a1'], features: prev, actions, count: 400, seed: 5 });
    const { log } = await sharedLog();
    const a = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 8, weighting: 'sum', taskId: 'a/p0' });
    for (let at = 0; at < data.length; at += 8) await a.learnBatch(data.slice(at, at + 8));
    await a.sync.sync(T0);

    const records = await modelTopic(log);
    const kinds = records
      .map((r) => decodeModelSyncRecord(r.value!))
      .filter((d) => d.rowKey.equals(CHUNK))
      .map((d) => (isSparseModelDelta(d) ? 'sparse' : 'dense'));
    expect(kinds[0]).toBe('sparse');
    expect(kinds).toContain('dense');
    expect(kinds.lastIndexOf('sparse')).toBeGreaterThan(kinds.indexOf('dense'));
    const sparseBytes = records.filter((r) => r.value![0] === 2).map((r) => r.value!.length);
    expect(Math.max(...sparseBytes)).toBeLessThan(1024 * 8);

    const log2 = compacted(records, log.produce);
    expect((await modelTopic(log2)).length).toBeLessThan(records.length);
    const late = new SyncedTask(model(), new MemoryStore(), log2, { partition: 1, everyEvents: 1000, weighting: 'sum' });
    await late.load();
    expect((await late.sync.sync(T0)).bootstrapped).toBe(true);
    const own = crossWeights(a.task);
    expect(own.filter((w) => w !== 0).length).toBeGreaterThan(512);
    expect(maxAbsDifference(crossWeights(late.task), own)).toBeLessThan(1e-5);
  });

  it('keep a chunk’s running total through a restart: written before the flush, continued by the same incarnation', async () => {
    const prev = Array.from({ length: 12 }, (_, i) => `prev_action=a${i}`);
    const actions = Array.from({ length: 12 }, (_, i) => `a${i}`);
    const data = traffic({ users: ['u1', 'u2'], preferred: ['a0'], features: prev, actions, count: 96, seed: 9 });
    const { log } = await sharedLog();
    const durable = new MemoryStore('a-durable');
    const incarnation = () =>
      new SyncedTask(model(), new CachingStore(durable, { maxBytes: 1 << 22 }), log, {
        partition: 0,
        everyEvents: 8,
        weighting: 'sum',
        taskId: 'a/p0',
      });
    const first = incarnation();
    for (let at = 0; at < 48; at += 8) await first.learnBatch(data.slice(at, at + 8));
    await first.sync.sync(T0);
    await (
      await first.sync.published()
    ).delivered; // as a commit does before it flushes
    await first.task.saveCrosses();
    await first.store.flush(1);
    const restarted = incarnation();
    for (let at = 48; at < 96; at += 8) await restarted.learnBatch(data.slice(at, at + 8));
    await restarted.sync.sync(T0);

    const records = await modelTopic(log);
    const late = new SyncedTask(model(), new MemoryStore(), compacted(records, log.produce), {
      partition: 1,
      everyEvents: 1000,
      weighting: 'sum',
    });
    await late.load();
    await late.sync.sync(T0);
    const own = crossWeights(restarted.task);
    expect(own.filter((w) => w !== 0).length).toBeGreaterThan(20);
    expect(maxAbsDifference(crossWeights(late.task), own)).toBeLessThan(1e-5);
  });
});
