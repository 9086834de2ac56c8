/**
 * One instance of the agent-recommender for `recommender-e2e.ts --instances N`: a child process
 * that joins the benchmark's consumer group and reports, every 100 ms, the records its first step
 * took in and the partitions it owns. Stops (flushing and committing) when the parent says so.
 *
 * Instances are processes, not threads: a topology's tasks run on one JavaScript thread, so a
 * machine's other cores are used by running more instances of the same group, as in production.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import agentRecommender from '../topologies/agent-recommender.js';
import { TopologyRunner } from '../src/topology/runtime/topology-runner.js';
import { createKafkaTransport } from '../src/topology/transport/kafka-transport.js';

export interface InstanceArgs {
  brokers: string;
  groupId: string;
  inputTopic: string;
  outputTopic: string;
  partitions: number;
  /** undefined: the runtime's default. */
  commitIntervalMs?: number;
}

/** What an instance reports to the parent. */
export interface InstanceReport {
  processed: number;
  assigned: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as InstanceArgs;
  const t = agentRecommender({
    transport: 'kafka',
    groupId: args.groupId,
    settings: { inputTopic: args.inputTopic, outputTopic: args.outputTopic, partitions: String(args.partitions) },
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'agentrec-bench-instance-'));
  const transport = createKafkaTransport({ brokers: args.brokers });
  const runner = new TopologyRunner(t, {
    transport,
    groupId: args.groupId,
    stateDir,
    log: () => undefined,
    commitIntervalMs: args.commitIntervalMs,
  });
  await runner.start();
  const firstStep = t.steps[0].name;
  const timer = setInterval(() => {
    void runner.metrics.total('recordsIn', firstStep).then((processed) => {
      const report: InstanceReport = { processed, assigned: runner.assignedPartitions.length };
      process.send?.(report);
    });
  }, 100);
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  clearInterval(timer);
  await runner.stop();
  await transport.close();
  rmSync(stateDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
