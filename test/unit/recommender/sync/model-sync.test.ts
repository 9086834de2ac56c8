import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { HISTORY_BUCKETS } from '../../../../src/recommender/features/action-history-state.js';
import { ftrlUpdate } from '../../../../src/recommender/model/kernels/optimizers.js';
import { modelSyncTopicSpec, modelTopicName, resolveModelSyncConfig } from '../../../../src/recommender/sync/model-sync-config.js';
import {
  DecodeScratch,
  decodeModelDelta,
  decodeModelSyncRecord,
  encodeModelDelta,
  encodeSparseModelDelta,
  type SparseModelDelta,
} from '../../../../src/recommender/sync/model-sync-record.js';
import type { ModelSyncLog } from '../../../../src/recommender/sync/model-sync.js';
import { recommenderModel, type RecommenderModelOptions } from '../../../../src/recommender/model/recommender-model.js';
import { CachingStore } from '../../../../src/state/caching-store.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';
import { parseRowKey, rowKey } from '../../../../src/recommender/rows/row-key.js';
import type { SourceRecord } from '../../../../src/topology/transport/types.js';
import { crossAccumulators, crossWeights, maxAbsDifference, sharedLog, SyncedTask, T0, TOPIC, traffic } from './model-sync-harness.js';

const model = (options: Partial<RecommenderModelOptions> = {}) => recommenderModel({ name: 'rec', dim: 4, maxCandidates: 8, ...options });
const FEATURE = rowKey('feature', 'tool=git');

async function modelTopic(log: ModelSyncLog): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const chunk of log.readToEnd({ topic: TOPIC, partition: 0 })) out.push(...chunk);
  return out;
}

/** Where model sync stores its bases, as in model-sync.ts: the test looks at the store itself. */
const BASES = Buffer.from('\u0000model-sync\u0000base\u0000', 'latin1');
const BASES_END = Buffer.from('\u0000model-sync\u0000base\u0001', 'latin1');

/** Adds `amount` to float 0 of one shared row, as a learning step would (base captured first). */
async function nudge(t: SyncedTask, key: Buffer, amount: number): Promise<void> {
  await t.load();
  const [row] = await t.task.rows.getRows([key], T0);
  t.sync.captureBase([row]);
  row!.values[0] += amount;
  await t.task.rows.putRows([row!]);
  await t.task.rows.writeBack(); // as a commit does: the tests flush or reopen the store next
  await t.sync.afterBatch(T0);
}

async function valueOf(t: SyncedTask, key: Buffer): Promise<number> {
  const [row] = await t.task.rows.getRows([key], T0);
  return row!.values[0];
}

describe('model sync configuration', () => {
  it('rejects user rows as shared, negative intervals and bad topics, naming the path', () => {
    expect(() => resolveModelSyncConfig({ topic: TOPIC, everyEvents: 10, namespaces: ['feature', 'user'] }, '/update/sync')).toThrow(
      expect.objectContaining({ path: '/update/sync/namespaces/1' }),
    );
    expect(() => resolveModelSyncConfig({ topic: TOPIC, everyEvents: -1 })).toThrow(ConfigError);
    expect(() => resolveModelSyncConfig({ topic: TOPIC, everyEvents: 1.5 })).toThrow(
      expect.objectContaining({ path: '/sync/everyEvents' }),
    );
    expect(() => resolveModelSyncConfig({ topic: 'no spaces', everyEvents: 1 })).toThrow(expect.objectContaining({ path: '/sync/topic' }));
    expect(() => resolveModelSyncConfig({ topic: TOPIC, everyEvents: 1, weighting: 'median' as never })).toThrow(
      expect.objectContaining({ path: '/sync/weighting' }),
    );
  });

  it('declares a one-partition compacted model topic named after topology and model', () => {
    const spec = modelSyncTopicSpec(
      resolveModelSyncConfig({ topic: modelTopicName('agent-recommender', 'rec'), everyEvents: 5, compactionLagMs: 60_000 }),
    );
    expect(spec).toEqual({
      topic: 'agent-recommender.rec.model',
      partitions: 1,
      config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' },
    });
  });

  it('round-trips a delta record', () => {
    const delta = {
      rowKey: FEATURE,
      taskId: 'i-1/p3',
      weight: 0.25,
      increment: Float32Array.of(0.5, -1, 3),
      total: Float32Array.of(1, 2, -4),
    };
    const back = decodeModelDelta(encodeModelDelta(delta));
    expect(back.rowKey.equals(FEATURE)).toBe(true);
    // Totals are copied out lazily, through the accessor readers use.
    expect([back.taskId, back.weight, back.increment, back.total]).toEqual([delta.taskId, delta.weight, delta.increment, delta.total]);
    expect(() => decodeModelDelta(encodeModelDelta(delta).subarray(0, 30))).toThrow(/model delta/);
  });

  it('decodes into a scratch the values it decodes without one, until the scratch is used again', () => {
    const sparse = (at: number[], by: number[]): SparseModelDelta => ({
      rowKey: FEATURE,
      taskId: 'i-1/p3',
      weight: 1,
      length: 8,
      changed: Uint32Array.from(at),
      increment: Float32Array.from(by),
      totalAt: Uint32Array.from(at),
      total: Float32Array.from(by.map((v) => 2 * v)),
    });
    const scratch = new DecodeScratch();
    const first = decodeModelSyncRecord(encodeSparseModelDelta(sparse([1, 6], [0.5, -2])), scratch) as SparseModelDelta;
    expect([...first.changed, ...first.increment, ...first.totalAt, ...first.total]).toEqual([1, 6, 0.5, -2, 1, 6, 1, -4]);
    const dense = { rowKey: FEATURE, taskId: 'i-1/p3', weight: 1, increment: Float32Array.of(3, 4), total: Float32Array.of(5, 6) };
    const second = decodeModelSyncRecord(encodeModelDelta(dense), scratch);
    expect([...second.increment, ...second.total]).toEqual([3, 4, 5, 6]);
    // The first record's arrays were views of the scratch: the second one wrote over them.
    expect(first.changed[0]).not.toBe(1);
    const outside = sparse([7], [1]);
    outside.changed[0] = 8;
    expect(() => decodeModelSyncRecord(encodeSparseModelDelta(outside), scratch)).toThrow(/index 8 is outside its 8 values/);
  });
});

describe('ModelSync', () => {
  it('applies each delta with its publisher weight everywhere: average gives init + 1·a + ½·b on both tasks, sum gives init + a + b', async () => {
    for (const weighting of ['average', 'sum'] as const) {
      const { log } = await sharedLog();
      const a = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 1000, weighting, taskId: 'a' });
      const b = new SyncedTask(model(), new MemoryStore(), log, { partition: 1, everyEvents: 1000, weighting, taskId: 'b' });
      await a.load();
      const init = await valueOf(a, FEATURE);
      await nudge(a, FEATURE, 0.5);
      const first = await a.sync.sync(T0); // knows no peer yet: weight 1
      await nudge(b, FEATURE, 0.25);
      const second = await b.sync.sync(T0); // heard from a: weight ½ under 'average'
      await a.sync.sync(T0);
      const expected = init + 0.5 + (weighting === 'average' ? 0.5 : 1) * 0.25;
      expect(first.weight).toBe(1);
      expect(second).toMatchObject({ weight: weighting === 'average' ? 0.5 : 1, peers: 1, published: 1, received: 1 });
      expect(await valueOf(a, FEATURE)).toBeCloseTo(expected, 6);
      expect(await valueOf(b, FEATURE)).toBeCloseTo(expected, 6);
    }
  });

  it.each(['fm', 'dcn'] as const)(
    'two tasks trained on different data converge on their shared rows, dense weights and candidate crosses; without sync they do not (%s)',
    async (interaction) => {
      const shared = {
        features: ['tool=git', 'tool=npm', 'domain=web', 'domain=ml', 'prev_action=a0', 'prev_action=a3'],
        actions: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'],
      };
      const dataA = traffic({ ...shared, users: ['u1', 'u2', 'u3'], preferred: ['a0', 'a1'], count: 240, seed: 1 });
      const dataB = traffic({ ...shared, users: ['v1', 'v2', 'v3'], preferred: ['a4', 'a5'], count: 240, seed: 2 });

      const run = async (everyEvents: number) => {
        const { log } = await sharedLog();
        const a = new SyncedTask(model({ interaction }), new MemoryStore(), log, { partition: 0, everyEvents });
        const b = new SyncedTask(model({ interaction }), new MemoryStore(), log, { partition: 1, everyEvents });
        const userBytesBeforeFinalSync: Map<string, string>[] = [];
        // Interleaved batches of 8: each task syncs after every 20 of its own updates.
        for (let at = 0; at < dataA.length; at += 8) {
          await a.learnBatch(dataA.slice(at, at + 8));
          await b.learnBatch(dataB.slice(at, at + 8));
        }
        userBytesBeforeFinalSync.push(await a.bytes(['user']), await b.bytes(['user']));
        if (everyEvents > 0) for (const t of [a, b, a]) await t.sync.sync(T0); // quiesce: every delta read by every task
        return { a, b, log, userBytesBeforeFinalSync };
      };

      const synced = await run(20);
      const rowsA = await synced.a.values(['feature', 'action']);
      const rowsB = await synced.b.values(['feature', 'action']);
      expect(rowsA.size).toBe(shared.features.length + shared.actions.length);
      expect([...rowsB.keys()].sort()).toEqual([...rowsA.keys()].sort());
      let worst = 0;
      for (const [key, values] of rowsA) worst = Math.max(worst, maxAbsDifference(values, rowsB.get(key)!));
      expect(worst).toBeLessThan(1e-5);
      expect(maxAbsDifference(synced.a.task.dense, synced.b.task.dense)).toBeLessThan(1e-5);
      const crosses = [crossWeights(synced.a.task), crossWeights(synced.b.task)];
      expect(crosses[0].filter((w) => w !== 0).length).toBeGreaterThan(10);
      expect(maxAbsDifference(crosses[0], crosses[1])).toBeLessThan(1e-5);
      // The action-history offsets: stepped by every feedback, learned from both tasks' data.
      const offsets = HISTORY_BUCKETS;
      expect(synced.a.task.history.subarray(0, offsets).some((w) => Math.abs(w) > 1e-3)).toBe(true);
      expect(maxAbsDifference(synced.a.task.history.subarray(0, offsets), synced.b.task.history.subarray(0, offsets))).toBeLessThan(1e-5);

      // User rows: the final syncs wrote none of them, and no record on the topic ever named one.
      expect(await synced.a.bytes(['user'])).toEqual(synced.userBytesBeforeFinalSync[0]);
      expect(await synced.b.bytes(['user'])).toEqual(synced.userBytesBeforeFinalSync[1]);
      const namespaces = new Set((await modelTopic(synced.log)).map((r) => parseRowKey(decodeModelSyncRecord(r.value!).rowKey)!.namespace));
      expect([...namespaces].sort()).toEqual(['action', 'feature', 'model']);

      const unsynced = await run(0);
      const plainA = await unsynced.a.values(['feature', 'action']);
      const plainB = await unsynced.b.values(['feature', 'action']);
      let gap = 0;
      for (const [key, values] of plainA) gap = Math.max(gap, maxAbsDifference(values, plainB.get(key)!));
      expect(gap).toBeGreaterThan(0.05);
      if (interaction === 'dcn') expect(maxAbsDifference(unsynced.a.task.dense, unsynced.b.task.dense)).toBeGreaterThan(1e-3);
      expect(maxAbsDifference(crossWeights(unsynced.a.task), crossWeights(unsynced.b.task))).toBeGreaterThan(0.05);
      expect(maxAbsDifference(unsynced.a.task.history.subarray(0, offsets), unsynced.b.task.history.subarray(0, offsets))).toBeGreaterThan(
        1e-3,
      );
      expect(await modelTopic(unsynced.log)).toHaveLength(0);
    },
  );

  it('with shared optimizer state, the history offsets and the crosses carry their accumulators: both tasks end with the same', async () => {
    const shared = { features: ['tool=git', 'prev_action=a0', 'prev_action=a3'], actions: ['a0', 'a1', 'a2', 'a3', 'a4'] };
    const dataA = traffic({ ...shared, users: ['u1', 'u2'], preferred: ['a0'], count: 120, seed: 1 });
    const dataB = traffic({ ...shared, users: ['v1', 'v2'], preferred: ['a4'], count: 120, seed: 2 });
    const run = async (optimizerState: 'local' | 'shared') => {
      const { log } = await sharedLog();
      const options = { everyEvents: 20, weighting: 'sum', optimizerState } as const;
      const a = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, ...options });
      const b = new SyncedTask(model(), new MemoryStore(), log, { partition: 1, ...options });
      for (let at = 0; at < dataA.length; at += 8) {
        await a.learnBatch(dataA.slice(at, at + 8));
        await b.learnBatch(dataB.slice(at, at + 8));
      }
      for (const t of [a, b, a]) await t.sync.sync(T0);
      return {
        history: maxAbsDifference(a.task.history, b.task.history),
        crossAccumulators: maxAbsDifference(crossAccumulators(a.task), crossAccumulators(b.task)),
      };
    };
    const shared_ = await run('shared');
    const local = await run('local');
    expect(shared_.history).toBeLessThan(1e-4);
    expect(shared_.crossAccumulators).toBeLessThan(1e-4);
    // Kept local, each task's accumulators count only its own gradients.
    expect(local.history).toBeGreaterThan(1e-2);
    expect(local.crossAccumulators).toBeGreaterThan(1e-2);
  });

  it('beforeBatch takes in the peers’ deltas before a batch reads its rows, unless minIntervalMs holds it back', async () => {
    const { log } = await sharedLog();
    const a = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 1, taskId: 'a' });
    const b = new SyncedTask(model(), new MemoryStore(), log, { partition: 1, everyEvents: 1, taskId: 'b' });
    const held = new SyncedTask(model(), new MemoryStore(), log, { partition: 2, everyEvents: 1, minIntervalMs: 60_000, taskId: 'held' });
    await b.load();
    await held.load();
    const init = await valueOf(b, FEATURE);
    await held.sync.sync(T0); // its last sync: just now
    await nudge(a, FEATURE, 0.5);
    await a.sync.sync(T0); // publishes, as at its batch end
    expect(await b.sync.beforeBatch(T0)).toMatchObject({ received: 1, published: 0 });
    expect(await valueOf(b, FEATURE)).toBeCloseTo(init + 0.5, 6);
    expect(await held.sync.beforeBatch(T0)).toBeUndefined();
    expect(await valueOf(held, FEATURE)).toBeCloseTo(init, 6);
  });

  it('never captures or publishes user rows', async () => {
    const { log } = await sharedLog();
    // DCN, so the dense weights move too (an FM's bias gets no softmax gradient).
    const t = new SyncedTask(model({ interaction: 'dcn' }), new MemoryStore(), log, { partition: 0, everyEvents: 1, taskId: 't' });
    await t.learnBatch([{ user: 'u1', features: ['tool=git'], candidates: ['a0', 'a1'], chosen: 1 }]);
    const records = await modelTopic(log);
    const keys = records.map((r) => parseRowKey(decodeModelDelta(r.value!).rowKey)!);
    expect(keys.map((k) => `${k.namespace}:${k.id}`).sort()).toEqual(['action:a0', 'action:a1', 'feature:tool=git', 'model:dense']);
    // A peer record for a user row (a misconfigured publisher) is rejected by the receiver too.
    await log.produce([
      {
        topic: TOPIC,
        partition: 0,
        key: null,
        value: encodeModelDelta({
          rowKey: rowKey('user', 'u1'),
          taskId: 'rogue',
          weight: 1,
          increment: new Float32Array(5).fill(1),
          total: new Float32Array(5).fill(1),
        }),
      },
    ]);
    const userBefore = await t.bytes(['user']);
    const report = await t.sync.sync(T0);
    expect(report.rejected).toBe(1);
    expect(await t.bytes(['user'])).toEqual(userBefore);
  });

  it('does nothing when everyEvents is 0: no store writes, no records', async () => {
    const { log } = await sharedLog();
    const off = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 0 });
    const bare = new SyncedTask(model(), new MemoryStore(), log, { partition: 0 });
    const data = traffic({ users: ['u1'], preferred: ['a0'], features: ['f1', 'f2'], actions: ['a0', 'a1', 'a2'], count: 30, seed: 3 });
    await off.learnBatch(data);
    await off.sync.sync(T0);
    await bare.learnBatch(data, T0, { callSync: false });
    const everything = async (t: SyncedTask) => {
      const out: string[] = [];
      for await (const [k, v] of t.store.range()) out.push(`${k.toString('hex')}=${v.toString('hex')}`);
      return out;
    };
    expect(await everything(off)).toEqual(await everything(bare));
    expect(await modelTopic(log)).toHaveLength(0);
  });

  it('persists the read position with the state: a crash before the flush re-applies nothing twice and skips nothing', async () => {
    const { log } = await sharedLog();
    const a = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 1000, weighting: 'sum', taskId: 'a' });
    await a.load();
    const init = await valueOf(a, FEATURE);
    await nudge(a, FEATURE, 0.5);
    await a.sync.sync(T0);

    const durable = new MemoryStore('b-durable');
    const incarnation = () =>
      new SyncedTask(model(), new CachingStore(durable, { maxBytes: 1 << 20 }), log, { partition: 1, everyEvents: 1000, weighting: 'sum' });
    const crashed = incarnation();
    await crashed.sync.sync(T0);
    expect(await valueOf(crashed, FEATURE)).toBeCloseTo(init + 0.5, 6);
    // Crash: the cache's unflushed writes (row, position) are lost.
    const second = incarnation();
    await second.sync.sync(T0);
    expect(await valueOf(second, FEATURE)).toBeCloseTo(init + 0.5, 6);
    await second.store.flush(10);
    // Restart after the flush: the position came back with the row, nothing is applied again.
    const third = incarnation();
    const report = await third.sync.sync(T0);
    expect(report.received).toBe(0);
    expect(await valueOf(third, FEATURE)).toBeCloseTo(init + 0.5, 6);
    // A later peer delta is still applied once.
    await nudge(a, FEATURE, 0.125);
    await a.sync.sync(T0);
    await third.sync.sync(T0);
    expect(await valueOf(third, FEATURE)).toBeCloseTo(init + 0.625, 6);
  });

  it('keeps bases across a restart, so changes flushed before a sync are still published', async () => {
    const { log } = await sharedLog();
    const durable = new MemoryStore('a-durable');
    const first = new SyncedTask(model(), new CachingStore(durable, { maxBytes: 1 << 20 }), log, {
      partition: 0,
      everyEvents: 1000,
      taskId: 'a1',
    });
    await first.load();
    const init = await valueOf(first, FEATURE);
    await nudge(first, FEATURE, 0.75);
    // A batch leaves its bases in memory; a commit stores them before it flushes.
    const bases = async () => {
      let count = 0;
      for await (const entry of first.store.range({ gte: BASES, lt: BASES_END })) if (entry) count++;
      return count;
    };
    expect(await bases()).toBe(0);
    await (
      await first.sync.published()
    ).delivered;
    expect(await bases()).toBe(1);
    await first.store.flush(3);
    const restarted = new SyncedTask(model(), new CachingStore(durable, { maxBytes: 1 << 20 }), log, {
      partition: 0,
      everyEvents: 1000,
      taskId: 'a2',
    });
    const report = await restarted.sync.sync(T0);
    expect(report.published).toBe(1);
    const [record] = await modelTopic(log);
    expect(decodeModelDelta(record.value!).increment[0]).toBeCloseTo(0.75, 6);
    expect(await valueOf(restarted, FEATURE)).toBeCloseTo(init + 0.75, 6);
  });

  it('a task that first reads a compacted topic gets each incarnation’s whole contribution from its latest record', async () => {
    const { log } = await sharedLog();
    const a = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 1000, weighting: 'sum', taskId: 'a' });
    await a.load();
    const init = await valueOf(a, FEATURE);
    for (const amount of [0.5, 0.25, -0.125]) {
      await nudge(a, FEATURE, amount);
      await a.sync.sync(T0);
    }
    const all = await modelTopic(log);
    const latestPerKey = [...new Map(all.map((r) => [r.key!.toString('latin1'), r])).values()];
    expect(latestPerKey.length).toBeLessThan(all.length);
    const compacted: ModelSyncLog = {
      produce: log.produce,
      async *readToEnd(_tp, from = 0) {
        yield latestPerKey.filter((r) => r.offset >= from);
      },
    };
    const late = new SyncedTask(model(), new MemoryStore(), compacted, { partition: 1, everyEvents: 1000, weighting: 'sum' });
    const report = await late.sync.sync(T0);
    expect(report.bootstrapped).toBe(true);
    expect(await valueOf(late, FEATURE)).toBeCloseTo(init + 0.625, 6);
    expect(await valueOf(a, FEATURE)).toBeCloseTo(init + 0.625, 6);
  });

  it('keeps running totals in the store, not in memory: the same task id continues them, a new one starts from zero', async () => {
    const { log } = await sharedLog();
    const durable = new MemoryStore('a-durable');
    const incarnation = (taskId: string) =>
      new SyncedTask(model(), new CachingStore(durable, { maxBytes: 1 << 20 }), log, {
        partition: 0,
        everyEvents: 1000,
        weighting: 'sum',
        taskId,
      });
    const lastTotal = async () => {
      const records = await modelTopic(log);
      return decodeModelDelta(records[records.length - 1].value!).total[0];
    };
    const first = incarnation('a');
    await nudge(first, FEATURE, 0.5);
    await first.sync.sync(T0);
    await first.store.flush(1);
    expect(await lastTotal()).toBeCloseTo(0.5, 6);

    const sameId = incarnation('a');
    await nudge(sameId, FEATURE, 0.25);
    await sameId.sync.sync(T0);
    expect(await lastTotal()).toBeCloseTo(0.75, 6);
    await sameId.store.flush(2);

    const newId = incarnation('b');
    await nudge(newId, FEATURE, 0.125);
    await newId.sync.sync(T0);
    expect(await lastTotal()).toBeCloseTo(0.125, 6);
  });

  it('moves FTRL’s z with the synced weight, so the next local update does not undo the sync', async () => {
    const ftrl = model({ optimizer: { kind: 'ftrl', learningRate: 0.1, l1: 0.001, l2: 0.01 } });
    const { log } = await sharedLog();
    const a = new SyncedTask(ftrl, new MemoryStore(), log, { partition: 0, everyEvents: 1000, weighting: 'sum', taskId: 'a' });
    const b = new SyncedTask(ftrl, new MemoryStore(), log, { partition: 1, everyEvents: 1000, weighting: 'sum', taskId: 'b' });
    await b.learnBatch([{ user: 'v', features: ['tool=git'], candidates: ['a0', 'a1'], chosen: 0 }]);
    await b.sync.sync(T0);
    await nudge(a, FEATURE, 0.5);
    await a.sync.sync(T0);
    await b.sync.sync(T0);
    const [row] = await b.task.rows.getRows([FEATURE], T0);
    const synced = Float32Array.from(row!.values);
    if (ftrl.sparseOptimizer.kind !== 'ftrl') throw new Error('expected an FTRL model');
    ftrlUpdate(row!.values, row!.slots, new Float32Array(row!.values.length), ftrl.sparseOptimizer.config);
    expect(maxAbsDifference(row!.values, synced)).toBeLessThan(1e-6);
    expect(Math.abs(synced[0])).toBeGreaterThan(0.3);
  });

  it('syncs on schedule from afterBatch, every everyEvents updates', async () => {
    const { log } = await sharedLog();
    const t = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 4, taskId: 't' });
    const data = traffic({ users: ['u1'], preferred: ['a0'], features: ['f1'], actions: ['a0', 'a1'], count: 10, seed: 9 });
    const reports: number[] = [];
    for (let at = 0; at < data.length; at += 3) {
      await t.learnBatch(data.slice(at, at + 3));
      reports.push((await modelTopic(log)).length);
    }
    // Updates after each batch: 3, 6, 9, 10 → syncs after the batches reaching 6 and 9.
    expect(reports[0]).toBe(0);
    expect(reports[1]).toBeGreaterThan(0);
    expect(reports[2]).toBeGreaterThan(reports[1]);
    expect(reports[3]).toBe(reports[2]);
  });
});

describe('model sync on a schedule', () => {
  it('syncs at the first batch end minIntervalMs after the last sync, not at every batch', async () => {
    const data = traffic({
      users: ['u1', 'u2'],
      features: ['tool=git'],
      actions: ['a0', 'a1', 'a2'],
      preferred: ['a0'],
      count: 40,
      seed: 3,
    });
    const syncsWith = async (minIntervalMs: number) => {
      const { log } = await sharedLog();
      const t = new SyncedTask(model(), new MemoryStore(), log, { partition: 0, everyEvents: 1, minIntervalMs });
      let syncs = 0;
      for (let at = 0; at < data.length; at += 4) {
        await t.learnBatch(data.slice(at, at + 4), T0, { callSync: false });
        if (await t.sync.afterBatch(T0)) syncs++;
      }
      return syncs;
    };
    expect(await syncsWith(0)).toBe(10);
    // Ten batches take far less than a minute: only the first one syncs.
    expect(await syncsWith(60_000)).toBe(1);
    expect(() => resolveModelSyncConfig({ topic: TOPIC, everyEvents: 1, minIntervalMs: -1 })).toThrow(
      expect.objectContaining({ path: '/sync/minIntervalMs' }),
    );
  });
});
