import { describe, expect, it } from 'vitest';
import {
  createFmWorkspace,
  fmBackward,
  fmPrepareContext,
  fmRowLength,
  fmScore,
  fmScoreOne,
} from '../../../../../src/recommender/model/kernels/fm.js';
import { splitmix32 } from '../../../../../src/recommender/model/kernels/prng.js';
import { finiteDifferenceMismatches, randomArray, weightedSum } from './gradient-check.js';

const dim = 6;

function fixture(seed: number) {
  const random = splitmix32(seed);
  const next = () => random.nextFloat();
  const contextWeights = [1, 1, 0.5, 0.5, 1 / 3];
  const context = contextWeights.map(() => randomArray(fmRowLength(dim), next, 0.8));
  const candidates = Array.from({ length: 4 }, () => randomArray(fmRowLength(dim), next, 0.8));
  const upstream = randomArray(candidates.length, next, 1);
  return { context, contextWeights, candidates, upstream, bias: 0.3 };
}

/** The FM by definition: every pair of active features, float64. */
function bruteForceScore(bias: number, rows: Float32Array[], weights: number[], candidate: Float32Array): number {
  const all = [...rows, candidate];
  const x = [...weights, 1];
  let score = bias;
  for (let i = 0; i < all.length; i++) score += x[i] * all[i][dim];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      let inner = 0;
      for (let k = 0; k < dim; k++) inner += all[i][k] * all[j][k];
      score += x[i] * x[j] * inner;
    }
  }
  return score;
}

describe('factorization machine', () => {
  it('scores every candidate as the brute-force pairwise FM does', () => {
    const { context, contextWeights, candidates, bias } = fixture(1);
    const workspace = createFmWorkspace(dim);
    fmPrepareContext(workspace, bias, context, contextWeights);
    const scores = new Float32Array(candidates.length);
    fmScore(workspace, candidates, scores);
    for (let c = 0; c < candidates.length; c++) {
      const expected = bruteForceScore(bias, context, contextWeights, candidates[c]);
      expect(scores[c]).toBeCloseTo(expected, 5);
      expect(fmScoreOne(workspace, candidates[c])).toBeCloseTo(expected, 5);
    }
    // Scores differ across candidates, so the candidate term is not silently dropped.
    expect(new Set(Array.from(scores)).size).toBe(candidates.length);
  });

  it('uses only the first `count` context rows and candidates', () => {
    const { context, contextWeights, candidates, bias } = fixture(2);
    const workspace = createFmWorkspace(dim);
    fmPrepareContext(workspace, bias, context, contextWeights, 3);
    const scores = new Float32Array(candidates.length).fill(99);
    fmScore(workspace, candidates, scores, 2);
    expect(scores[0]).toBeCloseTo(bruteForceScore(bias, context.slice(0, 3), contextWeights.slice(0, 3), candidates[0]), 5);
    expect(scores[2]).toBe(99);
  });

  describe('backward matches central finite differences', () => {
    const { context, contextWeights, candidates, upstream, bias } = fixture(3);
    const workspace = createFmWorkspace(dim);
    const scores = new Float32Array(candidates.length);
    const state = { bias };
    const loss = () => {
      fmPrepareContext(workspace, state.bias, context, contextWeights);
      fmScore(workspace, candidates, scores);
      return weightedSum(scores, upstream);
    };
    const contextGradients = context.map(() => new Float32Array(fmRowLength(dim)));
    const candidateGradients = candidates.map(() => new Float32Array(fmRowLength(dim)));
    loss();
    const dBias = fmBackward(workspace, context, contextWeights, candidates, upstream, contextGradients, candidateGradients);

    it.each(context.map((_, i) => i))('context row %i (factors and linear weight)', (i) => {
      expect(finiteDifferenceMismatches(context[i], contextGradients[i], loss)).toEqual([]);
      expect(contextGradients[i][dim]).not.toBe(0);
    });

    it.each(candidates.map((_, c) => c))('candidate row %i (factors and linear weight)', (c) => {
      expect(finiteDifferenceMismatches(candidates[c], candidateGradients[c], loss)).toEqual([]);
    });

    it('bias', () => {
      const biasBox = new Float32Array([state.bias]);
      const biasLoss = () => {
        state.bias = biasBox[0];
        return loss();
      };
      expect(finiteDifferenceMismatches(biasBox, [dBias], biasLoss)).toEqual([]);
      state.bias = bias;
    });
  });

  it('writes only the candidates with a non-zero dLoss/dScore and overwrites every context gradient', () => {
    const { context, contextWeights, candidates, bias } = fixture(4);
    const workspace = createFmWorkspace(dim);
    fmPrepareContext(workspace, bias, context, contextWeights);
    const contextGradients = context.map(() => new Float32Array(fmRowLength(dim)).fill(7));
    const candidateGradients = candidates.map(() => new Float32Array(fmRowLength(dim)).fill(7));
    const dScores = new Float32Array(candidates.length);
    dScores[1] = 0.25;
    const dBias = fmBackward(workspace, context, contextWeights, candidates, dScores, contextGradients, candidateGradients);
    expect(dBias).toBeCloseTo(0.25, 6);
    expect(Array.from(candidateGradients[0]).every((g) => g === 7)).toBe(true);
    expect(candidateGradients[1][dim]).toBeCloseTo(0.25, 6);
    expect(candidateGradients[1].includes(7)).toBe(false);
    expect(contextGradients[2][dim]).toBeCloseTo(0.25 * contextWeights[2], 6);
    expect(contextGradients.every((g) => !g.includes(7))).toBe(true);
  });
});
