/**
 * DCN-v2 learning per batch, in one run: the TypeScript kernel (one event after another, each
 * seeing the updates of those before it) against the WebGPU backend's hand-written shader (the
 * same sequential semantics, whole batches in one dispatch; its time includes packing, upload and
 * readback) and against the same network in
 * @tensorflow/tfjs as a mini-batch step (every event of a batch scored with the same weights,
 * their gradients summed into one optimizer step), on tfjs's CPU backend and on its WebGPU
 * backend over the `webgpu` (Dawn) device the FM backend uses. tfjs's time includes gathering
 * the rows, uploading them, and downloading the rows' gradients; the rows' AdaGrad steps run on
 * the CPU for all three.
 *
 * Network: d = 32, x0 = [user | mean of 8 feature rows | candidate] (96 wide), 2 full-rank cross
 * layers, MLP 96 → 64 → 1; 20 candidates per event, softmax over them (the CHOSEN loss); AdaGrad
 * on the dense weights. Before timing, one batch from identical weights is scored both ways and
 * the largest score difference printed: both sides compute the same network.
 *
 *   npx tsx bench/dcn-batches.ts [--seconds 2] [--sizes 64,256,1024,4096]
 *
 * On lavapipe (software Vulkan, CI) the WebGPU figures only show that it runs.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  adagradUpdate,
  createDcnScorerWorkspace,
  dcnScorerBackward,
  dcnScorerForward,
  initDcnScorer,
  resolveAdagradConfig,
  resolveDcnScorer,
  softmaxCrossEntropyLoss,
  type DcnContext,
  type DcnScorerModel,
} from '../src/recommender/model/kernels/index.js';
import { splitmix32 } from '../src/recommender/model/kernels/prng.js';
import { WebGpuBackend } from '../src/recommender/model/backends/webgpu/webgpu-backend.js';
import type { BatchLearnItem } from '../src/recommender/model/backends/webgpu/fm-batch-plan.js';
import { recommenderModel } from '../src/recommender/model/recommender-model.js';
import type { EmbeddingRow } from '../src/recommender/rows/embedding-row-store.js';
import type { LookedUpEvent } from '../src/recommender/types.js';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, sizes: { type: 'string', default: '64,256,1024,4096' } },
});
const SECONDS = Number(args.seconds);
const SIZES = args.sizes.split(',').map(Number);
const DIM = 32;
const FEATURES = 8;
const CANDIDATES = 20;
const USERS = 10_000;
const FEATURE_ROWS = 2_000;
const ACTIONS = 500;
const EVENTS = 1 << 15;
const ROWS = resolveAdagradConfig({ learningRate: 0.05, initialAccumulator: 0.001 }, '/bench');
const DENSE = resolveAdagradConfig({ learningRate: 0.01, initialAccumulator: 0.001 }, '/bench');

interface Table {
  values: Float32Array[];
  slots: Float32Array[];
}

function table(n: number, seed: number): Table {
  const random = splitmix32(seed);
  return {
    values: Array.from({ length: n }, () => Float32Array.from({ length: DIM }, () => (random.nextFloat() - 0.5) * 0.1)),
    slots: Array.from({ length: n }, () => new Float32Array(DIM)),
  };
}

const random = splitmix32(11);
const pick = (n: number) => Math.floor(random.nextFloat() * n) % n;
const events = {
  user: Uint32Array.from({ length: EVENTS }, () => pick(USERS)),
  features: Uint32Array.from({ length: EVENTS * FEATURES }, () => pick(FEATURE_ROWS)),
  candidates: Uint32Array.from({ length: EVENTS * CANDIDATES }, () => pick(ACTIONS)),
  chosen: Uint32Array.from({ length: EVENTS }, () => pick(CANDIDATES)),
};

interface Tables {
  users: Table;
  features: Table;
  actions: Table;
}
const freshTables = (): Tables => ({ users: table(USERS, 1), features: table(FEATURE_ROWS, 2), actions: table(ACTIONS, 3) });

/** One event at a time, as the model's TypeScript backend learns. */
function typescriptLearner(model: DcnScorerModel, parameters: Float32Array, tables: Tables) {
  const workspace = createDcnScorerWorkspace(model, CANDIDATES);
  const accumulators = new Float32Array(model.parameterCount);
  const parameterGradients = new Float32Array(model.parameterCount);
  const features: Float32Array[] = new Array(FEATURES);
  const candidates: Float32Array[] = new Array(CANDIDATES);
  const context: DcnContext = {
    user: tables.users.values[0],
    features,
    featureWeights: new Float32Array(FEATURES).fill(1),
    featureSlots: new Int32Array(FEATURES),
    featureCount: FEATURES,
  };
  const gradients = {
    user: new Float32Array(DIM),
    features: Array.from({ length: FEATURES }, () => new Float32Array(DIM)),
    candidates: Array.from({ length: CANDIDATES }, () => new Float32Array(DIM)),
  };
  const scores = new Float32Array(CANDIDATES);
  const dScores = new Float32Array(CANDIDATES);
  return {
    score(e: number, into: Float32Array) {
      context.user = tables.users.values[events.user[e]];
      for (let f = 0; f < FEATURES; f++) features[f] = tables.features.values[events.features[e * FEATURES + f]];
      for (let c = 0; c < CANDIDATES; c++) candidates[c] = tables.actions.values[events.candidates[e * CANDIDATES + c]];
      dcnScorerForward(model, parameters, workspace, context, candidates, into);
    },
    learnBatch(start: number, size: number) {
      for (let e = start; e < start + size; e++) {
        this.score(e, scores);
        softmaxCrossEntropyLoss(scores, events.chosen[e], 1, dScores);
        parameterGradients.fill(0);
        dcnScorerBackward(model, parameters, workspace, context, dScores, parameterGradients, gradients, CANDIDATES);
        stepRows(tables, e, gradients.user, gradients.features, gradients.candidates);
        adagradUpdate(parameters, accumulators, parameterGradients, DENSE);
      }
    },
  };
}

function stepRows(tables: Tables, e: number, user: Float32Array, features: readonly Float32Array[], candidates: readonly Float32Array[]) {
  const u = events.user[e];
  adagradUpdate(tables.users.values[u], tables.users.slots[u], user, ROWS);
  for (let f = 0; f < FEATURES; f++) {
    const id = events.features[e * FEATURES + f];
    adagradUpdate(tables.features.values[id], tables.features.slots[id], features[f], ROWS);
  }
  for (let c = 0; c < CANDIDATES; c++) {
    const id = events.candidates[e * CANDIDATES + c];
    adagradUpdate(tables.actions.values[id], tables.actions.slots[id], candidates[c], ROWS);
  }
}

/**
 * The WebGPU backend's DCN shader on the same events: rows as the model keeps them (dim values
 * plus a linear weight, which DCN leaves at its value), the same initial network, AdaGrad alike.
 */
function handWrittenLearner(parameters: Float32Array, tables: Tables) {
  const model = recommenderModel({
    name: 'bench',
    dim: DIM,
    interaction: 'dcn',
    dcn: { crossLayers: 2, rank: 0, hidden: [64], fields: [] },
    maxCandidates: CANDIDATES,
    maxFeatures: FEATURES,
    optimizer: { kind: 'adagrad', learningRate: ROWS.learningRate, initialAccumulator: ROWS.initialAccumulator },
    denseLearningRate: DENSE.learningRate,
    candidateCrosses: false,
    backend: 'typescript',
  });
  const rowsOf = (t: Table): EmbeddingRow[] =>
    t.values.map((v, i) => ({
      key: Buffer.alloc(0),
      values: Float32Array.from([...v, 0]),
      slots: Float32Array.from([...t.slots[i], 0]),
      seenCount: 1,
      lastTouchedMs: 0,
      backendSlot: -1,
    }));
  const rows = { users: rowsOf(tables.users), features: rowsOf(tables.features), actions: rowsOf(tables.actions) };
  const dense = { values: Float32Array.from([0, ...parameters]), gradient: new Float32Array(1 + parameters.length) };
  const denseSlots = new Float32Array(dense.values.length);
  const backend = new WebGpuBackend(model, dense, { info: () => undefined });
  const item = (e: number): BatchLearnItem => ({
    event: {
      event: { feedback: { signal: 'CHOSEN' } },
      role: 'learn',
      user: rows.users[events.user[e]],
      features: Array.from({ length: FEATURES }, (_, f) => ({
        row: rows.features[events.features[e * FEATURES + f]],
        weight: 1,
        key: `f=${f}`,
      })),
      candidates: Array.from({ length: CANDIDATES }, (_, c) => rows.actions[events.candidates[e * CANDIDATES + c]]),
    } as unknown as LookedUpEvent,
    loss: { kind: 'softmax', index: events.chosen[e], value: 0, weight: 1, linearLearningRate: ROWS.learningRate },
  });
  return {
    /** Learns the batch; returns its first event's scores (from the weights before the batch). */
    async learnBatch(start: number, size: number): Promise<Float32Array> {
      const result = await backend.learnBatch(
        Array.from({ length: size }, (_, i) => item(start + i)),
        denseSlots,
      );
      if (result.ran !== 'webgpu') throw new Error('the batch fell back to the CPU');
      return result.scores.subarray(0, CANDIDATES);
    },
  };
}

/** The TypeScript kernel's flat weights as tf.Variables ([out, in] matrices), so both start alike. */
function variablesOf(model: DcnScorerModel, parameters: Float32Array): tf.Variable[] {
  const D = model.inputDim;
  const variables: tf.Variable[] = [];
  const take = (offset: number, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    variables.push(tf.variable(tf.tensor(parameters.slice(offset, offset + size), shape)));
    return offset + size;
  };
  for (const offset of model.cross.layerOffsets) take(take(offset, [D, D]), [D]);
  const { widths, layerOffsets } = model.mlp;
  for (let l = 0; l < layerOffsets.length; l++) take(take(model.mlpOffset + layerOffsets[l], [widths[l + 1], widths[l]]), [widths[l + 1]]);
  return variables;
}

/** A batch as one tfjs step: scores with the batch's starting weights, summed gradients, one AdaGrad step. */
function tfjsLearner(model: DcnScorerModel, variables: tf.Variable[], tables: Tables) {
  const optimizer = tf.train.adagrad(DENSE.learningRate, DENSE.initialAccumulator);
  const layers = model.cross.layers;
  const forward = (u: tf.Tensor, f: tf.Tensor, c: tf.Tensor, weights: tf.Tensor[], size: number): tf.Tensor2D => {
    const userBlock = u.reshape([size, 1, DIM]).tile([1, CANDIDATES, 1]);
    const featureBlock = f.mean(1, true).tile([1, CANDIDATES, 1]);
    const x0 = tf.concat([userBlock, featureBlock, c], 2).reshape([size * CANDIDATES, model.inputDim]);
    let x = x0;
    for (let l = 0; l < layers; l++) x = x0.mul(x.matMul(weights[2 * l], false, true).add(weights[2 * l + 1])).add(x);
    const mlp = weights.slice(2 * layers);
    for (let l = 0; l < mlp.length; l += 2) {
      x = x.matMul(mlp[l], false, true).add(mlp[l + 1]);
      if (l + 2 < mlp.length) x = tf.relu(x);
    }
    return x.reshape([size, CANDIDATES]);
  };
  const gather = (start: number, size: number) => {
    const user = new Float32Array(size * DIM);
    const features = new Float32Array(size * FEATURES * DIM);
    const candidates = new Float32Array(size * CANDIDATES * DIM);
    for (let i = 0; i < size; i++) {
      const e = start + i;
      user.set(tables.users.values[events.user[e]], i * DIM);
      for (let f = 0; f < FEATURES; f++) features.set(tables.features.values[events.features[e * FEATURES + f]], (i * FEATURES + f) * DIM);
      for (let c = 0; c < CANDIDATES; c++)
        candidates.set(tables.actions.values[events.candidates[e * CANDIDATES + c]], (i * CANDIDATES + c) * DIM);
    }
    return [tf.tensor2d(user, [size, DIM]), tf.tensor3d(features, [size, FEATURES, DIM]), tf.tensor3d(candidates, [size, CANDIDATES, DIM])];
  };
  return {
    async scores(start: number, size: number): Promise<Float32Array> {
      const inputs = gather(start, size);
      const scores = tf.tidy(() => forward(inputs[0], inputs[1], inputs[2], variables, size));
      const values = (await scores.data()) as Float32Array;
      tf.dispose([...inputs, scores]);
      return values;
    },
    async learnBatch(start: number, size: number): Promise<void> {
      const inputs = gather(start, size);
      const labels = tf.oneHot(tf.tensor1d(Int32Array.from(events.chosen.subarray(start, start + size)), 'int32'), CANDIDATES);
      const rowGradients = tf.tidy(() => {
        const loss = (u: tf.Tensor, f: tf.Tensor, c: tf.Tensor, ...weights: tf.Tensor[]) =>
          tf.losses.softmaxCrossEntropy(labels, forward(u, f, c, weights, size), undefined, undefined, tf.Reduction.SUM) as tf.Scalar;
        const grads = tf.grads(loss)([...inputs, ...variables]);
        optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[3 + i] })));
        return grads.slice(0, 3);
      });
      const [user, features, candidates] = (await Promise.all(rowGradients.map((g) => g.data()))) as Float32Array[];
      tf.dispose([...inputs, labels, ...rowGradients]);
      for (let i = 0; i < size; i++) {
        const e = start + i;
        const featureRows = Array.from({ length: FEATURES }, (_, f) =>
          features.subarray((i * FEATURES + f) * DIM, (i * FEATURES + f + 1) * DIM),
        );
        const candidateRows = Array.from({ length: CANDIDATES }, (_, c) =>
          candidates.subarray((i * CANDIDATES + c) * DIM, (i * CANDIDATES + c + 1) * DIM),
        );
        stepRows(tables, e, user.subarray(i * DIM, (i + 1) * DIM), featureRows, candidateRows);
      }
    },
  };
}

/** Events/s learning whole batches of `size` for about SECONDS (after one warm-up batch). */
async function rate(learnBatch: (start: number, size: number) => unknown, size: number): Promise<number> {
  await learnBatch(0, size);
  let learned = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    await learnBatch((learned + size) % (EVENTS - size), size);
    learned += size;
  }
  return learned / ((performance.now() - started) / 1000);
}

async function useWebGpu(): Promise<string | undefined> {
  try {
    const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: object };
    Object.assign(globalThis, globals);
    // tfjs finds its device through navigator.gpu; the instance lives as long as the process.
    const gpu = create([]);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return undefined;
    const adapter = await gpu.requestAdapter();
    return adapter ? `${adapter.info.description || adapter.info.vendor} (${adapter.info.architecture || 'unknown'})` : 'unknown adapter';
  } catch (err) {
    console.log(`tfjs WebGPU backend unavailable: ${(err as Error).message}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const model = resolveDcnScorer({ dim: DIM, crossLayers: 2, rank: 0, hidden: [64], fields: [] });
  const initial = new Float32Array(model.parameterCount);
  initDcnScorer(model, initial, 99);
  console.log(
    `DCN-v2: x0 ${model.inputDim} wide, 2 full-rank cross layers + MLP [64], ${model.parameterCount} dense weights, ${CANDIDATES} candidates`,
  );

  const ts = typescriptLearner(model, initial.slice(), freshTables());
  const gpu = await useWebGpu();
  const handWritten = gpu ? handWrittenLearner(initial, freshTables()) : undefined;
  if (handWritten) {
    const theirs = await handWritten.learnBatch(0, 1);
    const mine = new Float32Array(CANDIDATES);
    ts.score(0, mine);
    const worst = Math.max(...mine.map((m, c) => Math.abs(m - theirs[c])));
    console.log(`hand-written webgpu: largest score difference from the TypeScript kernel, same weights: ${worst.toExponential(2)}`);
  }
  const backends: { name: string; label: string }[] = [{ name: 'cpu', label: 'tfjs cpu' }];
  if (gpu) backends.push({ name: 'webgpu', label: 'tfjs webgpu' });
  console.log(gpu ? `tfjs WebGPU adapter: ${gpu}` : 'tfjs WebGPU: no adapter, CPU only');

  for (const backend of backends) {
    await tf.setBackend(backend.name);
    const check = tfjsLearner(model, variablesOf(model, initial), freshTables());
    const theirs = await check.scores(0, 16);
    const mine = new Float32Array(CANDIDATES);
    let worst = 0;
    for (let e = 0; e < 16; e++) {
      ts.score(e, mine);
      for (let c = 0; c < CANDIDATES; c++) worst = Math.max(worst, Math.abs(mine[c] - theirs[e * CANDIDATES + c]));
    }
    console.log(`${backend.label}: largest score difference from the TypeScript kernel, same weights: ${worst.toExponential(2)}`);
  }

  const tsRate = await rate((start, size) => ts.learnBatch(start, size), 256);
  console.log(`\nTypeScript kernel, event by event: ${Math.round(tsRate).toLocaleString('en-US')} events/s\n`);
  const labels = [...(handWritten ? ['hand-written webgpu'] : []), ...backends.map((b) => b.label)];
  console.log(
    `| batch | TypeScript ev/s | ${labels.map((l) => `${l} ev/s`).join(' | ')} | ${labels.map((l) => `${l} / TS`).join(' | ')} |`,
  );
  console.log(`| --- | --- | ${labels.map(() => '---').join(' | ')} | ${labels.map(() => '---').join(' | ')} |`);
  for (const size of SIZES) {
    const rates: number[] = [];
    if (handWritten) rates.push(await rate((start, n) => handWritten.learnBatch(start, n), size));
    for (const backend of backends) {
      await tf.setBackend(backend.name);
      const variables = variablesOf(model, initial);
      const learner = tfjsLearner(model, variables, freshTables());
      rates.push(await rate((start, n) => learner.learnBatch(start, n), size));
      tf.dispose(variables);
    }
    const cells = rates.map((r) => Math.round(r).toLocaleString('en-US'));
    const ratios = rates.map((r) => (r / tsRate).toFixed(2));
    console.log(`| ${size} | ${Math.round(tsRate).toLocaleString('en-US')} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
