import { describe, expect, it } from 'vitest';
import { auc, BinaryMetrics, RankingMetrics, rankOf, RatingMetrics } from '../../../../src/recommender/replay/metrics.js';
import { parseDuration } from '../../../../src/recommender/replay/duration.js';

describe('prequential metrics', () => {
  it('hit@k, MRR and NDCG@10 from the chosen action’s rank', () => {
    const m = new RankingMetrics();
    for (const rank of [1, 2, 4, 11]) m.add(rank);
    expect(m.summary()).toEqual({
      n: 4,
      hitAt1: 0.25,
      hitAt3: 0.5,
      mrr: (1 + 1 / 2 + 1 / 4 + 1 / 11) / 4,
      ndcgAt10: (1 + 1 / Math.log2(3) + 1 / Math.log2(5) + 0) / 4,
    });
    expect(new RankingMetrics().summary()).toBeNull();
  });

  it('ranks ties in candidate order, as score records do', () => {
    expect(rankOf([0.5, 0.9, 0.5], 0)).toBe(2);
    expect(rankOf([0.5, 0.9, 0.5], 2)).toBe(3);
    expect(rankOf([0.5, 0.9, 0.5], 1)).toBe(1);
  });

  it('ranks a NaN score below every number, ties among NaNs in candidate order', () => {
    expect(rankOf([NaN, NaN, NaN], 0)).toBe(1);
    expect(rankOf([NaN, NaN, NaN], 2)).toBe(3);
    expect(rankOf([0.1, NaN, -Infinity], 1)).toBe(3);
    expect(rankOf([0.1, NaN, -Infinity], 2)).toBe(2);
    expect(rankOf([NaN, 0.2, 0.1], 2)).toBe(2);
  });

  it('AUC as the Mann–Whitney statistic with ties counting half; log loss clipped', () => {
    expect(auc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0])).toBe(1);
    expect(auc([0.9, 0.8, 0.3, 0.1], [0, 0, 1, 1])).toBe(0);
    // Pairs (pos, neg): (0.8, 0.5) win, (0.8, 0.8) tie, (0.4, 0.5) loss, (0.4, 0.8) loss → 1.5 / 4.
    expect(auc([0.8, 0.4, 0.5, 0.8], [1, 1, 0, 0])).toBe(0.375);
    expect(auc([0.3, 0.4], [1, 1])).toBeNull();
    const b = new BinaryMetrics();
    b.add(0.8, 1);
    b.add(0, 0);
    b.add(1, 0);
    expect(b.summary()).toMatchObject({ n: 3, auc: 0.5 });
    expect(b.summary()!.logLoss).toBeCloseTo((-Math.log(0.8) - Math.log(1 - 1e-7) - Math.log(1e-7)) / 3, 9);
  });

  it('MAE and RMSE', () => {
    const r = new RatingMetrics();
    r.add(4, 5);
    r.add(3, 1);
    expect(r.summary()).toEqual({ n: 2, mae: 1.5, rmse: Math.sqrt(2.5) });
  });

  it('parses window durations, naming the flag when it cannot', () => {
    expect(parseDuration('90m', '--window')).toBe(5_400_000);
    expect(parseDuration('1d', '--window')).toBe(86_400_000);
    expect(parseDuration('250', '--window')).toBe(250);
    expect(() => parseDuration('soon', '--window')).toThrow("--window: must be a positive duration such as 30m, 1h or 1d, got 'soon'");
  });
});
