import type { TopologyRunner } from '../src/topology/runtime/topology-runner.js';
import type { Transport } from '../src/topology/transport/types.js';

/**
 * Deletes the topics a benchmark's runner used that are named after the run (`prefix`): every
 * run writes fresh topics (~1 GB per 1M events with changelogs), so it leaves the broker as it
 * found it. Shared names (the dead-letter topic) stay: the broker may hold others' records there.
 */
export function deleteRunTopics(transport: Transport, runner: TopologyRunner, prefix: string): Promise<void> {
  return transport.deleteTopics(
    runner
      .topicSpecs()
      .map((spec) => spec.topic)
      .filter((topic) => topic.startsWith(prefix)),
  );
}
