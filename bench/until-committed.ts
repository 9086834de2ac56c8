import type { TopologyRunner } from '../src/topology/runtime/topology-runner.js';

/**
 * Resolves once the runner's tasks have committed `records` records between them: outputs
 * acknowledged, state flushed, offsets committed. Call it once every record was processed: it
 * commits at once rather than waiting for the next tick of the commit interval, which a
 * sustained stream reaches on schedule anyway but which would add up to one interval (5 s by
 * default) to a finite run. Counts from offset 0, so only for the fresh topics benchmarks create.
 */
export async function untilCommitted(runner: TopologyRunner, records: number): Promise<void> {
  await runner.commitAll();
  while (runner.describe().tasks.reduce((sum, task) => sum + task.lastCommitted + 1, 0) < records) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
