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
