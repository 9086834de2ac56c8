/**
 * Where the recommender's time goes: runs the agent-recommender topology over pre-generated
 * simulated events (RocksDB state) and prints each step's total time and batch count from the
 * runtime's own `agentrec_step_batch_duration_seconds`, the commit time, and events/s both when
 * the last record entered the pipeline and when everything was committed, and the CPU time the
 * process used per event (all its threads: steadier than the rate on a shared machine). On the
 * embedded log by default; `--brokers` runs it on Kafka (a fresh topic per run).
 *
 *   npm run build && sh scripts/node.sh dist/bench/step-times.js [--events 40000] [--brokers 127.0.0.1:9092] [--max-batch 5000] [--max-buffered 10000] [--partitions 4] [--backend auto|typescript|wasm-simd]
 *     [--commit-interval-ms MS (default: the runtime's)] [--state rocksdb|memory] [--cpu-profile FILE] [--window-ms 2000] [--plot FILE.svg]
 *
 * While it runs it prints events/s over every `--window-ms`, and at the end their min, median and
 * max after the first window (the cold start); `--plot` draws them against the 20k target.
 *
 * `--cpu-profile` writes a V8 CPU profile (open it in Chrome DevTools) of the measured span only,
 * from the first record processed to the last: generating and preloading the events is left out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import agentRecommender from '../topologies/agent-recommender.js';
import { avroSerde } from '../src/serde/avro-serde.js';
import type { TrajectoryEvent } from '../src/recommender/records.js';
import { SimulatedUsers } from '../src/recommender/simulation/simulated-users.js';
import { thisProcess, youngGenerationSized } from '../src/topology/runtime/node-flags.js';
import { TopologyRunner } from '../src/topology/runtime/topology-runner.js';
import { createEmbeddedTransport } from '../src/topology/transport/embedded-transport.js';
import { createKafkaTransport } from '../src/topology/transport/kafka-transport.js';
import { svgLineChart } from '../src/evaluation/svg-line-chart.js';
import { RateWindows } from './rate-windows.js';
import { deleteRunTopics } from './run-topics.js';
import { threadCpu, threadCpuSince } from './thread-cpu.js';
import { untilCommitted } from './until-committed.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '40000' },
    brokers: { type: 'string' },
    backend: { type: 'string' },
    kernel: { type: 'string' },
    'max-batch': { type: 'string' },
    'max-buffered': { type: 'string' },
    partitions: { type: 'string', default: '4' },
    'commit-interval-ms': { type: 'string' },
    state: { type: 'string', default: 'rocksdb' },
    'cpu-profile': { type: 'string' },
    'window-ms': { type: 'string', default: '2000' },
    plot: { type: 'string' },
  },
});
const events = Number(values.events);
const kafka = values.brokers !== undefined;
const run = `step-times-${Date.now().toString(36)}`;
// --kernel is the older name of --backend; unset, the model picks ('auto').
const settings = { backend: values.backend ?? values.kernel ?? 'auto', partitions: values.partitions };
const topology = agentRecommender(
  kafka
    ? { transport: 'kafka', settings: { ...settings, inputTopic: `${run}.in`, outputTopic: `${run}.out` } }
    : { transport: 'embedded', settings },
);
const maxBatchSize = values['max-batch'] === undefined ? undefined : Number(values['max-batch']);
const maxBufferedRecords = values['max-buffered'] === undefined ? undefined : Number(values['max-buffered']);
const transport = kafka
  ? createKafkaTransport({ brokers: values.brokers!, consumer: { maxBatchSize, maxBufferedRecords } })
  : createEmbeddedTransport();
await transport.ensureTopics([{ topic: topology.source.topic, partitions: topology.source.partitions }]);
const serde = avroSerde<TrajectoryEvent>('trajectory-event');
const users = new SimulatedUsers({ users: 5000, actions: 300, candidates: 20, seed: 7 });
const producer = transport.createProducer();
await producer.send(
  Array.from({ length: events }, () => {
    const event = users.next();
    return { topic: topology.source.topic, key: Buffer.from(event.userId), value: serde.serialize(event) };
  }),
);
if (kafka) await producer.close();
const stateDir = mkdtempSync(join(tmpdir(), 'agentrec-step-times-'));
const commitIntervalMs = values['commit-interval-ms'] === undefined ? undefined : Number(values['commit-interval-ms']);
const stateBackend = values.state === 'memory' ? 'memory' : 'rocksdb';
const runner = new TopologyRunner(topology, { transport, groupId: run, stateDir, commitIntervalMs, stateBackend, log: () => undefined });
// On Kafka from the first record on, so the group join is not counted. The embedded log has no
// join, and with memory state a whole run can pass without a loop turn for the poll below.
let started = kafka ? 0 : performance.now();
// CPU time of this process (its JavaScript thread, V8's helper threads, the Kafka client's and
// RocksDB's threads) over the same span: steadier than the rate on a machine shared with others.
let cpuAtStart = process.cpuUsage();
let threadsAtStart = threadCpu();
const profiler = values['cpu-profile'] === undefined ? undefined : new Session();
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  if (started) await profiler.post('Profiler.start');
}
await runner.start();
const firstStep = topology.steps[0].name;
const windows = new RateWindows(Number(values['window-ms']));
for (;;) {
  const processed = await runner.metrics.total('recordsIn', firstStep);
  if (processed > 0 && !started) {
    started = performance.now();
    cpuAtStart = process.cpuUsage();
    threadsAtStart = threadCpu();
    await profiler?.post('Profiler.start');
  }
  const closed = started ? windows.observe(performance.now() - started, processed) : undefined;
  if (closed)
    console.log(
      `  ${(closed.endMs / 1000).toFixed(1).padStart(6)} s  ${closed.count.toLocaleString('en').padStart(10)} events  ${Math.round(closed.rate).toLocaleString('en').padStart(7)} events/s`,
    );
  if (processed >= events) break;
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const ended = performance.now();
const seconds = (ended - started) / 1000;
const cpu = process.cpuUsage(cpuAtStart);
const threads = threadCpuSince(threadsAtStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
if (profiler) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(values['cpu-profile']!, JSON.stringify(profile));
  profiler.disconnect();
}
// Done for real once every output is acknowledged, state flushed and the offsets committed: the
// rate a sustained stream could keep (acknowledgements left for later do not count as done).
await untilCommitted(runner, events);
const committedSeconds = (performance.now() - started) / 1000;
const series = (await runner.metrics.stepDuration.get()).values;
const batches = new Map(series.filter((v) => v.metricName?.endsWith('_count')).map((v) => [v.labels.step, v.value]));
for (const v of series.filter((v) => v.metricName?.endsWith('_sum'))) {
  console.log(`${String(v.labels.step).padEnd(8)} ${v.value.toFixed(3)} s in ${batches.get(v.labels.step)} batches`);
}
const commit = (await runner.metrics.commitDuration.get()).values;
const commitSum = commit.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
const commitCount = commit.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
console.log(`commits  ${commitSum.toFixed(3)} s in ${commitCount} commits`);
console.log(
  `${events.toLocaleString('en')} events in ${seconds.toFixed(2)} s = ${Math.round(events / seconds).toLocaleString('en')} events/s`,
);
const steady = windows.steady();
if (steady) {
  const k = (rate: number) => `${(rate / 1000).toFixed(1)}k`;
  console.log(
    `per ${values['window-ms']} ms window after the first (${steady.windows} windows): min ${k(steady.min)} · median ${k(steady.median)} · max ${k(steady.max)} events/s`,
  );
}
if (values.plot) {
  const points = windows.windows.map((w): [number, number] => [w.endMs / 1000, w.rate]);
  const span: [number, number][] = points.length
    ? [
        [points[0][0], 20_000],
        [points[points.length - 1][0], 20_000],
      ]
    : [];
  const title = `agentrec recommender on ${kafka ? 'Kafka' : 'the embedded log'}, ${values.state} state, ${events.toLocaleString('en')} events`;
  writeFileSync(
    values.plot,
    svgLineChart({
      title,
      xLabel: 'seconds since the first record',
      yLabel: `events/s (per ${values['window-ms']} ms)`,
      yMin: 0,
      yMax: Math.ceil((Math.max(20_000, ...points.map((p) => p[1])) * 1.05) / 5_000) * 5_000,
      yDecimals: 0,
      series: [
        { name: 'processed', points },
        { name: 'target 20k', points: span, dashed: true, color: '#7f7f7f' },
      ],
    }),
  );
  console.log(`wrote ${values.plot}`);
}
// The span in the clock of V8's --trace-gc lines (both count from process start), to sum a log over it.
console.log(`measured span: ${Math.round(started)}–${Math.round(ended)} ms after start`);
console.log(
  `CPU of this process until then: ${((cpuSeconds / events) * 1e6).toFixed(1)} µs per event (${(cpuSeconds / seconds).toFixed(2)} cores on average)`,
);
if (threads.length > 0) {
  const share = threads.map(([name, used]) => `${name} ${((used / events) * 1e6).toFixed(1)} µs (${(used / seconds).toFixed(2)} cores)`);
  console.log(`  by thread, per event: ${share.join(' · ')}`);
}
const launched = thisProcess();
console.log(
  `  peak resident memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB (V8 young generation grown to ${Math.round(youngGenerationMiB())} MiB; malloc: ${launched.malloc ?? 'unknown'}${youngGenerationSized(launched.execArgv, launched.nodeOptions) ? '' : '; without --max-semi-space-size: run it through sh scripts/node.sh'})`,
);
console.log(
  `committed (outputs acknowledged, state flushed, offsets committed) after ${committedSeconds.toFixed(2)} s = ${Math.round(events / committedSeconds).toLocaleString('en')} events/s`,
);
await runner.stop();
if (kafka) {
  await deleteRunTopics(transport, runner, run);
  await transport.close();
}
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);

/** The new space's current size: with --max-semi-space-size=N it may grow to 2·N MiB. */
function youngGenerationMiB(): number {
  return (getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20;
}
