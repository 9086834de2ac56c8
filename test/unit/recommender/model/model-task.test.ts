import { describe, expect, it } from 'vitest';
import { ModelTask } from '../../../../src/recommender/model/model-task.js';
import { recommenderModel } from '../../../../src/recommender/model/recommender-model.js';
import { rowKey } from '../../../../src/recommender/rows/row-key.js';
import type { TrajectoryEvent } from '../../../../src/recommender/records.js';
import type { LookedUpEvent } from '../../../../src/recommender/types.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';

describe('ModelTask batches', () => {
  it.each(['typescript', 'wasm-simd'] as const)('%s: score and learn run only between beginBatch and endBatch', async (backend) => {
    const model = recommenderModel({ name: 'rec', dim: 8, backend });
    const task = new ModelTask(model, new MemoryStore('rec'), new MemoryStore('rec-requests'), 0);
    await task.ensureLoaded();
    const [user] = await task.rows.getRows([rowKey('user', 'u1')], 0);
    const event = { eventTime: 0 } as TrajectoryEvent;
    const e: LookedUpEvent = { event, role: 'learn', user, features: [], candidates: [undefined, undefined] };
    const scores = new Float32Array(model.maxCandidates);
    const dScores = new Float32Array(model.maxCandidates).fill(0.5);
    const message = expect.stringMatching(/model 'rec' cannot score outside a batch/);
    const outside = expect.objectContaining({ code: 'TASK_STATE_ILLEGAL', message });
    expect(() => task.score(e, scores)).toThrow(outside);
    task.beginBatch();
    task.score(e, scores);
    expect(task.learn(e, dScores)).toBe(true);
    task.endBatch();
    expect(() => task.learn(e, dScores)).toThrow(/model 'rec' cannot learn outside a batch/);
    expect(() => task.score(e, scores)).toThrow(/cannot score outside a batch/);
  });
});

describe('ModelTask history offsets', () => {
  it('adds a learned offset per history bucket, learns it from feedback and keeps it across a reload', async () => {
    const model = recommenderModel({ name: 'rec', dim: 8, backend: 'typescript' });
    const rows = new MemoryStore('rec');
    const task = new ModelTask(model, rows, new MemoryStore('rec-requests'), 0);
    await task.ensureLoaded();
    const [user, a, b] = await task.rows.getRows([rowKey('user', 'u1'), rowKey('action', 'a'), rowKey('action', 'b')], 0);
    const candidateHistory = Uint8Array.from([2, 0]);
    const request = { requestId: 'r', userId: 'u1', eventTime: 0, features: [], candidates: ['a', 'b'], candidateHistory };
    const e: LookedUpEvent = { event: { eventTime: 0 } as TrajectoryEvent, role: 'learn', request, user, features: [], candidates: [a, b] };
    const scores = new Float32Array(model.maxCandidates);
    const without = new Float32Array(model.maxCandidates);
    task.beginBatch();
    for (let step = 0; step < 20; step++) {
      task.score(e, scores);
      // Softmax loss with candidate 'a' (taken twice before) chosen.
      const pa = 1 / (1 + Math.exp(scores[1] - scores[0]));
      expect(task.learn(e, Float32Array.from([pa - 1, 1 - pa]))).toBe(true);
    }
    task.score(e, scores);
    task.score({ ...e, request: { ...request, candidateHistory: undefined } }, without);
    task.endBatch();
    // Both candidates' offsets moved apart: bucket 2 up, bucket 0 down.
    expect(scores[0] - without[0]).toBeGreaterThan(0.3);
    expect(scores[1] - without[1]).toBeLessThan(-0.3);
    await task.saveDense();

    const reloaded = new ModelTask(model, rows, new MemoryStore('rec-requests'), 0);
    await reloaded.ensureLoaded();
    const again = new Float32Array(model.maxCandidates);
    reloaded.beginBatch();
    reloaded.score(e, again);
    reloaded.endBatch();
    expect(Array.from(again.subarray(0, 2))).toEqual(Array.from(scores.subarray(0, 2)));
  });
});

describe('ModelTask candidate crosses', () => {
  it('learns an offset per (previous action, candidate) pair, only for that context, and keeps it across a reload', async () => {
    // The rows barely move at this rate: what moves the scores is the crosses' own table.
    const model = recommenderModel({ name: 'rec', dim: 8, backend: 'typescript', optimizer: { learningRate: 1e-6 } });
    const rows = new MemoryStore('rec');
    const task = new ModelTask(model, rows, new MemoryStore('rec-requests'), 0);
    await task.ensureLoaded();
    const keys = ['user|u1', 'action|a', 'action|b', 'feature|prev_action=search', 'feature|prev_action=edit', 'feature|text.text#12'];
    const [user, a, b, search, edit, text] = await task.rows.getRows(
      keys.map((k) => rowKey(k.split('|')[0], k.split('|')[1])),
      0,
    );
    const event = { eventTime: 0 } as TrajectoryEvent;
    const request = { requestId: 'r', userId: 'u1', eventTime: 0, features: [], candidates: ['a', 'b'] };
    const at = (...features: { row: typeof user; key: string }[]): LookedUpEvent => ({
      event,
      role: 'learn',
      request,
      user,
      features: features.map((f) => ({ row: f.row!, key: f.key, weight: 1 })),
      candidates: [a, b],
    });
    const afterSearch = at({ row: search, key: 'prev_action=search' }, { row: text, key: 'text.text#12' });
    const afterEdit = at({ row: edit, key: 'prev_action=edit' });
    const gap = (e: LookedUpEvent) => {
      const scores = new Float32Array(2);
      task.score(e, scores);
      return scores[0] - scores[1];
    };
    task.beginBatch();
    const before = { search: gap(afterSearch), edit: gap(afterEdit) };
    const scores = new Float32Array(2);
    for (let step = 0; step < 10; step++) {
      task.score(afterSearch, scores);
      const pa = 1 / (1 + Math.exp(scores[1] - scores[0]));
      expect(task.learn(afterSearch, Float32Array.from([pa - 1, 1 - pa]))).toBe(true);
    }
    const after = { search: gap(afterSearch), edit: gap(afterEdit) };
    task.score(afterSearch, scores);
    task.endBatch();
    // After `search`, 'a' rose above 'b'; after `edit` nothing changed.
    expect(after.search - before.search).toBeGreaterThan(1);
    expect(after.edit - before.edit).toBeCloseTo(0, 3);
    await task.saveCrosses();

    const reloaded = new ModelTask(model, rows, new MemoryStore('rec-requests'), 0);
    await reloaded.ensureLoaded();
    const again = new Float32Array(2);
    reloaded.beginBatch();
    reloaded.score(afterSearch, again);
    reloaded.endBatch();
    expect(Array.from(again)).toEqual(Array.from(scores.subarray(0, 2)));
  });

  it('is off with candidateCrosses false, and names a bad option', async () => {
    expect(recommenderModel({ name: 'rec', candidateCrosses: false }).candidateCrosses).toBeUndefined();
    expect(recommenderModel({ name: 'rec' }).candidateCrosses).toMatchObject({
      fields: ['prev_action', 'prev_outcome', 'taken'],
      buckets: 32_768,
    });
    expect(() => recommenderModel({ name: 'rec', candidateCrosses: { buckets: 3000 } })).toThrow(
      /\/model\/candidateCrosses\/buckets.*power of two/,
    );
    expect(() => recommenderModel({ name: 'rec', candidateCrosses: { fields: ['prev_action=x'] } })).toThrow(
      /\/model\/candidateCrosses\/fields\/0/,
    );
    expect(() => recommenderModel({ name: 'rec', candidateCrosses: { rate: 1 } as never })).toThrow(/\/model\/candidateCrosses\/rate/);
  });

  it("counts a pair's offset at its feature's weight, in the score and in the step", async () => {
    // Crossed with each of 16 taken actions at 1/4, a candidate must not move 16 times as fast as with one previous action.
    const gapAfterOneStep = async (weight: number) => {
      const model = recommenderModel({ name: 'rec', dim: 8, backend: 'typescript', optimizer: { learningRate: 1e-6 } });
      const task = new ModelTask(model, new MemoryStore('rec'), new MemoryStore('rec-requests'), 0);
      await task.ensureLoaded();
      const keys = [rowKey('user', 'u1'), rowKey('action', 'a'), rowKey('action', 'b'), rowKey('feature', 'taken=x')];
      const [user, a, b, taken] = await task.rows.getRows(keys, 0);
      const request = { requestId: 'r', userId: 'u1', eventTime: 0, features: [], candidates: ['a', 'b'] };
      const e: LookedUpEvent = {
        event: { eventTime: 0 } as TrajectoryEvent,
        role: 'learn',
        request,
        user,
        features: [{ row: taken!, key: 'taken=x', weight }],
        candidates: [a, b],
      };
      const scores = new Float32Array(2);
      task.beginBatch();
      task.score(e, scores);
      const before = scores[0] - scores[1];
      expect(task.learn(e, Float32Array.from([-0.5, 0.5]))).toBe(true);
      task.score(e, scores);
      task.endBatch();
      return scores[0] - scores[1] - before;
    };
    const full = await gapAfterOneStep(1);
    expect(full).toBeGreaterThan(0.1);
    // AdaGrad's first step is nearly the same size whatever the gradient's scale, so the weight
    // shows in the score (0.25); the initial accumulator makes the scaled gradient's step a little shorter.
    const ratio = (await gapAfterOneStep(0.25)) / full;
    expect(ratio).toBeGreaterThan(0.2);
    expect(ratio).toBeLessThan(0.249);
  });

  it('refuses a state whose table was hashed into another number of buckets', async () => {
    const rows = new MemoryStore('rec');
    const load = async (buckets: number) => {
      const model = recommenderModel({ name: 'rec', dim: 8, backend: 'typescript', candidateCrosses: { buckets } });
      const task = new ModelTask(model, rows, new MemoryStore('rec-requests'), 3);
      await task.ensureLoaded();
      return task;
    };
    const task = await load(2048);
    task.crosses!.touchChunk(1);
    await task.saveCrosses();
    await expect(load(2048)).resolves.toBeDefined();
    await expect(load(4096)).rejects.toMatchObject({
      code: 'STATE_CORRUPT',
      message: expect.stringMatching(
        /partition 3: .* hashed into 2048 buckets, .*buckets is 4096: set it back \(--set crossBuckets=2048\)/,
      ),
    });
    // State from before the size was recorded was hashed into the default of then, 16,384.
    await rows.delete(rowKey('model', 'cross'));
    await expect(load(65_536)).rejects.toThrow(/hashed into 16384 buckets/);
    await expect(load(16_384)).resolves.toBeDefined();
  });
});
