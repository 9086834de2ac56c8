import type { DeadLetterRecord } from '../../src/topology/runtime/dead-letter.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import agentRecommender from '../../topologies/agent-recommender.js';
import { makeTinyModel } from '../../scripts/make-tiny-model.js';
import { decode } from '../../src/operators/index.js';
import { emit, encode, recommenderModel, type RecommenderModelOptions, scoreRecordSerde } from '../../src/recommender/index.js';
import { avroSerde } from '../../src/serde/avro-serde.js';
import type { ScoreRecord, TrajectoryEvent } from '../../src/recommender/records.js';
import { validateTrajectoryEvent } from '../../src/recommender/validate-trajectory-event.js';
import { SimulatedUsers } from '../../src/recommender/simulation/simulated-users.js';
import { TopologyTestDriver } from '../../src/topology/test-driver.js';
import { describeTopology } from '../../src/topology/describe.js';
import { topology } from '../../src/topology/topology.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { skipGpu } from '../support/webgpu-adapter.js';
import { GpuError } from '../../src/recommender/model/backends/webgpu/gpu-error.js';
import { WebGpuLearnKernel } from '../../src/recommender/model/backends/webgpu/webgpu-learn-kernel.js';
import {
  T0,
  changedKeys,
  decodeRow,
  describeKey,
  entryKey,
  feedbackEvent,
  partitionOf,
  payload,
  pipeEvents,
  requestEvent,
  snapshotStore,
  stepEvents,
  storeRecorder,
  storedRequest,
  trajectorySerde,
} from '../unit/recommender/recommender-harness.js';

const DIM = 32;

function label(key: string): string {
  const k = describeKey(key);
  return `${k.namespace}:${k.id}`;
}

/** The dense weights value: [bias | projection d×D | dcn…] then as many AdaGrad accumulators, then a u64 update count. */
/** A `model` key's floats: the dense weights (values, then accumulators and an 8-byte tail), or a candidate-cross chunk (all of it). */
function denseWeights(bytes: Buffer, key?: string): Float32Array | Float64Array {
  const id = key === undefined ? '' : describeKey(key).id;
  // The acceptance and rating calibrations and the rating tallies are float64 throughout.
  if (id === 'acceptance' || id === 'ratings' || id === 'rating-calibration')
    return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const floats = id.startsWith('cross/') ? bytes.length / 4 : (bytes.length - 8) / 8;
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + floats * 4));
}

describe('agent-recommender text features', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });
  const tempDir = tempDirs('agent-recommender-text');

  it('hashed n-gram encoder (default): request text becomes learned feature rows that feedback moves', async () => {
    const recorder = storeRecorder();
    driver = await TopologyTestDriver.start(agentRecommender(), { openStore: recorder.openStore });
    const user = 'user-text';
    const partition = partitionOf(driver, user);
    pipeEvents(driver, [requestEvent(user, 'q-1', ['a', 'b'], { text: 'refactor the login flow' })]);
    await driver.settle();
    const before = await snapshotStore(recorder.stores, 'rec');
    const request = await storedRequest(recorder, partition, 'q-1');
    const textKeys = request.features.filter((f) => f.key.startsWith('text.text#'));
    // The agent recommender hashes word unigrams and bigrams: four words → 4 + 3 buckets, unit norm.
    expect(textKeys.length).toBe(7);
    expect(textKeys.reduce((s, f) => s + f.weight * f.weight, 0)).toBeCloseTo(1, 5);
    for (const f of textKeys) expect(decodeRow(before, entryKey(partition, 'feature', f.key)).data).toHaveLength((DIM + 1) * 2);

    pipeEvents(driver, [feedbackEvent(user, 'q-1', { signal: 'ACCEPT', value: 1, actionId: 'b' }, { eventTime: T0 + 1000 })]);
    await driver.settle();
    const after = await snapshotStore(recorder.stores, 'rec');
    for (const f of textKeys) {
      const key = entryKey(partition, 'feature', f.key);
      expect(payload(after, key).equals(payload(before, key)), f.key).toBe(false);
    }
  });

  it.each([['fm'], ['dcn']])(
    'tiny transformers model (%s): requests carry a dense vector, no text rows, and feedback trains the projection',
    async (interaction) => {
      const tiny = makeTinyModel(await tempDir(), 'tiny-bert', { hidden: 32 });
      const recorder = storeRecorder();
      const t = agentRecommender({
        transport: 'embedded',
        settings: { modelDir: tiny.modelDir, denseInputDim: '32', interaction, syncEveryEvents: '0' },
      });
      driver = await TopologyTestDriver.start(t, { openStore: recorder.openStore });
      const user = 'user-dense';
      const partition = partitionOf(driver, user);
      pipeEvents(driver, [
        requestEvent(user, 'd-1', ['a', 'b', 'c'], { text: 'fix the failing test' }),
        feedbackEvent(user, 'd-1', { signal: 'CHOSEN', value: 1, actionId: 'c' }, { eventTime: T0 + 1000 }),
      ]);
      await driver.settle(30_000);
      const request = await storedRequest(recorder, partition, 'd-1');
      expect(request.dense).toHaveLength(32);
      expect(Math.hypot(...request.dense!)).toBeCloseTo(1, 4);
      expect(request.features.some((f) => f.key.startsWith('text.'))).toBe(false);
      const first = await snapshotStore(recorder.stores, 'rec');
      const projection = (bytes: Buffer) => denseWeights(bytes).subarray(1, 1 + DIM * 32);

      pipeEvents(driver, [
        requestEvent(user, 'd-2', ['a', 'b', 'c'], { text: 'deploy the pipeline', eventTime: T0 + 2000 }),
        feedbackEvent(user, 'd-2', { signal: 'CHOSEN', value: 1, actionId: 'a' }, { eventTime: T0 + 3000 }),
      ]);
      await driver.settle(30_000);
      const second = await snapshotStore(recorder.stores, 'rec');
      const denseKey = entryKey(partition, 'model', 'dense');
      const movedBefore = projection(first.get(denseKey)!);
      const movedAfter = projection(second.get(denseKey)!);
      const moved = movedAfter.filter((v, i) => v !== movedBefore[i]).length;
      // Every projection weight sees a gradient: dense vectors have no exact zeros.
      expect(moved).toBeGreaterThan(DIM * 32 * 0.9);
      const scores = driver.readOutput<ScoreRecord>().map((r) => r.value);
      expect(scores).toHaveLength(2);
      for (const s of scores) expect(s.candidates.every((c) => Number.isFinite(c.score))).toBe(true);
      expect(await stepEvents(driver, 'learn', 'feedback_applied')).toBe(2);
      // Rows reach the store only by a write-back at a commit, and each one written is counted.
      const rowKeys = [...second.keys()].filter((key) => ['user', 'feature', 'action'].includes(describeKey(key).namespace));
      expect(rowKeys.length).toBeGreaterThan(0);
      expect(await stepEvents(driver, 'lookup', 'rows_written_back')).toBeGreaterThanOrEqual(rowKeys.length);

      // Feedback past its request falls back to user + action: no text vector, and still learns.
      pipeEvents(driver, [
        feedbackEvent(user, 'd-unknown', { signal: 'ACCEPT', value: 1, actionId: 'b' }, { eventTime: T0 + 4000 }),
        requestEvent(user, 'd-3', ['a', 'b', 'c'], { text: 'review the query', eventTime: T0 + 5000 }),
      ]);
      await driver.settle(30_000);
      expect(await stepEvents(driver, 'learn', 'feedback_applied_without_request')).toBe(1);
      expect(driver.readOutput<ScoreRecord>().map((r) => r.value.requestId)).toEqual(['d-3']);
      expect(driver.readTopic(t.deadLetterTopic)).toEqual([]);
    },
    60_000,
  );

  it.skipIf(skipGpu)(
    '--set encoderDevice=webgpu encodes request text on the GPU into the vectors the CPU stores',
    async () => {
      const tiny = makeTinyModel(await tempDir(), 'tiny-bert', { hidden: 32 });
      const storedVector = async (encoderDevice: string) => {
        const recorder = storeRecorder();
        const settings = { modelDir: tiny.modelDir, denseInputDim: '32', encoderDevice, syncEveryEvents: '0' };
        const t = agentRecommender({ transport: 'embedded', settings });
        const encodeStep = describeTopology(t).steps.find((step) => step.kind === 'encode')!;
        expect(encodeStep.options!.text).toMatchObject({ encoder: 'transformers', device: encoderDevice });
        const run = await TopologyTestDriver.start(t, { openStore: recorder.openStore });
        try {
          pipeEvents(run, [requestEvent('user-gpu', 'g-1', ['a', 'b'], { text: 'run the failing test again' })]);
          await run.settle(30_000);
          return (await storedRequest(recorder, partitionOf(run, 'user-gpu'), 'g-1')).dense!;
        } finally {
          await run.close();
        }
      };
      const [onGpu, onCpu] = [await storedVector('webgpu'), await storedVector('cpu')];
      expect(onGpu).toHaveLength(32);
      onGpu.forEach((v, k) => expect(Math.abs(v - onCpu[k])).toBeLessThan(1e-4));
    },
    60_000,
  );

  it('a text vector whose width differs from denseInputDim dead-letters the request, naming the setting, instead of emitting NaN scores', async () => {
    const tiny = makeTinyModel(await tempDir(), 'tiny-16', { hidden: 16 });
    const t = agentRecommender({ transport: 'embedded', settings: { modelDir: tiny.modelDir, denseInputDim: '32' } });
    driver = await TopologyTestDriver.start(t);
    pipeEvents(driver, [requestEvent('user-narrow', 'n-1', ['a', 'b'])]);
    await driver.settle(30_000);
    expect(driver.readOutput()).toEqual([]);
    const dead = driver.readTopic(t.deadLetterTopic).map((r) => avroSerde<DeadLetterRecord>('dead-letter').deserialize(r.value!));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ step: 'lookup', errorCode: 'CONFIG_INVALID' });
    expect(dead[0].reason).toContain('16-dimensional');
    expect(dead[0].reason).toContain('/model/denseInputDim is 32');
  }, 60_000);
});

function smallRecommender(modelOptions: Partial<RecommenderModelOptions>) {
  // Without a session step there is nothing to cross, and the WebGPU backend runs no crosses.
  const model = recommenderModel({ name: 'rec', dim: 8, candidateCrosses: false, ...modelOptions });
  return topology('small-recommender')
    .from('trajectories', { topic: 'trajectories', partitions: 2 })
    .step(decode('decode', { serde: trajectorySerde, validate: validateTrajectoryEvent }))
    .step(encode('encode', { text: { buckets: 1024 } }))
    .step(model.lookup('lookup'))
    .step(model.score('score'))
    .step(model.learn('learn'))
    .step(emit('emit'))
    .to('scores', { topic: 'scores', serde: scoreRecordSerde() });
}

describe('optimizer and loss options', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  it('FTRL rows carry z and n; RATING feedback pulls the rated action towards (stars − center) · scale and leaves the other candidates alone', async () => {
    const recorder = storeRecorder();
    driver = await TopologyTestDriver.start(
      // Full rating weight: FTRL's steps grow with the gradient, so the default tenth would need more rounds.
      smallRecommender({ optimizer: { kind: 'ftrl', learningRate: 0.1 }, rating: { center: 3, scale: 1, weight: 1 } }),
      { openStore: recorder.openStore },
    );
    const user = 'user-ftrl';
    const partition = partitionOf(driver, user);
    const scoreOf = (s: ScoreRecord, actionId: string) => s.candidates.find((c) => c.actionId === actionId)!.score;
    const history: ScoreRecord[] = [];
    let before = new Map<string, Buffer>();
    for (let round = 0; round < 12; round++) {
      const t = T0 + round * 10_000;
      pipeEvents(driver, [requestEvent(user, `f-${round}`, ['good', 'bad', 'other'], { eventTime: t })]);
      await driver.settle();
      history.push(...driver.readOutput<ScoreRecord>().map((r) => r.value));
      if (round === 0) before = await snapshotStore(recorder.stores, 'rec');
      pipeEvents(driver, [
        feedbackEvent(user, `f-${round}`, { signal: 'RATING', value: 5, actionId: 'good' }, { eventTime: t + 1 }),
        feedbackEvent(user, `f-${round}`, { signal: 'RATING', value: 1, actionId: 'bad' }, { eventTime: t + 2 }),
      ]);
      await driver.settle();
      if (round === 0) {
        const after = await snapshotStore(recorder.stores, 'rec');
        const request = await storedRequest(recorder, partition, 'f-0');
        const changed = [...changedKeys(before, after)].map(label).sort();
        // model:ratings: the count, sum and range of the ratings learned from; model:rating-calibration: the fitted readout.
        const expected = [
          'action:bad',
          'action:good',
          'action:other',
          'model:dense',
          'model:rating-calibration',
          'model:ratings',
          'user:user-ftrl',
        ];
        expect(changed).toEqual([...expected, ...request.features.map((f) => `feature:${f.key}`)].sort());
        // Squared loss on one candidate: 'other' only gets its sighting count written back.
        const other = entryKey(partition, 'action', 'other');
        expect(payload(after, other).equals(payload(before, other))).toBe(true);
        const userRow = decodeRow(after, entryKey(partition, 'user', user));
        expect(userRow.slotCount).toBe(2);
        const n = userRow.data!.subarray(2 * (8 + 1));
        expect(n.every((v) => v > 0)).toBe(true);
        expect(
          decodeRow(before, entryKey(partition, 'user', user))
            .data!.subarray(2 * (8 + 1))
            .every((v) => v === 0),
        ).toBe(true);
      }
    }
    expect(history).toHaveLength(12);
    const [first, last] = [history[0], history[history.length - 1]];
    // Targets are +2 (5 stars) and −2 (1 star): both scores move steadily towards them.
    expect(scoreOf(last, 'good')).toBeGreaterThan(scoreOf(first, 'good') + 0.5);
    expect(scoreOf(last, 'good')).toBeLessThan(2);
    expect(scoreOf(last, 'bad')).toBeLessThan(scoreOf(first, 'bad') - 0.5);
    expect(scoreOf(last, 'bad')).toBeGreaterThan(-2);
    expect(last.candidates.map((c) => c.actionId)).toEqual(['good', 'other', 'bad']);
    expect(await stepEvents(driver, 'learn', 'feedback_applied')).toBe(24);
  });
});

describe('FM backends: wasm-simd and webgpu against typescript', () => {
  it('--set backend=… picks the backend (kernel=… is its older name) and describe() shows it on the score step', () => {
    const backendOf = (settings: Record<string, string>) =>
      describeTopology(agentRecommender({ transport: 'embedded', settings })).steps.find((s) => s.kind === 'score')!.options!.backend;
    expect(backendOf({})).toBe('wasm-simd');
    expect(backendOf({ backend: 'typescript' })).toBe('typescript');
    expect(backendOf({ kernel: 'typescript' })).toBe('typescript');
    expect(backendOf({ interaction: 'dcn' })).toBe('typescript');
    expect(() => backendOf({ backend: 'gpu' })).toThrow(/\/model\/backend/);
    expect(() => backendOf({ backend: 'wasm-simd', interaction: 'dcn' })).toThrow(/\/model\/backend.*FM only/);
    expect(backendOf({ backend: 'webgpu' })).toBe('webgpu');
    expect(() => backendOf({ backend: 'webgpu', candidateTools: 'true' })).toThrow(/\/model\/backend.*candidateTools/);
    const crossesOf = (settings: Record<string, string>) =>
      describeTopology(agentRecommender({ transport: 'embedded', settings })).steps.find((s) => s.kind === 'score')!.options!
        .candidateCrosses;
    expect([crossesOf({}), crossesOf({ candidateCrosses: 'none' }), crossesOf({ candidateCrosses: 'prev2' })]).toEqual([
      'prev_action,prev_outcome,taken',
      'none',
      'prev2',
    ]);
    expect(() => crossesOf({ crossBuckets: '3000' })).toThrow(/\/model\/candidateCrosses\/buckets.*power of two/);
  });

  it('the same stream through both backends changes the same rows by the same amounts and emits the same rankings', async () => {
    await expectSameLearning(await backendRun('wasm-simd'), await backendRun('typescript'));
  });

  it('a user weight (userWeight=3) reaches every backend alike, and changes what is learned', async () => {
    const weighted = (backend: 'wasm-simd' | 'typescript' | 'webgpu') =>
      backendRun(backend, smallRecommender({ dim: 8, backend, userWeight: 3, rows: { actionMinCount: 3 } }));
    const ts = await weighted('typescript');
    await expectSameLearning(await weighted('wasm-simd'), ts);
    if (!skipGpu) await expectSameLearning(await weighted('webgpu'), ts);
    const unweighted = await backendRun('typescript');
    const userKeys = [...ts.rows.keys()].filter((key) => describeKey(key).namespace === 'user');
    expect(userKeys.length).toBeGreaterThan(5);
    expect(userKeys.every((key) => !ts.rows.get(key)!.equals(unweighted.rows.get(key)!))).toBe(true);
  });

  it.skipIf(skipGpu)(
    'backend=webgpu learns each batch on the device, relearns a failed one on the CPU, and ends with the rows typescript ends with',
    async () => {
      // The third batch's device run fails: the learn step learns that batch event by event instead.
      const failure = new GpuError('GPU_FAILED', 'readback', 'device lost (injected)');
      const original = WebGpuLearnKernel.prototype.run;
      let calls = 0;
      const run = vi.spyOn(WebGpuLearnKernel.prototype, 'run').mockImplementation(function (this: WebGpuLearnKernel, ...args) {
        return ++calls === 3 ? Promise.reject(failure) : original.apply(this, args);
      });
      const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      let gpu: BackendRun;
      try {
        gpu = await backendRun('webgpu');
        const lines = log.mock.calls.map((c) => String(c[0]));
        expect(lines.filter((line) => /CPU kernel/.test(line))).toEqual([
          expect.stringMatching(/step 'learn': .*device lost \(injected\)/),
        ]);
        expect(lines.filter((line) => /learning on WebGPU/.test(line)).length).toBeGreaterThan(0);
      } finally {
        run.mockRestore();
        log.mockRestore();
      }
      expect(gpu.relearned).toBe(1);
      expect(gpu.deviceBatches).toBeGreaterThan(5);
      const ts = await backendRun('typescript');
      expect(ts.deviceBatches).toBe(0);
      await expectSameLearning(gpu, ts);
    },
  );

  it.skipIf(skipGpu)(
    'the shipped topology on backend=webgpu (session and history steps, candidate crosses) ends with the rows typescript ends with, FM and DCN',
    async () => {
      for (const interaction of ['fm', 'dcn']) {
        const shipped = (backend: string) =>
          agentRecommender({
            transport: 'embedded',
            settings: { backend, interaction, dim: '8', partitions: '2', syncEveryEvents: '0' },
          });
        const gpu = await backendRun('webgpu', shipped('webgpu'));
        expect(gpu.deviceBatches).toBeGreaterThan(5);
        expect(gpu.relearned).toBe(0);
        await expectSameLearning(gpu, await backendRun('typescript', shipped('typescript')));
      }
    },
  );
});

type BackendRun = Awaited<ReturnType<typeof backendRun>>;

/**
 * Simulated traffic with held-back actions (actionMinCount 3 leaves candidates without a row: the
 * SIMD path's zero block), CHOSEN and ACCEPT/REJECT feedback, and feedback whose request is
 * unknown (user + action fallback), through the small recommender on `backend`.
 */
async function backendRun(
  backend: 'wasm-simd' | 'typescript' | 'webgpu',
  recommender = smallRecommender({ dim: 8, backend, rows: { actionMinCount: 3 } }),
) {
  const users = new SimulatedUsers({ users: 12, actions: 40, candidates: 6, seed: 3 });
  const events: TrajectoryEvent[] = Array.from({ length: 600 }, () => users.next());
  events.push(
    feedbackEvent(
      'user-3',
      'never-scored',
      { signal: 'ACCEPT', value: 1, actionId: 'action-7' },
      { eventTime: events[events.length - 1].eventTime + 1 },
    ),
  );
  const recorder = storeRecorder();
  const driver = await TopologyTestDriver.start(recommender, { openStore: recorder.openStore });
  try {
    for (let at = 0; at < events.length; at += 50) {
      pipeEvents(driver, events.slice(at, at + 50));
      await driver.settle();
    }
    const rows = await snapshotStore(recorder.stores, 'rec');
    const scores = driver.readOutput<ScoreRecord>().map((r) => r.value);
    return {
      rows,
      scores,
      applied: await stepEvents(driver, 'learn', 'feedback_applied'),
      deviceBatches: await stepEvents(driver, 'learn', 'device_batches'),
      relearned: await stepEvents(driver, 'learn', 'device_batches_relearned'),
    };
  } finally {
    await driver.close();
  }
}

/** Every stored row within 1e-4 of the reference run's, and the same requests scored within 1e-4. */
async function expectSameLearning(run: BackendRun, reference: BackendRun): Promise<void> {
  expect(run.applied).toBe(reference.applied);
  expect(run.applied).toBeGreaterThan(100);
  expect([...run.rows.keys()].sort()).toEqual([...reference.rows.keys()].sort());
  let worst = 0;
  let moved = 0;
  for (const [key, bytes] of reference.rows) {
    if (describeKey(key).namespace === 'model') {
      const [a, b] = [denseWeights(bytes, key), denseWeights(run.rows.get(key)!, key)];
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      continue;
    }
    const a = decodeRow(reference.rows, key);
    const b = decodeRow(run.rows, key);
    if (!a.data || !b.data) {
      expect(run.rows.get(key)!.equals(bytes)).toBe(true); // a held-back action's sightings
      continue;
    }
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
    moved++;
  }
  expect(moved).toBeGreaterThan(50);
  expect(worst).toBeLessThan(1e-4);
  expect(run.scores.map((s) => s.requestId)).toEqual(reference.scores.map((s) => s.requestId));
  let worstScore = 0;
  run.scores.forEach((s, i) =>
    s.candidates.forEach((c, j) => (worstScore = Math.max(worstScore, Math.abs(c.score - reference.scores[i].candidates[j].score)))),
  );
  expect(worstScore).toBeLessThan(1e-4);
}

describe('agent-recommender character trigrams', () => {
  it('--set charTrigrams=true adds character trigram rows for the same text', async () => {
    const recorder = storeRecorder();
    const driver = await TopologyTestDriver.start(agentRecommender({ transport: 'embedded', settings: { charTrigrams: 'true' } }), {
      openStore: recorder.openStore,
    });
    try {
      const user = 'user-text';
      pipeEvents(driver, [requestEvent(user, 'q-1', ['a', 'b'], { text: 'refactor the login flow' })]);
      await driver.settle();
      const request = await storedRequest(recorder, partitionOf(driver, user), 'q-1');
      expect(request.features.filter((f) => f.key.startsWith('text.text#')).length).toBeGreaterThan(12);
    } finally {
      await driver.close();
    }
  });
});
