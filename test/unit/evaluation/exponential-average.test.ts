import { describe, expect, it } from 'vitest';
import { ExponentialAverage } from '../../../src/evaluation/exponential-average.js';

describe('ExponentialAverage', () => {
  it('is undefined before the first value and equal to it after', () => {
    const average = new ExponentialAverage(0.01);
    expect(average.value).toBeUndefined();
    average.add(7);
    expect(average.value).toBeCloseTo(7, 12);
  });

  it('weighs the newest value by the smoothing, the weights summing to one', () => {
    const average = new ExponentialAverage(0.5);
    average.add(0);
    average.add(10);
    // Weights 0.5 · 0.5 and 0.5, scaled by 1 / 0.75: (0 · 0.25 + 10 · 0.5) / 0.75.
    expect(average.value).toBeCloseTo(20 / 3, 12);
  });

  it('does not lean on the first value of a short run', () => {
    const average = new ExponentialAverage(0.01);
    average.add(10);
    for (let i = 0; i < 230; i++) average.add(1);
    // Started from the first value, the average kept 0.99^230 ≈ 10 % of it: 1.9 here.
    expect(average.value).toBeLessThan(1.02);
    expect(average.value).toBeGreaterThan(1);
  });
});
