/**
 * The baseline for agentrec's framework benchmark: the leanest correct consume → produce loop on
 * @confluentinc/kafka-javascript, with the same librdkafka tuning as the Kafka transport
 * (idempotent producer, acks=all, manual commits after the outputs are acknowledged).
 *
 * Run directly (`npx tsx bench/raw-loop.ts [records]`, broker from KAFKA_BROKERS or
 * 127.0.0.1:9092): preloads ~500k 200-byte records into 4 partitions, then copies them once with
 * the raw loop and once through the Transport interface (onBatch → send → commit), and prints
 * both throughputs and their ratio. Timing starts at the first record received, so group-join
 * time is not counted for either.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { RdKafka } from '@confluentinc/kafka-javascript';
import { groupConsumerConfig, producerConfig } from '../src/topology/transport/kafka-client-config.js';
import { LibrdkafkaCode, librdkafkaCode } from '../src/topology/transport/kafka-errors.js';
import {
  connectClient,
  consumeBatch,
  createNativeConsumer,
  disconnectClient,
  type NativeConsumer,
} from '../src/topology/transport/kafka-native.js';
import { resolveKafkaOptions } from '../src/topology/transport/kafka-options.js';
import { createKafkaTransport, type KafkaTransportOptions } from '../src/topology/transport/kafka-transport.js';
import { decode } from '../src/operators/decode.js';
import { mapValues } from '../src/operators/map-values.js';
import { bytesSerde } from '../src/serde/bytes-serde.js';
import { TopologyRunner } from '../src/topology/runtime/topology-runner.js';
import { topology } from '../src/topology/topology.js';

export interface LoopResult {
  records: number;
  seconds: number;
  /** CPU time of this process over the same span (user + system): steadier than wall time on a shared machine. */
  cpuSeconds?: number;
}

/** Copies `expected` records from inputTopic to outputTopic (same key, same value bytes). */
export async function rawConsumeProduceLoop(options: {
  brokers: string;
  inputTopic: string;
  outputTopic: string;
  groupId: string;
  expected: number;
}): Promise<LoopResult> {
  const resolved = resolveKafkaOptions({ brokers: options.brokers, clientId: 'raw-loop' });
  // Rebalances are applied at once: the baseline has no per-partition state to hand over.
  const config = groupConsumerConfig(resolved, options.groupId, 'raw-loop', (error, assignment) => {
    if (librdkafkaCode(error) === LibrdkafkaCode.ASSIGN_PARTITIONS) consumer.incrementalAssign(assignment);
    else consumer.incrementalUnassign(assignment);
  });
  const consumer: NativeConsumer = createNativeConsumer(config, resolved.consumer.pollTimeoutMs);
  const producerSettings = producerConfig(resolved, 'raw-loop');
  const producer = new RdKafka.Producer(producerSettings.global, producerSettings.topic);

  const deliveries = countDeliveries(producer);

  await connectClient(producer, options.brokers, resolved.connectTimeoutMs, 'connect the raw-loop producer');
  producer.setPollInBackground(true);
  await connectClient(consumer, options.brokers, resolved.connectTimeoutMs, 'connect the raw-loop consumer');
  consumer.subscribe([options.inputTopic]);

  let copied = 0;
  let firstAt = 0;
  let cpuAtFirst = process.cpuUsage();
  const nextOffsets = new Map<number, number>();
  try {
    while (copied < options.expected) {
      const messages = await consumeBatch(consumer, resolved.consumer.maxBatchSize);
      if (messages.length === 0) continue;
      if (!firstAt) {
        firstAt = performance.now();
        cpuAtFirst = process.cpuUsage();
      }
      for (let index = 0; index < messages.length;) {
        const message = messages[index];
        try {
          producer.produce(options.outputTopic, -1, message.value, message.key);
          index++;
          deliveries.sent++;
        } catch (error) {
          if (librdkafkaCode(error) !== LibrdkafkaCode.QUEUE_FULL) throw error;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        nextOffsets.set(message.partition, message.offset + 1);
      }
      // Offsets are committed only once everything produced so far is acknowledged.
      await deliveries.settled();
      consumer.commit([...nextOffsets].map(([partition, offset]) => ({ topic: options.inputTopic, partition, offset })));
      copied += messages.length;
    }
    const seconds = (performance.now() - firstAt) / 1000;
    const cpuSeconds = cpuSince(cpuAtFirst);
    await new Promise<void>((resolve, reject) => {
      const final = [...nextOffsets].map(([partition, offset]) => ({ topic: options.inputTopic, partition, offset }));
      consumer.commitCb(final, (error) => (error ? reject(error) : resolve()));
    });
    return { records: copied, seconds, cpuSeconds };
  } finally {
    consumer.unsubscribe();
    await disconnectClient(consumer);
    await disconnectClient(producer);
  }
}

/** The same copy through the Transport interface: onBatch → producer.send → commit. */
export async function transportPassThrough(options: {
  brokers: string;
  inputTopic: string;
  outputTopic: string;
  groupId: string;
  expected: number;
  tuning?: Omit<KafkaTransportOptions, 'brokers'>;
}): Promise<LoopResult> {
  const transport = createKafkaTransport({ clientId: 'transport-loop', ...options.tuning, brokers: options.brokers });
  const producer = transport.createProducer();
  const consumer = transport.createConsumer({ groupId: options.groupId, topics: [options.inputTopic] });
  let copied = 0;
  let firstAt = 0;
  let cpuAtFirst = process.cpuUsage();
  let failure: unknown;
  try {
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    await consumer.start({
      onAssigned: async () => undefined,
      onRevoked: async () => undefined,
      onBatch: async (partition, records) => {
        if (!firstAt) {
          firstAt = performance.now();
          cpuAtFirst = process.cpuUsage();
        }
        try {
          await producer.send(records.map((record) => ({ topic: options.outputTopic, key: record.key, value: record.value })));
          await consumer.commit([{ ...partition, offset: records[records.length - 1].offset + 1 }]);
        } catch (error) {
          failure = error;
          finished();
          return;
        }
        copied += records.length;
        if (copied >= options.expected) finished();
      },
    });
    await done;
    if (failure) throw failure;
    return { records: copied, seconds: (performance.now() - firstAt) / 1000, cpuSeconds: cpuSince(cpuAtFirst) };
  } finally {
    await transport.close();
  }
}

/** Preloads `count` records of `recordBytes` bytes, keyed by 10k users, as fast as the client allows. */
export async function fillTopic(options: {
  brokers: string;
  topic: string;
  partitions: number;
  count: number;
  recordBytes: number;
}): Promise<void> {
  const transport = createKafkaTransport({ brokers: options.brokers });
  try {
    await transport.ensureTopics([{ topic: options.topic, partitions: options.partitions }]);
  } finally {
    await transport.close();
  }
  // Loading is not what is measured: plain acks=1 producer with big batches.
  const producer = new RdKafka.Producer(
    {
      'bootstrap.servers': options.brokers,
      'linger.ms': 50,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 500_000,
      dr_cb: true,
    },
    { acks: 1, partitioner: 'murmur2_random' },
  );
  const deliveries = countDeliveries(producer);
  await connectClient(producer, options.brokers, 10_000, 'connect the fill producer');
  producer.setPollInBackground(true);
  const payload = randomBytes(options.recordBytes);
  try {
    for (let index = 0; index < options.count;) {
      try {
        producer.produce(options.topic, -1, payload, `user-${index % 10_000}`);
        index++;
        deliveries.sent++;
      } catch (error) {
        if (librdkafkaCode(error) !== LibrdkafkaCode.QUEUE_FULL) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    await deliveries.settled();
  } finally {
    await disconnectClient(producer);
  }
}

/**
 * The same copy through the whole framework: a decode → map → encode topology run by
 * TopologyRunner (tasks, RxJS operator chain, metrics, dead-letter handling, offset commits
 * after acknowledged outputs). Clock stops once every record left the sink and was committed.
 */
export async function frameworkPassThrough(options: {
  brokers: string;
  inputTopic: string;
  outputTopic: string;
  groupId: string;
  expected: number;
}): Promise<LoopResult> {
  const t = topology('bench-passthrough')
    .from('in', { topic: options.inputTopic, partitions: 4 })
    .step(decode('decode', { serde: bytesSerde() }))
    .step(mapValues('map', (value: Buffer) => value))
    .to('out', { topic: options.outputTopic, serde: bytesSerde() });
  const transport = createKafkaTransport({ brokers: options.brokers, clientId: 'framework-loop' });
  const runner = new TopologyRunner(t, {
    transport,
    groupId: options.groupId,
    stateBackend: 'memory',
    log: () => undefined,
    maxInFlightRecords: Number(process.env.BENCH_MAX_IN_FLIGHT ?? 100_000),
  });
  await runner.start();
  let firstAt = 0;
  let cpuAtFirst = process.cpuUsage();
  for (;;) {
    if (!firstAt && (await runner.metrics.total('recordsIn', 'decode')) > 0) {
      firstAt = performance.now();
      cpuAtFirst = process.cpuUsage();
    }
    if ((await runner.metrics.total('recordsOut', 'out')) >= options.expected) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await runner.commitAll();
  const result = { records: options.expected, seconds: (performance.now() - firstAt) / 1000, cpuSeconds: cpuSince(cpuAtFirst) };
  await runner.stop();
  await transport.close();
  return result;
}

async function main(): Promise<void> {
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const count = Number(process.argv[2] ?? 500_000);
  const run = randomUUID().slice(0, 8);
  const inputTopic = `bench-raw-input-${run}`;
  const loadStart = performance.now();
  await fillTopic({ brokers, topic: inputTopic, partitions: 4, count, recordBytes: 200 });
  const loadSeconds = (performance.now() - loadStart) / 1000;
  console.log(`preloaded ${count} x 200-byte records into 4 partitions in ${loadSeconds.toFixed(1)} s`);

  const outputs = {
    raw: `bench-raw-output-${run}`,
    transport: `bench-transport-output-${run}`,
    framework: `bench-framework-output-${run}`,
  };
  const setup = createKafkaTransport({ brokers });
  await setup.ensureTopics(Object.values(outputs).map((topic) => ({ topic, partitions: 4 })));
  await setup.close();

  const raw = await rawConsumeProduceLoop({ brokers, inputTopic, outputTopic: outputs.raw, groupId: `bench-raw-${run}`, expected: count });
  report('raw loop (librdkafka consume(n) → produce → commit)', raw);
  const viaTransport = await transportPassThrough({
    brokers,
    inputTopic,
    outputTopic: outputs.transport,
    groupId: `bench-transport-${run}`,
    expected: count,
  });
  report('Transport (onBatch → send → commit)', viaTransport);
  const viaFramework = await frameworkPassThrough({
    brokers,
    inputTopic,
    outputTopic: outputs.framework,
    groupId: `bench-framework-${run}`,
    expected: count,
  });
  report('framework topology (decode → map → encode, TopologyRunner)', viaFramework);
  const rate = (r: LoopResult) => r.records / r.seconds;
  console.log(`throughput ratio transport / raw: ${(rate(viaTransport) / rate(raw)).toFixed(2)}`);
  console.log(`throughput ratio framework / raw: ${(rate(viaFramework) / rate(raw)).toFixed(2)}`);
  if (raw.cpuSeconds && viaTransport.cpuSeconds) {
    console.log(
      `CPU-per-record ratio raw / transport: ${(raw.cpuSeconds / raw.records / (viaTransport.cpuSeconds / viaTransport.records)).toFixed(2)}`,
    );
  } // Every run fills fresh topics (~100 MB per 500k records): leave the broker as it was found.
  const cleanup = createKafkaTransport({ brokers });
  await cleanup.deleteTopics([inputTopic, ...Object.values(outputs)]);
  await cleanup.close();
}

/** Counts delivery reports instead of awaiting each send: `sent++` per produce, then `settled()`. */
function countDeliveries(producer: RdKafka.Producer): { sent: number; settled(): Promise<void> } {
  let acknowledged = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const counter = {
    sent: 0,
    async settled(): Promise<void> {
      while (acknowledged < counter.sent) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
    },
  };
  producer.on('delivery-report', (error) => {
    if (error) failure ??= error;
    acknowledged++;
    if (acknowledged >= counter.sent) wake?.();
  });
  return counter;
}

function report(name: string, result: LoopResult): void {
  const perSecond = Math.round(result.records / result.seconds);
  const cpu = result.cpuSeconds === undefined ? '' : `, ${((result.cpuSeconds / result.records) * 1e6).toFixed(1)} µs CPU/record`;
  console.log(
    `${name}: ${result.records} records in ${result.seconds.toFixed(2)} s = ${perSecond.toLocaleString('en-US')} records/s${cpu}`,
  );
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
