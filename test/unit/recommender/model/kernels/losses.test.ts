import { describe, expect, it } from 'vitest';
import { logisticLoss, softmaxCrossEntropyLoss, squaredLoss } from '../../../../../src/recommender/model/kernels/losses.js';
import { isFiniteArray } from '../../../../../src/recommender/model/kernels/vector.js';
import { finiteDifferenceMismatches } from './gradient-check.js';

const scores = new Float32Array([0.7, -1.3, 2.1, 0.05]);

describe('losses', () => {
  it.each([
    ['logistic, label 1', (s: Float32Array, d: Float32Array) => logisticLoss(s, 2, 1, 0.8, d)],
    ['logistic, label 0', (s: Float32Array, d: Float32Array) => logisticLoss(s, 1, 0, 1, d)],
    ['squared (4-star rating)', (s: Float32Array, d: Float32Array) => squaredLoss(s, 0, 4, 0.5, d)],
    ['squared beyond the error clip', (s: Float32Array, d: Float32Array) => squaredLoss(s, 0, 4, 1, d, s.length, 1.5)],
    ['softmax cross-entropy', (s: Float32Array, d: Float32Array) => softmaxCrossEntropyLoss(s, 3, 0.7, d)],
  ])('%s: dLoss/dScore matches central finite differences', (_name, lossFn) => {
    const working = scores.slice();
    const dScores = new Float32Array(working.length);
    lossFn(working, dScores);
    const analytic = dScores.slice();
    const scratch = new Float32Array(working.length);
    const mismatches = finiteDifferenceMismatches(working, analytic, () => lossFn(working, scratch), { epsilon: 1e-3 });
    expect(mismatches).toEqual([]);
    expect(analytic.some((g) => g !== 0)).toBe(true);
  });

  it('logistic touches only the labelled candidate and scales with the sample weight', () => {
    const d1 = new Float32Array(4).fill(5);
    const d2 = new Float32Array(4);
    const loss1 = logisticLoss(scores, 1, 1, 1, d1);
    const loss2 = logisticLoss(scores, 1, 1, 0.25, d2);
    expect([d1[0], d1[2], d1[3]]).toEqual([0, 0, 0]);
    expect(d1[1]).toBeLessThan(0);
    expect(loss2).toBeCloseTo(0.25 * loss1, 6);
    expect(d2[1]).toBeCloseTo(0.25 * d1[1], 6);
  });

  it('stays finite for extreme scores', () => {
    const extreme = new Float32Array([1e4, -1e4, 3e38]);
    const d = new Float32Array(3);
    const logisticHigh = logisticLoss(extreme, 0, 0, 1, d);
    expect(logisticHigh).toBeCloseTo(1e4, 0);
    expect(d[0]).toBeCloseTo(1, 6);
    expect(logisticLoss(extreme, 1, 0, 1, d)).toBeCloseTo(0, 6);
    const softmax = softmaxCrossEntropyLoss(extreme, 1, 1, d);
    expect(Number.isFinite(softmax)).toBe(true);
    expect(isFiniteArray(d)).toBe(true);
  });

  it('softmax gradients sum to zero and push the chosen candidate up', () => {
    const d = new Float32Array(4);
    softmaxCrossEntropyLoss(scores, 1, 1, d);
    expect(d.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 6);
    expect(d[1]).toBeLessThan(0);
    expect([d[0], d[2], d[3]].every((g) => g > 0)).toBe(true);
  });

  it('squared loss clips the error so a wild score yields a bounded gradient', () => {
    const d = new Float32Array(1);
    squaredLoss([1000], 0, 3, 1, d, 1, 2);
    expect(d[0]).toBe(2);
  });
});

describe('isFiniteArray', () => {
  it('detects NaN and infinities inside the checked range only', () => {
    expect(isFiniteArray(new Float32Array([1, -2, 0]))).toBe(true);
    expect(isFiniteArray(new Float32Array([1, Number.NaN]))).toBe(false);
    expect(isFiniteArray(new Float32Array([-Infinity]))).toBe(false);
    expect(isFiniteArray(new Float32Array([Infinity, 1, 2]), 1, 2)).toBe(true);
  });
});
