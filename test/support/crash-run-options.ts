import type { RecommenderProcessOptions } from './recommender-process.js';
import { recommenderSettings } from './recommender-topics.js';

/** Crash tests start each named run (clean, killed…) on the same input the same way: own group, state directory and score topic, small batches, frequent commits. */
export function crashRunOptions(
  brokers: string,
  name: string,
  input: string,
  newDir: () => Promise<string>,
  partitions: number,
): (run: string) => Promise<RecommenderProcessOptions> {
  return async (run) => ({
    brokers,
    group: `${name}-${run}`,
    stateDir: await newDir(),
    settings: recommenderSettings(input, `${name}.${run}.scores`, partitions),
    // Stable across restarts: a restart takes the partitions back at once (and, under exactly-once,
    // fences the killed process, its transactional id deriving from it).
    instanceId: `${name}-${run}`,
    // Small batches and frequent commits: many commit points for the kills to land between.
    maxBatch: 200,
    commitIntervalMs: 100,
  });
}
