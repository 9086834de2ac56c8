import { describe, expect, it } from 'vitest';
import { ModelTask } from '../../../../../src/recommender/model/model-task.js';
import { recommenderModel } from '../../../../../src/recommender/model/recommender-model.js';
import type { TrajectoryEvent } from '../../../../../src/recommender/records.js';
import { rowKey } from '../../../../../src/recommender/rows/row-key.js';
import type { LookedUpEvent } from '../../../../../src/recommender/types.js';
import { MemoryStore } from '../../../../../src/state/memory-store.js';

async function toolTask() {
  const model = recommenderModel({ name: 'rec', dim: 4, candidateTools: true });
  const task = new ModelTask(model, new MemoryStore('rec'), new MemoryStore('rec-requests'), 0);
  await task.ensureLoaded();
  const keys = ['a', 'b', 'c'].map((a) => rowKey('action', a));
  const [user, a, b, c, git] = await task.rows.getRows([rowKey('user', 'u1'), ...keys, rowKey('feature', 'ctool=git')], 0);
  const e: LookedUpEvent = {
    event: { eventTime: 0 } as TrajectoryEvent,
    role: 'learn',
    user,
    features: [],
    candidates: [a, b, c],
    candidateTools: [git, git, undefined],
  };
  return { model, task, e, rows: { user: user!, a: a!, b: b!, c: c!, git: git! } };
}

describe('candidate tool rows', () => {
  it('runs on the TypeScript backend: the wasm-simd kernel takes one row per candidate', () => {
    expect(recommenderModel({ name: 'rec', dim: 4, candidateTools: true }).backend).toBe('typescript');
    expect(() => recommenderModel({ name: 'rec', dim: 4, candidateTools: true, backend: 'wasm-simd' })).toThrow(/candidateTools is on/);
  });

  it("scores a candidate as its action row plus its tool's row", async () => {
    const { task, e, rows } = await toolTask();
    const withTools = new Float32Array(3);
    task.beginBatch();
    task.score(e, withTools);
    const without = new Float32Array(3);
    task.score({ ...e, candidateTools: undefined }, without);
    task.endBatch();
    const user = rows.user.values;
    const tool = rows.git.values;
    let shift = tool[4];
    for (let k = 0; k < 4; k++) shift += user[k] * tool[k];
    expect(withTools[0]).toBeCloseTo(without[0] + shift, 5);
    expect(withTools[1]).toBeCloseTo(without[1] + shift, 5);
    expect(withTools[2]).toBe(without[2]);
  });

  it('moves the shared tool row once with the summed gradient of the candidates that carry it', async () => {
    const { task, e, rows } = await toolTask();
    const before = rows.git.values.slice();
    const slotsBefore = rows.git.slots.slice();
    task.beginBatch();
    task.score(e, new Float32Array(3));
    expect(task.learn(e, new Float32Array([0.5, -0.25, 0]))).toBe(true);
    task.endBatch();
    // The linear weight's gradient is the sum of the two dScores: one AdaGrad step of 0.25.
    expect(rows.git.slots[4] - slotsBefore[4]).toBeCloseTo(0.25 ** 2, 6);
    expect(rows.git.values[4]).toBeLessThan(before[4]);
    expect(Array.from(rows.git.values)).not.toEqual(Array.from(before));
  });
});
