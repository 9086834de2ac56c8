import type { TopologyRunner } from '../src/topology/runtime/topology-runner.js';

/**
 * Resolves once the runner's tasks have committed `records` records between them: outputs
 * acknowledged, state flushed, offsets committed. Counts from offset 0, so only for the fresh
 * topics benchmarks create.
 */
export async function untilCommitted(runner: TopologyRunner, records: number): Promise<void> {
  while (runner.describe().tasks.reduce((sum, task) => sum + task.lastCommitted + 1, 0) < records) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
