/**
 * Where the recommender's time goes: runs the agent-recommender topology over pre-generated
 * simulated events on the embedded log (RocksDB state) and prints each step's total time from
 * the runtime's own `agentrec_step_batch_duration_seconds`, the commit time and events/s.
 *
 *   npm run build && node dist/bench/step-times.js [events=40000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import agentRecommender from '../topologies/agent-recommender.js';
import { avroSerde } from '../src/serde/avro-serde.js';
import type { TrajectoryEvent } from '../src/serde/records.js';
import { SimulatedUsers } from '../src/simulation/simulated-users.js';
import { TopologyRunner } from '../src/topology/runtime/topology-runner.js';
import { createEmbeddedTransport } from '../src/topology/transport/embedded-transport.js';

const events = Number(process.argv[2] ?? 40_000);
const topology = agentRecommender({ transport: 'embedded', settings: {} });
const transport = createEmbeddedTransport();
await transport.ensureTopics([{ topic: topology.source.topic, partitions: topology.source.partitions }]);
const serde = avroSerde<TrajectoryEvent>('trajectory-event');
const users = new SimulatedUsers({ users: 5000, actions: 300, candidates: 20, seed: 7 });
await transport.createProducer().send(
  Array.from({ length: events }, () => {
    const event = users.next();
    return { topic: topology.source.topic, key: Buffer.from(event.userId), value: serde.serialize(event) };
  }),
);
const stateDir = mkdtempSync(join(tmpdir(), 'agentrec-step-times-'));
const runner = new TopologyRunner(topology, { transport, stateDir, log: () => undefined });
const started = performance.now();
await runner.start();
const firstStep = topology.steps[0].name;
for (;;) {
  if ((await runner.metrics.total('recordsIn', firstStep)) >= events) break;
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const seconds = (performance.now() - started) / 1000;
const sums = (await runner.metrics.stepDuration.get()).values.filter((v) => v.metricName?.endsWith('_sum'));
for (const v of sums) console.log(`${String(v.labels.step).padEnd(8)} ${v.value.toFixed(3)} s`);
const commit = (await runner.metrics.commitDuration.get()).values.find((v) => v.metricName?.endsWith('_sum'));
console.log(`commits  ${(commit?.value ?? 0).toFixed(3)} s`);
console.log(`${events.toLocaleString('en')} events in ${seconds.toFixed(2)} s = ${Math.round(events / seconds).toLocaleString('en')} events/s`);
await runner.stop();
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
