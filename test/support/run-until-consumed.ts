import { GroupProgress } from './group-progress.js';
import { RecommenderProcess, type RecommenderProcessOptions } from './recommender-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the recommender process until its group has committed the whole input topic, then stops
 * it gracefully (SIGTERM: drain, flush, commit) and returns it for its log.
 */
export async function runUntilConsumed(options: RecommenderProcessOptions, input: string, timeoutMs = 120_000): Promise<RecommenderProcess> {
  const progress = new GroupProgress(options.brokers, options.group, input);
  try {
    const process = new RecommenderProcess(options);
    await process.running();
    for (const deadline = Date.now() + timeoutMs; !(await progress.caughtUp()); await sleep(100)) {
      if (Date.now() > deadline) throw new Error(`${options.group} did not consume ${input} (${JSON.stringify(await progress.offsets())}):\n${process.log}`);
    }
    await process.stop();
    return process;
  } finally {
    await progress.close();
  }
}
