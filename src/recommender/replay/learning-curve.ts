import { svgLineChart, type Series } from '../../evaluation/svg-line-chart.js';
import type { MetricSummary } from './metrics.js';
import type { ReplayResult } from './replay.js';

export const CURVE_METRICS = ['hit@1', 'hit@3', 'mrr', 'ndcg@10', 'auc', 'logloss', 'mae', 'rmse'] as const;
export type CurveMetric = (typeof CURVE_METRICS)[number];

/** A metric's value in a summary, undefined when that family had no feedback there. */
export function metricValue(summary: MetricSummary | undefined, metric: CurveMetric): number | undefined {
  switch (metric) {
    case 'hit@1':
      return summary?.chosen?.hitAt1;
    case 'hit@3':
      return summary?.chosen?.hitAt3;
    case 'mrr':
      return summary?.chosen?.mrr;
    case 'ndcg@10':
      return summary?.chosen?.ndcgAt10;
    case 'auc':
      return summary?.binary?.auc ?? undefined;
    case 'logloss':
      return summary?.binary?.logLoss;
    case 'mae':
      return summary?.rating?.mae;
    case 'rmse':
      return summary?.rating?.rmse;
  }
}

/** The metric a curve shows by default: the first family the replay had feedback for. */
export function defaultCurveMetric(result: ReplayResult): CurveMetric {
  const model = result.overall[result.model];
  if (model?.chosen) return 'hit@1';
  if (model?.binary) return 'auc';
  if (model?.rating) return 'mae';
  return 'hit@1';
}

/**
 * The learning curve: one line per predictor, the metric per event-time window against the
 * events replayed by the window's end. The model's line is solid, baselines dashed.
 */
export function learningCurveSvg(result: ReplayResult, metric: CurveMetric): string {
  const series: Series[] = result.predictors
    .map((name) => ({
      name,
      dashed: name !== result.model,
      points: result.windows.flatMap((w) => {
        const value = metricValue(w.metrics[name], metric);
        return value === undefined ? [] : [[w.eventsReplayed, value] as [number, number]];
      }),
    }))
    .filter((s) => s.points.length > 0);
  if (!series.length) series.push({ name: `no ${metric} feedback`, points: [[0, 0]] });
  const hours = result.windowMs / 3_600_000;
  const window = hours >= 1 ? `${+hours.toFixed(2)} h` : `${+(result.windowMs / 60_000).toFixed(2)} min`;
  return svgLineChart({
    title: `Prequential ${metric} per window of ${window}`,
    xLabel: 'events replayed',
    yLabel: metric,
    series,
    yMin: 0,
  });
}
