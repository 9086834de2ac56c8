/**
 * End to end through a real broker with RocksDB state: the agent-recommender topology (decode →
 * encode → lookup → score → learn → emit) against a decode-only pass-through of the same events
 * (the framework's floor), in the same run, plus event → score latency at a fixed input rate.
 *
 *   npx tsx bench/recommender-e2e.ts [--events 100000] [--rate 1000] [--seconds 20] [--warmup-seconds 3] [--transport kafka|embedded] [--commit-interval MS (default: the runtime's)] [--instances 1]
 *
 * --set key=value passes a topology setting, as the CLI's --set does (repeatable).
 *
 * --compare-guarantees [--rounds 3] (Kafka only) also runs the recommender with
 * `processingGuarantee: 'exactly-once'` and at-least-once again, alternating, over fresh copies
 * of the same input (compareGuarantees), and the latency test once more with exactly-once (its
 * reader reads read_committed, so a score is seen once its transaction committed).
 *
 * --instances N (N > 1, Kafka only) also runs the recommender as N processes in one consumer
 * group (bench/e2e-instance.ts), the way a deployment uses more cores, over a topic filled
 * beforehand; the time runs from the moment every instance owns partitions (joining and the
 * rebalance excluded) to the last record processed.
 *
 * Broker: KAFKA_BROKERS or 127.0.0.1:9092 (npm run kafka:start).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import agentRecommender from '../topologies/agent-recommender.js';
import { decode } from '../src/operators/decode.js';
import { mapValues } from '../src/operators/map-values.js';
import { avroSerde } from '../src/serde/avro-serde.js';
import type { TrajectoryEvent } from '../src/recommender/records.js';
import { SimulatedUsers } from '../src/recommender/simulation/simulated-users.js';
import { TopologyRunner } from '../src/topology/runtime/topology-runner.js';
import { topology, type Topology } from '../src/topology/topology.js';
import { createEmbeddedTransport } from '../src/topology/transport/embedded-transport.js';
import { createKafkaTransport } from '../src/topology/transport/kafka-transport.js';
import type { OutputRecord, Transport } from '../src/topology/transport/types.js';
import type { InstanceArgs, InstanceReport } from './e2e-instance.js';
import { deleteRunTopics } from './run-topics.js';
import { untilCommitted } from './until-committed.js';
import { scoreRecordSerde } from '../src/recommender/score-record-body.js';
import { settingsFrom } from '../src/cli/run-options.js';
import type { ProcessingGuarantee } from '../src/topology/runtime/runner-config.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    transport: { type: 'string', default: 'kafka' },
    partitions: { type: 'string', default: '4' },
    'commit-interval': { type: 'string' },
    /** Seconds of traffic at the latency rate before latencies count (group join, first fetches). */
    'warmup-seconds': { type: 'string', default: '3' },
    instances: { type: 'string', default: '1' },
    'compare-guarantees': { type: 'boolean', default: false },
    /** --compare-guarantees: how many exactly-once / at-least-once pairs to run. */
    rounds: { type: 'string', default: '3' },
    /** Topology settings, as the CLI's --set (e.g. --set sessionContext=false). */
    set: { type: 'string', multiple: true, default: [] },
  },
});
const extraSettings = settingsFrom(values.set);
const events = Number(values.events);
const commitIntervalMs = (): number | undefined =>
  values['commit-interval'] === undefined ? undefined : Number(values['commit-interval']);
const partitions = Number(values.partitions);
const rounds = Number(values.rounds);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const run = `bench-${Date.now().toString(36)}`;
const eventSerde = avroSerde<TrajectoryEvent>('trajectory-event');
const makeTransport = (): Transport => (values.transport === 'embedded' ? sharedEmbedded : createKafkaTransport({ brokers }));
const sharedEmbedded = createEmbeddedTransport();

function simulatedRecords(topic: string, count: number, seed: number): OutputRecord[] {
  const users = new SimulatedUsers({ users: 5000, actions: 300, candidates: 20, seed });
  return Array.from({ length: count }, () => {
    const event = users.next();
    return { topic, key: Buffer.from(event.userId), value: eventSerde.serialize(event) };
  });
}

async function fill(topic: string, records: OutputRecord[]): Promise<void> {
  const transport = makeTransport();
  await transport.ensureTopics([{ topic, partitions }]);
  const producer = transport.createProducer();
  for (let i = 0; i < records.length; i += 5000) await producer.send(records.slice(i, i + 5000));
  await producer.close();
  if (transport !== sharedEmbedded) await transport.close();
}

/**
 * Polls `progress` until `expected` records were processed, printing it every 2 s; returns the
 * seconds from the first record processed to the last.
 */
async function secondsToProcess(
  label: string,
  expected: number,
  progress: () => Promise<{ processed: number; detail?: string }>,
): Promise<number> {
  let started = 0;
  let lastPrint = 0;
  for (;;) {
    const { processed, detail } = await progress();
    if (processed > 0 && !started) started = performance.now();
    if (processed >= expected) return (performance.now() - started) / 1000;
    if (performance.now() - lastPrint > 2000) {
      process.stderr.write(
        `  ${label}: ${processed.toLocaleString('en')} / ${expected.toLocaleString('en')}${detail ? ` (${detail})` : ''}\n`,
      );
      lastPrint = performance.now();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs `t` until `expected` records entered its first step: records/s from the first record on;
 * `committedRate` waits until they are also committed (outputs acknowledged, state flushed,
 * offsets committed), which a sustained stream has to keep up with too.
 */
async function throughput(
  label: string,
  t: Topology,
  expected: number,
  processingGuarantee?: ProcessingGuarantee,
): Promise<{ rate: number; seconds: number; committedRate: number }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'agentrec-bench-'));
  const transport = makeTransport();
  const runner = new TopologyRunner(t, {
    transport,
    groupId: `${run}-${label}`,
    stateDir,
    log: () => undefined,
    commitIntervalMs: commitIntervalMs(),
    processingGuarantee,
  });
  await runner.start();
  const firstStep = t.steps[0].name;
  const seconds = await secondsToProcess(label, expected, async () => ({ processed: await runner.metrics.total('recordsIn', firstStep) }));
  const processedAt = performance.now();
  await untilCommitted(runner, expected);
  const committedSeconds = seconds + (performance.now() - processedAt) / 1000;
  await runner.stop();
  await deleteRunTopics(transport, runner, run);
  if (transport !== sharedEmbedded) await transport.close();
  rmSync(stateDir, { recursive: true, force: true });
  return { rate: expected / seconds, seconds, committedRate: expected / committedSeconds };
}

/**
 * The recommender as `count` processes in one group, over a topic filled beforehand (as the single
 * instance's is, and as in production, where the producers run elsewhere). The first instance to
 * join owns every partition until the others arrive; the rate counts only what is left once every
 * instance owns partitions — records/s from then to the last record processed.
 */
async function throughputOfInstances(count: number, records: OutputRecord[]): Promise<{ rate: number; seconds: number; measured: number }> {
  const topic = `${run}.instances.in`;
  await fill(
    topic,
    records.map((r) => ({ ...r, topic })),
  );
  // Same extension as this file: .js when compiled, .ts under tsx (fork inherits --import tsx).
  const script = fileURLToPath(new URL(`./e2e-instance${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  const args: InstanceArgs = {
    brokers,
    groupId: `${run}-instances`,
    inputTopic: topic,
    outputTopic: `${topic}.out`,
    partitions,
    commitIntervalMs: commitIntervalMs(),
  };
  const reports: InstanceReport[] = Array.from({ length: count }, () => ({ processed: 0, assigned: 0 }));
  const children = reports.map((_, i) => {
    const child = fork(script, [JSON.stringify(args)], { stdio: 'inherit' });
    child.on('message', (m) => (reports[i] = m as InstanceReport));
    return child;
  });
  const sum = (field: keyof InstanceReport) => reports.reduce((s, r) => s + r[field], 0);
  while (!(reports.every((r) => r.assigned > 0) && sum('assigned') === partitions)) await new Promise((r) => setTimeout(r, 20));
  const stable = { at: performance.now(), processed: sum('processed') };
  await secondsToProcess(`${count} instances`, records.length, async () => ({
    processed: sum('processed'),
    detail: `partitions owned: ${reports.map((r) => r.assigned).join(' + ')}`,
  }));
  const seconds = (performance.now() - stable.at) / 1000;
  await Promise.all(children.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.send('stop')))));
  // The instances' input, output and changelog topics, as their runners named them (e2e-instance.ts).
  const cleanup = makeTransport();
  const instanceTopology = agentRecommender({
    transport: 'kafka',
    groupId: args.groupId,
    settings: { ...extraSettings, inputTopic: args.inputTopic, outputTopic: args.outputTopic, partitions: String(partitions) },
  });
  await deleteRunTopics(
    cleanup,
    new TopologyRunner(instanceTopology, { transport: cleanup, groupId: args.groupId, stateDir: tmpdir(), log: () => undefined }),
    run,
  );
  await cleanup.close();
  const measured = records.length - stable.processed;
  return { rate: measured / seconds, seconds, measured };
}

async function latency(
  rate: number,
  seconds: number,
  warmupSeconds: number,
  processingGuarantee: ProcessingGuarantee = 'at-least-once',
): Promise<{ p50: number; p90: number; p99: number; max: number; samples: number }> {
  const input = `${run}.latency-${processingGuarantee}.in`;
  const output = `${run}.latency-${processingGuarantee}.out`;
  const t = agentRecommender({
    transport: 'kafka',
    // The runner's group: the model topic is named after it, one per run, not shared with earlier runs.
    groupId: `${run}-latency-${processingGuarantee}`,
    settings: { ...extraSettings, inputTopic: input, outputTopic: output, partitions: String(partitions) },
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'agentrec-bench-'));
  const transport = makeTransport();
  const runner = new TopologyRunner(t, {
    transport,
    groupId: `${run}-latency-${processingGuarantee}`,
    stateDir,
    log: () => undefined,
    commitIntervalMs: commitIntervalMs(),
    processingGuarantee,
  });
  await runner.start();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const scoreSerde = scoreRecordSerde();
  const reader = transport.createConsumer({ groupId: `${run}-latency-reader-${processingGuarantee}`, topics: [output] });
  await reader.start({
    onAssigned: async () => undefined,
    onRevoked: async () => undefined,
    onBatch: async (_tp, records) => {
      const now = performance.now();
      for (const r of records) {
        const sent = sentAt.get(scoreSerde.deserialize(r.value!).requestId);
        if (sent !== undefined) latencies.push(now - sent);
      }
    },
  });
  const producer = transport.createProducer();
  const users = new SimulatedUsers({ users: 5000, actions: 300, candidates: 20, seed: 99 });
  // Requests sent while the runner and the reader are still joining their groups wait for the
  // assignment (seconds), which says nothing about steady-state latency: they are sent, not timed.
  const warmup = rate * warmupSeconds;
  const total = warmup + rate * seconds;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const event = users.next();
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (event.kind === 'REQUEST' && i >= warmup) sentAt.set(event.requestId!, performance.now());
    void producer.send([{ topic: input, key: Buffer.from(event.userId), value: eventSerde.serialize(event) }]);
  }
  await new Promise((r) => setTimeout(r, 3000));
  await reader.stop();
  await producer.close();
  await runner.stop();
  await deleteRunTopics(transport, runner, run);
  if (transport !== sharedEmbedded) await transport.close();
  rmSync(stateDir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { p50: pick(0.5), p90: pick(0.9), p99: pick(0.99), max: latencies[latencies.length - 1], samples: latencies.length };
}

/**
 * --compare-guarantees: rounds of exactly-once then at-least-once over fresh copies of the input.
 * On a shared machine the load drifts within a run, so each exactly-once run is compared with the
 * mean of the at-least-once runs just before and just after it (round 0 is one more at-least-once
 * run, so the first comparison is with a warm process too); the median of those ratios is the figure.
 */
async function compareGuarantees(records: OutputRecord[]): Promise<void> {
  const recommenderOn = async (label: string) => {
    const input = `${run}.${label}.in`;
    await fill(
      input,
      records.map((r) => ({ ...r, topic: input })),
    );
    return agentRecommender({
      transport: 'kafka',
      groupId: `${run}-${label}`,
      settings: { ...extraSettings, inputTopic: input, outputTopic: `${run}.${label}.out`, partitions: String(partitions) },
    });
  };
  const show = (r: { rate: number; seconds: number; committedRate: number }) =>
    `${Math.round(r.rate).toLocaleString('en')} events/s (${r.seconds.toFixed(1)} s), all committed ${Math.round(r.committedRate).toLocaleString('en')} events/s`;
  const ratios: number[] = [];
  const committedRatios: number[] = [];
  // The run before the first exactly-once one, warm like every later one (the first run of a
  // process is slower: code not yet optimized, caches cold).
  let before = await throughput('alos-0', await recommenderOn('alos-0'), events);
  console.log(`round 0: at-least-once ${show(before)}`);
  for (let round = 1; round <= rounds; round++) {
    const eos = await throughput(`eos-${round}`, await recommenderOn(`eos-${round}`), events, 'exactly-once');
    const after = await throughput(`alos-${round}`, await recommenderOn(`alos-${round}`), events);
    ratios.push(eos.rate / ((before.rate + after.rate) / 2));
    committedRatios.push(eos.committedRate / ((before.committedRate + after.committedRate) / 2));
    console.log(`round ${round}: exactly-once ${show(eos)}; at-least-once after it ${show(after)}; ratio ${ratios.at(-1)!.toFixed(2)}`);
    before = after;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `ratio exactly-once / at-least-once (median of ${rounds} rounds, each against the at-least-once runs around it): ` +
      `${median(ratios).toFixed(2)} (all committed: ${median(committedRatios).toFixed(2)})`,
  );
}

async function main(): Promise<void> {
  console.log(
    `agentrec end-to-end benchmark: ${events.toLocaleString('en')} simulated events, ${partitions} partitions, transport ${values.transport}`,
  );
  const recInput = `${run}.rec.in`;
  const passInput = `${run}.pass.in`;
  const records = simulatedRecords(recInput, events, 7);
  await fill(recInput, records);
  await fill(
    passInput,
    records.map((r) => ({ ...r, topic: passInput })),
  );
  const passthrough = topology('bench-passthrough')
    .from('in', { topic: passInput, partitions })
    .step(decode('decode', { serde: eventSerde }))
    .step(mapValues('identity', (e: TrajectoryEvent) => e))
    .to('out', { topic: `${run}.pass.out`, serde: eventSerde });
  const rec = agentRecommender({
    transport: 'kafka',
    groupId: `${run}-recommender`,
    settings: { ...extraSettings, inputTopic: recInput, outputTopic: `${run}.rec.out`, partitions: String(partitions) },
  });
  const base = await throughput('passthrough', passthrough, events);
  const full = await throughput('recommender', rec, events);
  console.log(
    `decode → re-encode pass-through (baseline): ${Math.round(base.rate).toLocaleString('en')} events/s (${base.seconds.toFixed(1)} s)`,
  );
  console.log(
    `agent-recommender, FM d=32, RocksDB:        ${Math.round(full.rate).toLocaleString('en')} events/s (${full.seconds.toFixed(1)} s)`,
  );
  console.log(`  all committed (outputs acknowledged):     ${Math.round(full.committedRate).toLocaleString('en')} events/s`);
  console.log(`ratio recommender / pass-through:           ${(full.rate / base.rate).toFixed(2)}`);
  const compare = values['compare-guarantees'] && values.transport === 'kafka';
  if (compare) await compareGuarantees(records);
  const instances = Number(values.instances);
  if (instances > 1 && values.transport === 'kafka') {
    const scaled = await throughputOfInstances(instances, records);
    console.log(
      `agent-recommender, ${instances} instance processes:  ${Math.round(scaled.rate).toLocaleString('en')} events/s (the last ${scaled.measured.toLocaleString('en')} events, once every instance owned partitions, ${scaled.seconds.toFixed(1)} s), ${(scaled.rate / full.rate).toFixed(2)}× one instance`,
    );
  }
  if (values.transport === 'kafka') {
    const rate = Number(values.rate);
    const l = await latency(rate, Number(values.seconds), Number(values['warmup-seconds']));
    console.log(
      `event → score latency at ${rate} events/s (after ${values['warmup-seconds']} s of warm-up): p50 ${l.p50.toFixed(1)} ms, p90 ${l.p90.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms (${l.samples} requests)`,
    );
    if (compare) {
      const e = await latency(rate, Number(values.seconds), Number(values['warmup-seconds']), 'exactly-once');
      console.log(
        `  same, exactly-once, read read_committed:  p50 ${e.p50.toFixed(1)} ms, p90 ${e.p90.toFixed(1)} ms, p99 ${e.p99.toFixed(1)} ms, max ${e.max.toFixed(1)} ms (${e.samples} requests)`,
      );
    }
  }
  console.log(`process RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
