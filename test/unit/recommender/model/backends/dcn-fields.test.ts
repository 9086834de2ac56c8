import { describe, expect, it } from 'vitest';
import { denseLayout } from '../../../../../src/recommender/model/backends/model-backend.js';
import {
  createDcnScorerWorkspace,
  dcnScorerForward,
  TRAJECTORY_DCN_FIELDS,
} from '../../../../../src/recommender/model/kernels/dcn-scorer.js';
import { ModelTask } from '../../../../../src/recommender/model/model-task.js';
import { recommenderModel } from '../../../../../src/recommender/model/recommender-model.js';
import type { TrajectoryEvent } from '../../../../../src/recommender/records.js';
import { rowKey } from '../../../../../src/recommender/rows/row-key.js';
import type { LookedUpEvent } from '../../../../../src/recommender/types.js';
import { MemoryStore } from '../../../../../src/state/memory-store.js';

const FEATURE_KEYS = ['prev_action=search', 'tool=git', 'tool=git×domain=web', 'text.text#17', 'text.text#40', 'turn=1'];

async function scoredTask(fields: readonly string[] | undefined, store = new MemoryStore('rec')) {
  const model = recommenderModel({ name: 'rec', dim: 4, interaction: 'dcn', dcn: { fields, hidden: [5] } });
  const task = new ModelTask(model, store, new MemoryStore('rec-requests'), 0);
  await task.ensureLoaded();
  const keys = [rowKey('user', 'u1'), ...FEATURE_KEYS.map((k) => rowKey('feature', k)), rowKey('action', 'a'), rowKey('action', 'b')];
  const rows = await task.rows.getRows(keys, 0);
  const e: LookedUpEvent = {
    event: { eventTime: 0 } as TrajectoryEvent,
    role: 'learn',
    user: rows[0],
    features: FEATURE_KEYS.map((key, i) => ({ row: rows[1 + i]!, weight: i === 3 ? 0.5 : 1, key })),
    candidates: [rows.at(-2), rows.at(-1)],
  };
  return { model, task, e };
}

describe('DCN field slots in the TypeScript backend', () => {
  it('puts each feature in its field slot, crosses, n-grams and unlisted fields in the rest', async () => {
    const { model, task, e } = await scoredTask(['prev_action', 'tool', 'domain']);
    const scores = new Float32Array(2);
    task.beginBatch();
    task.score(e, scores);
    // The kernel with the slots spelled out: prev_action 0, tool 1, domain 2 (absent), the rest 3.
    const dcn = model.dcn!;
    const expected = new Float32Array(2);
    const context = {
      user: e.user!.values,
      features: e.features.map((f) => f.row.values),
      featureWeights: e.features.map((f) => f.weight),
      featureSlots: [0, 1, 3, 3, 3, 3],
      featureCount: e.features.length,
    };
    const candidates = e.candidates.map((row) => row!.values);
    dcnScorerForward(
      dcn,
      task.dense.subarray(denseLayout(model).dcnOffset),
      createDcnScorerWorkspace(dcn, 2),
      context,
      candidates,
      expected,
    );
    expect(Array.from(scores)).toEqual(Array.from(expected, (s) => Math.fround(s + task.dense[0])));
    // The previous action's row learns through its own slot.
    const before = e.features[0].row.values.slice();
    expect(task.learn(e, new Float32Array([1, 0]))).toBe(true);
    task.endBatch();
    expect(Array.from(e.features[0].row.values)).not.toEqual(Array.from(before));
  });

  it('with no fields pools every feature into one mean, as before field slots', async () => {
    const { model, task, e } = await scoredTask([]);
    expect(model.dcn!.inputDim).toBe(3 * 4);
    const scores = new Float32Array(2);
    task.beginBatch();
    task.score(e, scores);
    task.endBatch();
    const expected = new Float32Array(2);
    const dcn = model.dcn!;
    const context = {
      user: e.user!.values,
      features: e.features.map((f) => f.row.values),
      featureWeights: e.features.map((f) => f.weight),
      featureSlots: e.features.map(() => 0),
      featureCount: e.features.length,
    };
    const candidates = e.candidates.map((row) => row!.values);
    dcnScorerForward(
      dcn,
      task.dense.subarray(denseLayout(model).dcnOffset),
      createDcnScorerWorkspace(dcn, 2),
      context,
      candidates,
      expected,
    );
    expect(Array.from(scores)).toEqual(Array.from(expected, (s) => Math.fround(s + task.dense[0])));
  });

  it('refuses stored dense weights written under other fields, naming both sizes', async () => {
    const store = new MemoryStore('rec');
    const { task } = await scoredTask(undefined, store);
    task.denseDirty = true;
    await task.saveDense();
    const model = recommenderModel({ name: 'rec', dim: 4, interaction: 'dcn', dcn: { hidden: [5], fields: TRAJECTORY_DCN_FIELDS } });
    const other = new ModelTask(model, store, new MemoryStore('rec-requests'), 0);
    await expect(other.ensureLoaded()).rejects.toMatchObject({
      code: 'STATE_CORRUPT',
      message: expect.stringMatching(
        /stored dense weights are \d+ bytes but .*DCN fields \[prev_action, prev2, last_outcome, tool, domain\].* need \d+/,
      ),
    });
  });
});
