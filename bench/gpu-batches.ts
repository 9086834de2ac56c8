/**
 * FM learning per batch on every backend, in one run: events/s of whole feedback batches (64 …
 * 16,384 events) on the TypeScript kernel, the WebAssembly SIMD kernel and WebGPU, the GPU's time
 * including packing, upload, dispatch and readback. Event shape: d = 32, a user row and 8
 * feature rows drawn from 10,000 users and 2,000 features, 10 candidates from 500 actions,
 * softmax over the candidates (the CHOSEN loss). Each backend starts from the same rows.
 *
 *   npx tsx bench/gpu-batches.ts [--seconds 1] [--sizes 64,1024,16384]
 *
 * On lavapipe (software Vulkan, CI) the WebGPU figures only show that it runs.
 */
import { parseArgs } from 'node:util';
import { recommenderModel, type RecommenderModel } from '../src/recommender/model/recommender-model.js';
import { TypeScriptBackend } from '../src/recommender/model/backends/typescript/typescript-backend.js';
import { WasmSimdBackend } from '../src/recommender/model/backends/wasm-simd/wasm-simd-backend.js';
import { WebGpuBackend } from '../src/recommender/model/backends/webgpu/webgpu-backend.js';
import { learnBatchOnCpu } from '../src/recommender/model/backends/webgpu/cpu-batch.js';
import type { BatchLearnItem } from '../src/recommender/model/backends/webgpu/fm-batch-plan.js';
import { probeGpuAdapter } from '../src/recommender/model/backends/webgpu/gpu-device.js';
import type { ModelBackend } from '../src/recommender/model/backends/model-backend.js';
import type { EmbeddingRow } from '../src/recommender/rows/embedding-row-store.js';
import type { LookedUpEvent } from '../src/recommender/types.js';
import type { TrajectoryEvent } from '../src/recommender/records.js';
import { splitmix32 } from '../src/recommender/model/kernels/prng.js';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '1' }, sizes: { type: 'string', default: '64,256,1024,4096,16384' } },
});
const SECONDS = Number(args.seconds);
const SIZES = args.sizes.split(',').map(Number);
const DIM = 32;

// Candidate crosses off: these events carry no session features to cross, so this measures the rows' kernel.
const model = recommenderModel({
  name: 'rec',
  dim: DIM,
  maxCandidates: 16,
  maxFeatures: 16,
  backend: 'typescript',
  candidateCrosses: false,
});

function makeRows(prefix: string, n: number, seed: number): EmbeddingRow[] {
  const random = splitmix32(seed);
  return Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`${prefix}${i}`),
    values: Float32Array.from({ length: DIM + 1 }, (_, k) => (k < DIM ? (random.nextFloat() - 0.5) * 0.02 : 0)),
    slots: new Float32Array(DIM + 1),
    seenCount: 0,
    lastTouchedMs: 0,
    backendSlot: -1,
  }));
}

/** A fresh world (rows start equal for every backend) and `size` feedback items over it. */
function makeBatch(size: number, seed: number): BatchLearnItem[] {
  const users = makeRows('u', 10_000, 1);
  const features = makeRows('f', 2_000, 2);
  const actions = makeRows('a', 500, 3);
  const random = splitmix32(seed);
  const pick = (n: number) => random.nextUint32() % n;
  const feedback = { eventTime: 0, feedback: { signal: 'CHOSEN' } } as unknown as TrajectoryEvent;
  return Array.from({ length: size }, () => {
    const picked = new Set<number>();
    while (picked.size < 10) picked.add(pick(actions.length));
    const event: LookedUpEvent = {
      event: feedback,
      role: 'learn',
      user: users[pick(users.length)],
      features: Array.from({ length: 8 }, () => ({ row: features[pick(features.length)], weight: 1, key: '' })),
      candidates: [...picked].map((a) => actions[a]),
    };
    const lr = model.sparseOptimizer.config.learningRate;
    return { event, loss: { kind: 'softmax' as const, index: pick(10), value: 0, weight: 1, linearLearningRate: lr } };
  });
}

type Learner = (items: BatchLearnItem[]) => Promise<unknown>;

function cpuLearner(create: (m: RecommenderModel, dense: { values: Float32Array; gradient: Float32Array }) => ModelBackend): Learner {
  const dense = { values: new Float32Array(1), gradient: new Float32Array(1) };
  const backend = create(model, dense);
  const slots = new Float32Array(1);
  return async (items) => {
    backend.beginBatch();
    learnBatchOnCpu(backend, dense, slots, model.denseOptimizer.config as never, items, model.maxCandidates);
    backend.endBatch();
  };
}

function gpuLearner(): Learner {
  const dense = { values: new Float32Array(1), gradient: new Float32Array(1) };
  const backend = new WebGpuBackend(model, dense, { info: () => undefined });
  const slots = new Float32Array(1);
  return async (items) => {
    const result = await backend.learnBatch(items, slots);
    if (result.ran !== 'webgpu') throw new Error('the batch fell back to the CPU');
  };
}

/** Events/s of `learn` on batches of `size`, over SECONDS after one warm-up batch. */
async function measure(learn: Learner, size: number): Promise<number> {
  await learn(makeBatch(size, 99));
  let events = 0;
  let spent = 0;
  for (let round = 0; spent < SECONDS * 1000 || round < 2; round++) {
    const items = makeBatch(size, round);
    const started = performance.now();
    await learn(items);
    spent += performance.now() - started;
    events += size;
  }
  return events / (spent / 1000);
}

const adapter = await probeGpuAdapter();
console.log(
  `WebGPU adapter: ${adapter ? `${adapter.description || adapter.architecture}${adapter.software ? ' (software)' : ''}` : 'none'}`,
);
const learners: [string, Learner | undefined][] = [
  ['typescript', cpuLearner((m, d) => new TypeScriptBackend(m, d))],
  ['wasm-simd', cpuLearner((m, d) => new WasmSimdBackend(m, d))],
  ['webgpu', adapter ? gpuLearner() : undefined],
];
// JIT and shader warm-up, so the smallest batch size is not charged for it.
for (const [, learn] of learners) if (learn) for (let i = 0; i < 5; i++) await learn(makeBatch(512, 1000 + i));
console.log('| batch | typescript ev/s | wasm-simd ev/s | webgpu ev/s | webgpu / wasm-simd |');
console.log('| --- | --- | --- | --- | --- |');
for (const size of SIZES) {
  const rates: number[] = [];
  for (const [, learn] of learners) rates.push(learn ? await measure(learn, size) : NaN);
  const [ts, simd, gpu] = rates;
  const fmt = (x: number) => (Number.isNaN(x) ? 'not measured' : Math.round(x).toLocaleString('en-US'));
  console.log(`| ${size} | ${fmt(ts)} | ${fmt(simd)} | ${fmt(gpu)} | ${Number.isNaN(gpu) ? '–' : (gpu / simd).toFixed(2)} |`);
}
process.exit(0);
