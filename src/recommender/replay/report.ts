import type { MetricSummary } from './metrics.js';
import type { ReplayResult } from './replay.js';

/** The JSON report of a replay: the result plus where it came from and how fast it ran. */
export interface ReplayReport extends ReplayResult {
  file: string;
  badLines: number;
  settings: Record<string, string>;
  throughput: { eventsPerSecond: number };
}

export function replayReport(
  result: ReplayResult,
  context: { file: string; badLines: number; settings: Record<string, string> },
): ReplayReport {
  return {
    file: context.file,
    badLines: context.badLines,
    settings: context.settings,
    ...result,
    throughput: { eventsPerSecond: result.events / result.seconds },
  };
}

/** The overall table (and per source when there is more than one), as text for the terminal. */
export function formatReport(report: ReplayReport): string {
  const lines = [
    `replayed ${report.events.toLocaleString('en')} events in ${report.seconds.toFixed(1)} s ` +
      `(${Math.round(report.throughput.eventsPerSecond).toLocaleString('en')} events/s); ` +
      `${report.feedback.evaluated.toLocaleString('en')} feedback judged` +
      skipped(report),
    ...table('overall', report.predictors, report.overall, report.model),
  ];
  const sources = Object.keys(report.bySource);
  if (sources.length > 1)
    for (const source of sources) lines.push(...table(source.toLowerCase(), report.predictors, report.bySource[source], report.model));
  return lines.join('\n');
}

function skipped(report: ReplayReport): string {
  const f = report.feedback;
  const parts = [
    f.unknownRequest && `${f.unknownRequest} answer no request in the file`,
    f.expiredRequest && `${f.expiredRequest} came after their request's TTL`,
    f.noScoreRecord && `${f.noScoreRecord} had no score record`,
    f.actionNotCandidate && `${f.actionNotCandidate} chose a non-candidate`,
    report.badLines && `${report.badLines} bad lines skipped`,
    report.deadLettered && `${report.deadLettered} dead-lettered by the topology`,
  ].filter(Boolean);
  return parts.length ? ` (not judged: ${parts.join(', ')})` : '';
}

function table(title: string, predictors: string[], metrics: Record<string, MetricSummary>, model: string): string[] {
  const columns: [string, (m: MetricSummary) => number | null | undefined][] = [
    ['hit@1', (m) => m.chosen?.hitAt1],
    ['hit@3', (m) => m.chosen?.hitAt3],
    ['MRR', (m) => m.chosen?.mrr],
    ['NDCG@10', (m) => m.chosen?.ndcgAt10],
    ['AUC', (m) => m.binary?.auc],
    ['logloss', (m) => m.binary?.logLoss],
    ['MAE', (m) => m.rating?.mae],
    ['RMSE', (m) => m.rating?.rmse],
  ];
  const present = columns.filter(([, get]) => predictors.some((p) => metrics[p] && typeof get(metrics[p]) === 'number'));
  if (!present.length) return [];
  const counts = (m: MetricSummary | undefined) => [m?.chosen?.n, m?.binary?.n, m?.rating?.n].filter((n) => n !== undefined).join('/');
  const width = Math.max(...predictors.map((p) => p.length + (p === model ? 8 : 0)), title.length) + 2;
  const out = [`${title.padEnd(width)}${present.map(([name]) => name.padStart(9)).join('')}    n`];
  for (const p of predictors) {
    const m = metrics[p];
    if (!m || !present.some(([, get]) => typeof get(m) === 'number')) continue;
    const cells = present.map(([, get]) => {
      const v = get(m);
      return (typeof v === 'number' ? v.toFixed(3) : '–').padStart(9);
    });
    out.push(`${(p === model ? `${p} (model)` : p).padEnd(width)}${cells.join('')}    ${counts(m)}`);
  }
  return out;
}
