import { writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, type InputLineError } from '../errors.js';
import { eventFileFormat } from '../recommender/import/event-file-format.js';
import { parseDuration } from '../recommender/replay/duration.js';
import { CURVE_METRICS, defaultCurveMetric, learningCurveSvg } from '../recommender/replay/learning-curve.js';
import { progressBar } from '../recommender/replay/progress-bar.js';
import { readReplayEvents } from '../recommender/replay/read-events.js';
import { replay } from '../recommender/replay/replay.js';
import { formatReport, replayReport } from '../recommender/replay/report.js';
import { loadTopologyModule } from '../topology/topology-module.js';
import { settingsFrom } from './run-options.js';
import { oneOf } from '../config.js';

export const replayUsage = `agentrec replay <file> [options]    prequential evaluation of a topology over a file of events

  <file>                       trajectory events: .jsonl (one TrajectoryEvent per line) or .avro (Avro event
                               stream: length-prefixed single-object records, what agentrec import writes)
  --topology <file>            default: the package's topologies/agent-recommender.ts
  --set key=value              topology setting (repeatable), e.g. --set partitions=4; the shipped topology
                               replays as one partition unless told otherwise: its tasks would share this
                               process's one thread, so more partitions only add model-sync work and staleness
  --format jsonl|avro          when the extension does not say
  --max-batch <n>              most records in one pipeline batch per partition (default 50); a batch's requests
                               are all scored before its feedback is learned from, so larger batches score staler
  --batch <n>                  most events fed between waits for the topology (default 10000; early on fewer:
                               1/20 of those replayed, at least --max-batch, so partitions stay in step in event time)
  --window <duration>          event-time window of the per-window metrics, e.g. 1h (default: a tenth of the span)
  --request-ttl <duration>     how long a request waits for feedback (default 6h, as the agent-recommender)
  --rating-center <x>          the model learns ratings as (stars − center) · scale (default 3)
  --rating-scale <x>           (default 1)
  --rating-min <x>, --rating-max <x>   range predictions are clipped to (default: the ratings' observed range)
  --report <file>              JSON report (default <file stem>.replay.json)
  --curve <file>               learning-curve SVG (default <file stem>.replay.svg)
  --curve-metric <m>           ${CURVE_METRICS.join(', ')} (default: hit@1, else auc, else mae)
  --no-progress                no progress bar on stderr
`;

/** `agentrec replay`: reads, replays, prints the table, writes the report and the curve. */
export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      topology: { type: 'string' },
      set: { type: 'string', multiple: true },
      format: { type: 'string' },
      batch: { type: 'string' },
      'max-batch': { type: 'string' },
      window: { type: 'string' },
      'request-ttl': { type: 'string' },
      'rating-center': { type: 'string' },
      'rating-scale': { type: 'string' },
      'rating-min': { type: 'string' },
      'rating-max': { type: 'string' },
      report: { type: 'string' },
      curve: { type: 'string' },
      'curve-metric': { type: 'string' },
      'no-progress': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [file] = positionals;
  if (values.help || !file) {
    process.stdout.write(replayUsage);
    return values.help ? 0 : 2;
  }
  const format = eventFileFormat(file, values.format, '--format');
  const curveMetric = values['curve-metric'] === undefined ? undefined : oneOf(values['curve-metric'], '--curve-metric', CURVE_METRICS);
  const settings = settingsFrom(values.set ?? []);
  const min = number('--rating-min', values['rating-min']);
  const max = number('--rating-max', values['rating-max']);
  if ((min === undefined) !== (max === undefined) || (min !== undefined && max !== undefined && !(min < max))) {
    throw new ConfigError('--rating-min', 'give both --rating-min and --rating-max, with min < max');
  }

  let badLines = 0;
  const events = readReplayEvents(file, format, (error: InputLineError) => {
    if (badLines++ < 20) process.stderr.write(`agentrec replay: ${error.message}\n`);
  });
  if (badLines > 20) process.stderr.write(`agentrec replay: … and ${badLines - 20} more bad lines\n`);
  // One partition sees the whole stream with no sync in between; a deployment's count can be replayed with --set.
  if (values.topology === undefined) settings.partitions ??= '1';
  const { topology } = await loadTopologyModule(values.topology ?? defaultTopology(), { transport: 'embedded', settings });
  const bar = values['no-progress'] ? undefined : progressBar('replay');
  const result = await replay({
    topology,
    events,
    rating: { center: number('--rating-center', values['rating-center']), scale: number('--rating-scale', values['rating-scale']) },
    ratingRange: min !== undefined && max !== undefined ? { min, max } : undefined,
    windowMs: values.window === undefined ? undefined : parseDuration(values.window, '--window'),
    batchEvents: number('--batch', values.batch),
    maxBatch: number('--max-batch', values['max-batch']),
    requestTtlMs: values['request-ttl'] === undefined ? undefined : parseDuration(values['request-ttl'], '--request-ttl'),
    onProgress: (done, total) => bar?.update(done, total, done === total),
  });
  bar?.done();
  const report = replayReport(result, { file, badLines, settings });
  const stem = basename(file, extname(file));
  const reportFile = values.report ?? `${stem}.replay.json`;
  const curveFile = values.curve ?? `${stem}.replay.svg`;
  writeFileSync(reportFile, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(curveFile, learningCurveSvg(result, curveMetric ?? defaultCurveMetric(result)));
  process.stdout.write(`${formatReport(report)}\nwrote ${reportFile} and ${curveFile}\n`);
  return 0;
}

/** The agent-recommender shipped with the package, from the source tree or the compiled one. */
function defaultTopology(): string {
  const compiled = import.meta.url.endsWith('.js');
  return fileURLToPath(new URL(`../../topologies/agent-recommender.${compiled ? 'js' : 'ts'}`, import.meta.url));
}

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new ConfigError(flag, `must be a number, got '${value}'`);
  return n;
}
