import { GroupProgress } from './group-progress.js';
import { RecommenderProcess, type RecommenderProcessOptions } from './recommender-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the recommender process until its group has committed the whole input topic, then stops
 * it gracefully (SIGTERM: drain, flush, commit) and returns it for its log.
 */
export async function runUntilConsumed(
  options: RecommenderProcessOptions,
  input: string,
  timeoutMs = 120_000,
): Promise<RecommenderProcess> {
  const process = new RecommenderProcess(options);
  await process.running();
  await stopWhenConsumed(process, options, input, timeoutMs);
  return process;
}

/**
 * Waits until the running `process`'s group has committed the whole input topic, then stops it
 * gracefully; past `timeoutMs` it prints where it stands, is killed, and this throws its log.
 */
export async function stopWhenConsumed(
  process: RecommenderProcess,
  options: RecommenderProcessOptions,
  input: string,
  timeoutMs = 120_000,
): Promise<void> {
  const progress = new GroupProgress(options.brokers, options.group, input);
  try {
    for (const deadline = Date.now() + timeoutMs; !(await progress.caughtUp()); await sleep(100)) {
      if (Date.now() > deadline) {
        // A frozen event loop prints nothing here: that absence is a finding too.
        await process.describe();
        const report = `${options.group} did not consume ${input} (${JSON.stringify(await progress.offsets())}):\n${process.log}\n${await progressMetrics(process.log)}`;
        // Left running, it would compete with the tests that follow for the CPU and the broker.
        await process.kill();
        throw new Error(report);
      }
    }
    await process.stop();
  } finally {
    await progress.close();
  }
}

/** Metrics that tell where a stalled run stopped: records per step and partition, commits, outputs in flight, pauses. */
const PROGRESS_METRICS = /^agentrec_(records_in_total|commits_total|in_flight_records|partition_paused|assigned_partitions)\b/;

async function progressMetrics(log: string): Promise<string> {
  const port = /metrics on port (\d+)/.exec(log)?.[1];
  if (!port) return '(no metrics port in the log)';
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    return text
      .split('\n')
      .filter((line) => PROGRESS_METRICS.test(line))
      .join('\n');
  } catch (error) {
    return `(metrics unavailable: ${String(error)})`;
  }
}
