import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../../src/errors.js';
import { createFmWorkspace, fmBackward, fmPrepareContext, fmRowLength, fmScore } from '../../../../../src/recommender/model/kernels/fm.js';
import { adagradUpdate, resolveAdagradConfig } from '../../../../../src/recommender/model/kernels/optimizers.js';
import { splitmix32 } from '../../../../../src/recommender/model/kernels/prng.js';
import { FmSimdKernel } from '../../../../../src/recommender/model/backends/wasm-simd/fm-simd.js';

const DIM = 8;
const ROW = fmRowLength(DIM);
const CONTEXT_WEIGHTS = [1, 1, 0.5, 0.5, 0.25];
const CANDIDATES = 6;

interface Row {
  values: Float32Array;
  slots: Float32Array;
}

/**
 * One event through both kernels from identical rows: the TypeScript kernel (fm.ts, checked
 * against finite differences in fm.test.ts) followed by adagradUpdate, and the fused SIMD kernel.
 */
function runBoth(
  seed: number,
  dScoresOf: (scores: Float32Array) => Float32Array,
  config = resolveAdagradConfig({ learningRate: 0.1, l2: 0.01, gradientClip: 0.05 }),
  // The linear weights' own rate (a rating's update): different from the factors' to show it reaches them.
  linearLearningRate = 0.3,
) {
  const random = splitmix32(seed);
  const row = (): Row => ({
    values: Float32Array.from({ length: ROW }, () => random.nextFloat() - 0.5),
    slots: Float32Array.from({ length: ROW }, () => random.nextFloat()),
  });
  const context = CONTEXT_WEIGHTS.map(row);
  const candidates = Array.from({ length: CANDIDATES }, row);
  const before = { candidates: candidates.map((r) => r.values.slice()) };
  const bias = 0.2;

  const kernel = new FmSimdKernel(DIM, 64 * 1024);
  const f32 = () => new Float32Array(kernel.memory.buffer);
  const i32 = () => new Int32Array(kernel.memory.buffer);
  const place = (r: Row) => {
    const values = kernel.allocate(ROW * 4);
    const slots = kernel.allocate(ROW * 4);
    f32().set(r.values, values / 4);
    f32().set(r.slots, slots / 4);
    return { values, slots };
  };
  const offsets = (list: number[]) => {
    const at = kernel.allocate(list.length * 4);
    i32().set(list, at / 4);
    return at;
  };
  const placedContext = context.map(place);
  const placedCandidates = candidates.map(place);
  const rows = offsets(placedContext.map((p) => p.values));
  const rowSlots = offsets(placedContext.map((p) => p.slots));
  const cands = offsets(placedCandidates.map((p) => p.values));
  const candSlots = offsets(placedCandidates.map((p) => p.slots));
  const weights = kernel.allocate(CONTEXT_WEIGHTS.length * 4);
  f32().set(CONTEXT_WEIGHTS, weights / 4);
  const sum = kernel.allocate(DIM * 4);
  const scratch = kernel.allocate(DIM * 4);
  const scoresAt = kernel.allocate(CANDIDATES * 4);
  const dScoresAt = kernel.allocate(CANDIDATES * 4);

  const constant = kernel.exports.prepare(rows, weights, context.length, DIM, sum) + bias;
  kernel.exports.score(cands, CANDIDATES, DIM, sum, constant, scoresAt);
  const simdScores = f32().slice(scoresAt / 4, scoresAt / 4 + CANDIDATES);

  const workspace = createFmWorkspace(DIM);
  fmPrepareContext(
    workspace,
    bias,
    context.map((r) => r.values),
    CONTEXT_WEIGHTS,
  );
  const tsScores = new Float32Array(CANDIDATES);
  fmScore(
    workspace,
    candidates.map((r) => r.values),
    tsScores,
  );

  const dScores = dScoresOf(tsScores);
  f32().set(dScores, dScoresAt / 4);
  const contextGradients = context.map(() => new Float32Array(ROW));
  const candidateGradients = candidates.map(() => new Float32Array(ROW));
  const tsBias = fmBackward(
    workspace,
    context.map((r) => r.values),
    CONTEXT_WEIGHTS,
    candidates.map((r) => r.values),
    dScores,
    contextGradients,
    candidateGradients,
  );
  // What ModelTask.learn refuses: any context gradient, judged candidate gradient or the bias
  // gradient (a float32 weight) not finite.
  const judgedGradients = candidateGradients.filter((_, c) => dScores[c] !== 0);
  const tsFinite = [...contextGradients, ...judgedGradients].every((g) => g.every(Number.isFinite)) && Number.isFinite(Math.fround(tsBias));
  const memoryBeforeCheck = f32().slice();
  const call = {
    rows,
    rowSlots,
    weights,
    count: context.length,
    cands,
    candSlots,
    candCount: CANDIDATES,
    dScores: dScoresAt,
    sum,
    scratch,
    config,
    linearLearningRate,
  };
  const simdFinite = kernel.gradientsFinite(call);
  const rowsUnchangedByCheck = [...placedContext, ...placedCandidates].every(
    (p) =>
      Buffer.from(f32().buffer, p.values, ROW * 4).equals(Buffer.from(memoryBeforeCheck.buffer, p.values, ROW * 4)) &&
      Buffer.from(f32().buffer, p.slots, ROW * 4).equals(Buffer.from(memoryBeforeCheck.buffer, p.slots, ROW * 4)),
  );
  const linear = { ...config, learningRate: linearLearningRate };
  const update = (r: Row, gradient: Float32Array) => {
    adagradUpdate(r.values, r.slots, gradient, config, DIM);
    adagradUpdate(r.values.subarray(DIM), r.slots.subarray(DIM), gradient.subarray(DIM), linear, 1);
  };
  context.forEach((r, i) => update(r, contextGradients[i]));
  candidates.forEach((r, c) => dScores[c] !== 0 && update(r, candidateGradients[c]));
  const simdBias = kernel.backwardAdagrad(call);

  const read = (p: { values: number; slots: number }): Row => ({
    values: f32().slice(p.values / 4, p.values / 4 + ROW),
    slots: f32().slice(p.slots / 4, p.slots / 4 + ROW),
  });
  return {
    tsScores,
    simdScores,
    tsBias,
    simdBias,
    ts: [...context, ...candidates],
    simd: [...placedContext, ...placedCandidates].map(read),
    before,
    tsFinite,
    simdFinite,
    rowsUnchangedByCheck,
  };
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('FmSimdKernel (WebAssembly SIMD)', () => {
  it('compiles on this runtime', () => {
    expect(FmSimdKernel.supported()).toBe(true);
  });

  it('scores and applies AdaGrad like the TypeScript kernel: one judged candidate, gradients clipped', () => {
    const result = runBoth(3, (scores) => {
      const d = new Float32Array(CANDIDATES);
      d[2] = 1 / (1 + Math.exp(-scores[2])) - 1;
      return d;
    });
    expect(maxDifference(result.tsScores, result.simdScores)).toBeLessThan(1e-5);
    expect(Math.abs(result.tsBias - result.simdBias)).toBeLessThan(1e-6);
    result.ts.forEach((row, i) => {
      expect(maxDifference(row.values, result.simd[i].values)).toBeLessThan(1e-5);
      expect(maxDifference(row.slots, result.simd[i].slots)).toBeLessThan(1e-5);
    });
  });

  it('updates every candidate with a non-zero dScore (softmax) and leaves the others bit-identical', () => {
    const judged = new Set([0, 3, 5]);
    const result = runBoth(11, () => Float32Array.from({ length: CANDIDATES }, (_, c) => (judged.has(c) ? (c - 2) / 4 : 0)));
    const firstCandidate = CONTEXT_WEIGHTS.length;
    for (let c = 0; c < CANDIDATES; c++) {
      const simd = result.simd[firstCandidate + c];
      expect(maxDifference(result.ts[firstCandidate + c].values, simd.values)).toBeLessThan(1e-5);
      if (!judged.has(c)) expect(Buffer.from(simd.values.buffer).equals(Buffer.from(result.before.candidates[c].buffer))).toBe(true);
      else expect(maxDifference(simd.values, result.before.candidates[c])).toBeGreaterThan(1e-4);
    }
  });

  it('reports finite gradients as finite, without touching any row', () => {
    const result = runBoth(5, () => Float32Array.from({ length: CANDIDATES }, (_, c) => (c === 1 ? -0.7 : 0)));
    expect(result.tsFinite).toBe(true);
    expect(result.simdFinite).toBe(true);
    expect(result.rowsUnchangedByCheck).toBe(true);
  });

  it.each([
    ['an infinite dScore', [Infinity]],
    ['a NaN dScore', [NaN]],
    ['dScores whose sum overflows float32', [3e38, 3e38]],
  ])('flags non-finite gradients like ModelTask.learn does: %s', (_, values) => {
    const result = runBoth(7, () => Float32Array.from({ length: CANDIDATES }, (_, c) => values[c] ?? 0));
    expect(result.tsFinite).toBe(false);
    expect(result.simdFinite).toBe(false);
    expect(result.rowsUnchangedByCheck).toBe(true);
  });

  it('refuses a dim that is not a multiple of 4, naming the setting', () => {
    expect(() => new FmSimdKernel(6, 1024)).toThrow(ConfigError);
    expect(() => new FmSimdKernel(6, 1024)).toThrow(/\/dim/);
  });
});
