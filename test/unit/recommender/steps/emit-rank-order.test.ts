import { expect, it } from 'vitest';
import { rankOrder } from '../../../../src/recommender/steps/emit.js';

it('orders candidates by descending score, ties in candidate order, as a comparator sort would', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let n = 0; n < 300; n++) {
    const count = Math.floor(random() * 40);
    // Few distinct values, so ties are common.
    const scores = Float32Array.from({ length: count }, () => Math.floor(random() * 6) - 2.5);
    const expected = Array.from({ length: count }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
    expect(rankOrder(scores, count)).toEqual(expected);
  }
  expect(rankOrder(Float32Array.of(1, 3, 3, 2), 4)).toEqual([1, 2, 3, 0]);
});
