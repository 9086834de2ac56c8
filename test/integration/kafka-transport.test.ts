import { afterEach, describe, expect, it } from 'vitest';
import { AgentrecError, ConfigError } from '../../src/errors.js';
import { createKafkaTransport, type KafkaTransportOptions } from '../../src/topology/transport/kafka-transport.js';
import type {
  ConsumerHandlers,
  GroupConsumer,
  OutputRecord,
  SourceRecord,
  TopicPartition,
  Transport,
} from '../../src/topology/transport/types.js';
import { eventually } from '../support/eventually.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';

/** Kafka's Java murmur2 (org.apache.kafka.common.utils.Utils.murmur2), written independently of librdkafka. */
function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2] << 16;
  if (tail >= 2) h ^= data[whole + 1] << 8;
  if (tail >= 1) {
    h ^= data[whole];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

function javaPartition(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

function tp(topic: string, partition: number): TopicPartition {
  return { topic, partition };
}

function keyed(topic: string, count: number, keyOf: (i: number) => string, partition?: number): OutputRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic,
    key: Buffer.from(keyOf(i)),
    value: Buffer.from(String(i)),
    ...(partition === undefined ? {} : { partition }),
  }));
}

const waitFor = (condition: () => boolean, what: string, timeoutMs = 30_000) => eventually(condition, what, { timeoutMs, pollMs: 20 });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records every callback with a global sequence number, so tests can check their order. */
class Recorder implements ConsumerHandlers {
  static sequence = 0;
  readonly records: SourceRecord[] = [];
  readonly batches: { partition: TopicPartition; records: SourceRecord[] }[] = [];
  readonly events: { kind: 'assigned' | 'revoked'; partitions: TopicPartition[]; startedAt: number; endedAt: number }[] = [];
  owned = new Set<number>();
  onBatchHook: (partition: TopicPartition, records: SourceRecord[]) => Promise<void> = async () => undefined;
  onRevokedHook: (partitions: TopicPartition[]) => Promise<void> = async () => undefined;

  async onAssigned(partitions: TopicPartition[]): Promise<void> {
    const startedAt = ++Recorder.sequence;
    for (const p of partitions) this.owned.add(p.partition);
    this.events.push({ kind: 'assigned', partitions, startedAt, endedAt: ++Recorder.sequence });
  }

  async onRevoked(partitions: TopicPartition[]): Promise<void> {
    const startedAt = ++Recorder.sequence;
    await this.onRevokedHook(partitions);
    for (const p of partitions) this.owned.delete(p.partition);
    this.events.push({ kind: 'revoked', partitions, startedAt, endedAt: ++Recorder.sequence });
  }

  async onBatch(partition: TopicPartition, records: SourceRecord[]): Promise<void> {
    this.batches.push({ partition, records: [...records] });
    this.records.push(...records);
    await this.onBatchHook(partition, records);
  }

  countOn(partition: number): number {
    return this.records.filter((record) => record.partition === partition).length;
  }
}

describe('createKafkaTransport options', () => {
  it('rejects invalid options naming the JSON-pointer path', () => {
    expect(() => createKafkaTransport({ brokers: 'no-port' })).toThrow(ConfigError);
    expect(() => createKafkaTransport({ brokers: 'no-port' })).toThrow('/brokers');
    expect(() => createKafkaTransport({ brokers: 'h:1', consumer: { maxBatchSize: 0 } })).toThrow('/consumer/maxBatchSize');
    expect(() => createKafkaTransport({ brokers: 'h:1', producer: { librdkafka: { 'enable.idempotence': false } } })).toThrow(
      '/producer/librdkafka/enable.idempotence',
    );
    expect(() => createKafkaTransport({ brokers: 'h:1', consumer: { librdkafka: { 'enable.auto.commit': true } } })).toThrow(
      '/consumer/librdkafka/enable.auto.commit',
    );
  });

  it('computes Java murmur2 like org.apache.kafka.common.utils.Utils (values from the Java client)', () => {
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(javaPartition(Buffer.from('user-1'), 4)).toBe(0);
  });
});

describe('Kafka transport against an unreachable broker', () => {
  const unreachable = '127.0.0.1:1';
  const options: KafkaTransportOptions = { brokers: unreachable, connectTimeoutMs: 1500 };

  it('fails with KAFKA_UNAVAILABLE naming the broker, within a bounded time', async () => {
    const transport = createKafkaTransport(options);
    try {
      const started = Date.now();
      const producer = transport.createProducer();
      const sending = producer.send([{ topic: 'x', key: null, value: Buffer.from('v') }]);
      await expect(sending).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
      await expect(sending).rejects.toThrow(unreachable);
      const consumer = transport.createConsumer({ groupId: 'g', topics: ['x'] });
      const handlers = new Recorder();
      await expect(consumer.start(handlers)).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
      await expect(transport.ensureTopics([{ topic: 'x', partitions: 1 }])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await transport.close();
    }
  });
});

describeKafka('Kafka transport', () => {
  const open: Transport[] = [];
  const transport = (overrides: Partial<KafkaTransportOptions> = {}): Transport => {
    const created = createKafkaTransport({ brokers: kafkaBrokers!, ...overrides });
    open.push(created);
    return created;
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  it('ensureTopics creates the partitions and a compacted topic, and tolerates existing topics', async () => {
    const kafka = transport({ consumer: { maxBatchSize: 100 } });
    const compacted = uniqueName('compact');
    const plain = uniqueName('plain');
    const spec = {
      topic: compacted,
      partitions: 1,
      // Small, quickly rolled segments so the cleaner can compact within the test.
      config: { 'cleanup.policy': 'compact', 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.001', 'delete.retention.ms': '100' },
    };
    await kafka.ensureTopics([spec, { topic: plain, partitions: 3 }]);
    await kafka.ensureTopics([spec, { topic: plain, partitions: 3 }]);

    const producer = kafka.createProducer();
    // An explicit partition the topic does not have is refused: the topic has exactly 3.
    await producer.send([0, 1, 2].map((partition) => ({ topic: plain, key: null, value: Buffer.from('v'), partition })));
    await expect(producer.send([{ topic: plain, key: null, value: Buffer.from('v'), partition: 3 }])).rejects.toMatchObject({
      code: 'KAFKA_DELIVERY_FAILED',
    });

    await producer.send(keyed(compacted, 50, (i) => `k${i % 5}`));
    const latest = async () => {
      const values: string[] = [];
      for await (const chunk of kafka.readToEnd(tp(compacted, 0))) values.push(...chunk.map((r) => `${r.key}=${r.value}`));
      return values;
    };
    // Compaction keeps only the last value per key; new writes roll the segment so it can run.
    const keyedValues = (all: string[]) => all.filter((v) => v.startsWith('k'));
    let values = await latest();
    expect(keyedValues(values).length).toBe(50);
    const deadline = Date.now() + 60_000;
    while (keyedValues(values).length > 5 && Date.now() < deadline) {
      await sleep(500);
      await producer.send([{ topic: compacted, key: Buffer.from('roll'), value: Buffer.from('x') }]);
      values = await latest();
    }
    for (let key = 0; key < 5; key++) expect(values).toContain(`k${key}=${45 + key}`);
    expect(keyedValues(values).length).toBe(5);
  });

  it('deleteTopics removes a topic with its records and skips names that do not exist', async () => {
    const kafka = transport();
    const topic = uniqueName('deleted');
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    const producer = kafka.createProducer();
    await producer.send(keyed(topic, 10, (i) => `k${i}`, 0));
    await kafka.deleteTopics([topic, uniqueName('never-created')]);
    // Deletion completes in the background: once it has, the name can be created again with
    // another partition count, and the new topic is empty.
    await producer.close();
    await eventually(
      async () => {
        await kafka.ensureTopics([{ topic, partitions: 3 }]);
        // A fresh producer each time: one that wrote to the old topic keeps its metadata for minutes.
        const fresh = kafka.createProducer();
        try {
          await fresh.send([{ topic, key: null, value: Buffer.from('new'), partition: 2 }]);
          return true;
        } catch {
          return false;
        } finally {
          await fresh.close();
        }
      },
      `'${topic}' re-created with 3 partitions`,
      { pollMs: 500 },
    );
    const left: string[] = [];
    for await (const chunk of kafka.readToEnd(tp(topic, 0))) left.push(...chunk.map((r) => String(r.key)));
    expect(left).toEqual([]);
  });

  it('delivers every produced record through a group, per partition in order, partitioned by Java murmur2', async () => {
    const kafka = transport();
    const topic = uniqueName('order');
    const partitions = 4;
    const count = 3000;
    await kafka.ensureTopics([{ topic, partitions }]);
    const producer = kafka.createProducer();
    const keyOf = (i: number) => `user-${i % 37}`;
    await producer.send(keyed(topic, count, keyOf));

    const consumer = kafka.createConsumer({ groupId: uniqueName('g'), topics: [topic] });
    const recorder = new Recorder();
    let concurrentPerPartition = 0;
    const active = new Set<number>();
    recorder.onBatchHook = async (partition) => {
      if (active.has(partition.partition)) concurrentPerPartition++;
      active.add(partition.partition);
      await sleep(1);
      active.delete(partition.partition);
    };
    await consumer.start(recorder);
    await waitFor(() => recorder.records.length >= count, 'all records');
    await consumer.stop();

    expect(recorder.records.length).toBe(count);
    expect(concurrentPerPartition).toBe(0);
    expect(recorder.events[0].kind).toBe('assigned');
    for (let partition = 0; partition < partitions; partition++) {
      const offsets = recorder.records.filter((r) => r.partition === partition).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    // Every batch is one partition's; values of one key arrive in the order they were sent.
    for (const batch of recorder.batches)
      expect(new Set(batch.records.map((r) => r.partition))).toEqual(new Set([batch.partition.partition]));
    const seenPerKey = new Map<string, number>();
    const partitionOfKey = new Map<string, number>();
    for (const record of recorder.records) {
      const key = record.key!.toString();
      const value = Number(record.value!.toString());
      expect(value).toBeGreaterThan(seenPerKey.get(key) ?? -1);
      seenPerKey.set(key, value);
      expect(partitionOfKey.get(key) ?? record.partition).toBe(record.partition);
      partitionOfKey.set(key, record.partition);
      expect(record.partition).toBe(javaPartition(record.key!, partitions));
      expect(record.topic).toBe(topic);
      expect(record.timestamp).toBeGreaterThan(Date.now() - 120_000);
    }
    expect(new Set(recorder.records.map((r) => Number(r.value!.toString()))).size).toBe(count);
    // onRevoked ran for every owned partition on stop.
    const revoked = recorder.events.filter((e) => e.kind === 'revoked').flatMap((e) => e.partitions.map((p) => p.partition));
    expect(revoked.sort()).toEqual([0, 1, 2, 3]);
    await consumer.stop();
  });

  it('resumes a group from its committed offsets', async () => {
    const kafka = transport({ consumer: { maxBatchSize: 10 } });
    const topic = uniqueName('resume');
    const groupId = uniqueName('g');
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    await kafka.createProducer().send(keyed(topic, 100, (i) => `k${i}`));

    const first = kafka.createConsumer({ groupId, topics: [topic] });
    const firstRecorder = new Recorder();
    let committedUpTo = -1;
    firstRecorder.onBatchHook = async (partition, records) => {
      if (committedUpTo >= 0) return;
      committedUpTo = records[records.length - 1].offset + 1;
      await first.commit([{ ...partition, offset: committedUpTo }]);
    };
    await first.start(firstRecorder);
    await waitFor(() => committedUpTo >= 0 && firstRecorder.records.length > committedUpTo, 'first batches');
    expect(await first.committed([tp(topic, 0)])).toEqual([committedUpTo]);
    await first.stop();
    expect(committedUpTo).toBeLessThanOrEqual(10);

    const second = kafka.createConsumer({ groupId, topics: [topic] });
    expect(await second.committed([tp(topic, 0)])).toEqual([committedUpTo]);
    const secondRecorder = new Recorder();
    await second.start(secondRecorder);
    await waitFor(() => secondRecorder.records.length >= 100 - committedUpTo, 'the rest');
    expect(secondRecorder.records[0].offset).toBe(committedUpTo);
    expect(secondRecorder.records.map((r) => r.offset)).toEqual(Array.from({ length: 100 - committedUpTo }, (_, i) => committedUpTo + i));
    await second.stop();
    expect(await kafka.createConsumer({ groupId: uniqueName('fresh'), topics: [topic] }).committed([tp(topic, 0)])).toEqual([undefined]);
  });

  it('splits partitions between two members, awaiting onRevoked before the partition moves', async () => {
    // Quick heartbeats so a rebalance completes well within the slow onRevoked below.
    const kafka = transport({ consumer: { librdkafka: { 'heartbeat.interval.ms': 200 } } });
    const topic = uniqueName('split');
    const groupId = uniqueName('g');
    const partitions = 4;
    await kafka.ensureTopics([{ topic, partitions }]);

    const a = kafka.createConsumer({ groupId, topics: [topic], clientId: 'member-a' });
    const aRecorder = new Recorder();
    const b = kafka.createConsumer({ groupId, topics: [topic], clientId: 'member-b' });
    const bRecorder = new Recorder();
    let revokeFinishedAt = 0;
    let bAssignedAt = 0;
    aRecorder.onRevokedHook = async () => {
      // A slow flush: b must not get the partition before it is done, however long b waits.
      const until = Date.now() + 3000;
      while (bAssignedAt === 0 && Date.now() < until) await sleep(20);
      revokeFinishedAt = Date.now();
    };
    await a.start(aRecorder);
    await waitFor(() => aRecorder.owned.size === partitions, 'a owns every partition');

    const bAssigned = bRecorder.onAssigned.bind(bRecorder);
    bRecorder.onAssigned = async (assigned) => {
      if (bAssignedAt === 0) bAssignedAt = Date.now();
      await bAssigned(assigned);
    };
    await b.start(bRecorder);
    await waitFor(
      () => aRecorder.owned.size > 0 && bRecorder.owned.size > 0 && aRecorder.owned.size + bRecorder.owned.size === partitions,
      'a split',
    );
    await sleep(1000);
    expect(aRecorder.owned.size + bRecorder.owned.size).toBe(partitions);

    const aRevoked = aRecorder.events.filter((e) => e.kind === 'revoked').flatMap((e) => e.partitions.map((p) => p.partition));
    expect(aRevoked.sort()).toEqual([...bRecorder.owned].sort());
    expect(bAssignedAt).toBeGreaterThanOrEqual(revokeFinishedAt);
    expect([...aRecorder.owned].some((p) => bRecorder.owned.has(p))).toBe(false);

    const count = 800;
    await kafka.createProducer().send(keyed(topic, count, (i) => `user-${i}`));
    await waitFor(() => aRecorder.records.length + bRecorder.records.length >= count, 'all records');
    await sleep(300);
    const all = [...aRecorder.records, ...bRecorder.records];
    expect(all.length).toBe(count);
    expect(new Set(all.map((r) => r.value!.toString())).size).toBe(count);
    for (const record of aRecorder.records) expect(aRecorder.owned.has(record.partition)).toBe(true);
    for (const record of bRecorder.records) expect(bRecorder.owned.has(record.partition)).toBe(true);

    // b leaving hands its partitions back to a, through b's onRevoked and a's onAssigned.
    await b.stop();
    await waitFor(() => aRecorder.owned.size === partitions, 'a owns every partition again');
    expect(bRecorder.events.at(-1)!.kind).toBe('revoked');
    await a.stop();
    await a.stop();
  });

  it('pause stops delivery of one partition while others continue; resume restarts it', async () => {
    const kafka = transport();
    const topic = uniqueName('pause');
    await kafka.ensureTopics([{ topic, partitions: 2 }]);
    const producer = kafka.createProducer();
    const consumer: GroupConsumer = kafka.createConsumer({ groupId: uniqueName('g'), topics: [topic] });
    const recorder = new Recorder();
    const assigned = recorder.onAssigned.bind(recorder);
    recorder.onAssigned = async (partitions) => {
      // Paused before the first fetch: nothing of partition 0 may arrive.
      consumer.pause([tp(topic, 0)]);
      await assigned(partitions);
    };
    await consumer.start(recorder);
    await waitFor(() => recorder.owned.size === 2, 'assignment');
    await producer.send([...keyed(topic, 100, (i) => `a${i}`, 0), ...keyed(topic, 100, (i) => `b${i}`, 1)]);
    await waitFor(() => recorder.countOn(1) === 100, 'partition 1');
    await sleep(1000);
    expect(recorder.countOn(0)).toBe(0);

    consumer.resume([tp(topic, 0)]);
    await waitFor(() => recorder.countOn(0) === 100, 'partition 0 after resume');

    consumer.pause([tp(topic, 1)]);
    await producer.send([...keyed(topic, 50, (i) => `c${i}`, 0), ...keyed(topic, 50, (i) => `d${i}`, 1)]);
    await waitFor(() => recorder.countOn(0) === 150, 'partition 0 while 1 is paused');
    await sleep(1000);
    expect(recorder.countOn(1)).toBe(100);
    consumer.resume([tp(topic, 1)]);
    await waitFor(() => recorder.countOn(1) === 150, 'partition 1 after resume');
    const offsets1 = recorder.records.filter((r) => r.partition === 1).map((r) => r.offset);
    expect(offsets1).toEqual(Array.from({ length: 150 }, (_, i) => i));
    await consumer.stop();
  });

  it('a partition whose handler is stuck does not hold up the others', async () => {
    const kafka = transport({ consumer: { maxBatchSize: 10, maxBufferedRecords: 20 } });
    const topic = uniqueName('stuck');
    await kafka.ensureTopics([{ topic, partitions: 2 }]);
    const producer = kafka.createProducer();
    await producer.send(keyed(topic, 200, (i) => `a${i}`, 0));
    const consumer = kafka.createConsumer({ groupId: uniqueName('g'), topics: [topic] });
    const recorder = new Recorder();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    recorder.onBatchHook = async (partition) => {
      if (partition.partition === 0) await released;
    };
    await consumer.start(recorder);
    try {
      await waitFor(() => recorder.countOn(0) > 0, 'partition 0 stuck in its first batch');
      // Written behind partition 0's backlog, and far more than the 20-record buffer.
      await producer.send(keyed(topic, 200, (i) => `b${i}`, 1));
      await waitFor(() => recorder.countOn(1) === 200, 'partition 1 past the stuck partition 0');
      expect(recorder.batches.filter((b) => b.partition.partition === 0).length).toBe(1);
    } finally {
      // stop() waits for in-flight batches, so a failed assertion must not leave one hanging.
      release();
    }
    await waitFor(() => recorder.countOn(0) === 200, 'partition 0 after it is unstuck');
    const offsets0 = recorder.records.filter((r) => r.partition === 0).map((r) => r.offset);
    expect(offsets0).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(Math.max(...recorder.batches.map((b) => b.records.length))).toBeLessThanOrEqual(10);
    await consumer.stop();
  });

  it('a rejecting onBatch stops the consumer, revokes its partitions and reports through onError', async () => {
    const errors: unknown[] = [];
    const kafka = transport({ onError: (error) => errors.push(error) });
    const topic = uniqueName('failing');
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    await kafka.createProducer().send(keyed(topic, 10, (i) => `k${i}`));
    const consumer = kafka.createConsumer({ groupId: uniqueName('g'), topics: [topic] });
    const recorder = new Recorder();
    const boom = new Error('handler failed');
    recorder.onBatchHook = async () => {
      throw boom;
    };
    await consumer.start(recorder);
    await waitFor(() => errors.length === 1, 'the error report');
    expect(errors[0]).toBe(boom);
    expect(recorder.batches.length).toBe(1);
    expect(recorder.events.map((e) => e.kind)).toEqual(['assigned', 'revoked']);
    await expect(consumer.commit([{ topic, partition: 0, offset: 1 }])).rejects.toMatchObject({ code: 'TASK_STATE_ILLEGAL' });
  });

  it('readToEnd returns exactly the records present when it started', async () => {
    const kafka = transport({ consumer: { maxBatchSize: 10 } });
    const topic = uniqueName('restore');
    await kafka.ensureTopics([{ topic, partitions: 2 }]);
    const producer = kafka.createProducer();
    await producer.send(keyed(topic, 50, (i) => `k${i}`, 0));

    const chunks: SourceRecord[][] = [];
    for await (const chunk of kafka.readToEnd(tp(topic, 0))) {
      // Written after the read began: not part of this read.
      if (chunks.length === 0) await producer.send(keyed(topic, 10, (i) => `late${i}`, 0));
      chunks.push(chunk);
    }
    const read = chunks.flat();
    expect(read.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(read.map((r) => r.key!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`));
    expect(read.map((r) => r.value!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(10);

    const fromOffset = [];
    for await (const chunk of kafka.readToEnd(tp(topic, 0), 45)) fromOffset.push(...chunk.map((r) => r.offset));
    expect(fromOffset).toEqual([45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);

    const started = Date.now();
    const empty = [];
    for await (const chunk of kafka.readToEnd(tp(topic, 1))) empty.push(chunk);
    expect(empty).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('readToEndReused reads what came since, call after call, across partitions and after a read left early', async () => {
    const kafka = transport({ consumer: { maxBatchSize: 10 } });
    const topic = uniqueName('tail');
    await kafka.ensureTopics([{ topic, partitions: 2 }]);
    const producer = kafka.createProducer();
    const offsets = async (partition: number, from: number) => {
      const out: number[] = [];
      for await (const chunk of kafka.readToEndReused!(tp(topic, partition), from)) out.push(...chunk.map((r) => r.offset));
      return out;
    };
    await producer.send(keyed(topic, 25, (i) => `a${i}`, 0));
    expect(await offsets(0, 0)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(await offsets(0, 25)).toEqual([]);
    await producer.send(keyed(topic, 7, (i) => `b${i}`, 0));
    await producer.send(keyed(topic, 3, (i) => `c${i}`, 1));
    expect(await offsets(0, 25)).toEqual([25, 26, 27, 28, 29, 30, 31]);
    expect(await offsets(1, 0)).toEqual([0, 1, 2]);
    // A read left after its first chunk: the next one starts where it is asked to, not where that one stopped.
    for await (const chunk of kafka.readToEndReused!(tp(topic, 0), 0)) {
      expect(chunk[0].offset).toBe(0);
      break;
    }
    expect(await offsets(0, 20)).toEqual(Array.from({ length: 12 }, (_, i) => 20 + i));
  });

  it('rejects a send with KAFKA_DELIVERY_FAILED when records cannot be delivered', async () => {
    const kafka = transport({ producer: { messageTimeoutMs: 2000 } });
    const producer = kafka.createProducer();
    const missing = uniqueName('missing');
    const sending = producer.send(keyed(missing, 3, (i) => `k${i}`));
    await expect(sending).rejects.toBeInstanceOf(AgentrecError);
    await expect(sending).rejects.toMatchObject({ code: 'KAFKA_DELIVERY_FAILED' });
    await expect(sending).rejects.toThrow(missing);
    // The producer stays usable for topics that exist.
    const topic = uniqueName('exists');
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    await expect(producer.send(keyed(topic, 3, (i) => `k${i}`))).resolves.toBeUndefined();
    await producer.close();
    await producer.close();
    await expect(producer.send(keyed(topic, 1, () => 'k'))).rejects.toMatchObject({ code: 'KAFKA_DELIVERY_FAILED' });
  });

  it('catchUpAcknowledgements hands over delivery reports queued while the event loop was busy', async () => {
    const kafka = transport();
    const topic = uniqueName('acks');
    await kafka.ensureTopics([{ topic, partitions: 1 }]);
    const producer = kafka.createProducer();
    await producer.send(keyed(topic, 1, () => 'warm-up'));
    let acknowledged = false;
    const sending = producer.send(keyed(topic, 3000, (i) => `k${i}`)).then(() => (acknowledged = true));
    // Keep the loop busy while the broker acknowledges: the reports queue up in the binding.
    for (const until = Date.now() + 2000; Date.now() < until;);
    // One loop turn hands over only part of them (the binding's ration: 100 per turn)…
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.resolve();
    expect(acknowledged).toBe(false);
    // …catching up hands over the rest without waiting for anything else.
    await producer.catchUpAcknowledgements!();
    await Promise.resolve();
    expect(acknowledged).toBe(true);
    await sending;
    await producer.close();
  });
  it('passes transport-wide librdkafka settings to the admin client, producers, group members and readers', async () => {
    const clientId = uniqueName('custom-client');
    const kafka = transport({ librdkafka: { 'client.id': clientId, 'socket.keepalive.enable': true }, consumer: { maxBatchSize: 10 } });
    const topic = uniqueName('passthrough');
    await kafka.ensureTopics([{ topic, partitions: 2 }]);
    await kafka.createProducer().send(keyed(topic, 40, (i) => `k${i}`));
    const consumer = kafka.createConsumer({ groupId: uniqueName('g'), topics: [topic] });
    const recorder = new Recorder();
    await consumer.start(recorder);
    await waitFor(() => recorder.records.length >= 40, 'every record through the group');
    await consumer.stop();
    const read: SourceRecord[] = [];
    for (const partition of [0, 1]) for await (const chunk of kafka.readToEnd(tp(topic, partition))) read.push(...chunk);
    expect(read).toHaveLength(40);
  });

  it('gives a static member (groupInstanceId) restarting with the same id its partitions back quickly', async () => {
    const kafka = transport({ consumer: { groupInstanceId: uniqueName('instance'), sessionTimeoutMs: 30_000 } });
    const topic = uniqueName('static');
    const groupId = uniqueName('g');
    await kafka.ensureTopics([{ topic, partitions: 3 }]);
    const first = kafka.createConsumer({ groupId, topics: [topic] });
    const firstRecorder = new Recorder();
    await first.start(firstRecorder);
    await waitFor(() => firstRecorder.owned.size === 3, 'first assignment');
    await first.stop();

    const restartedAt = Date.now();
    const second = kafka.createConsumer({ groupId, topics: [topic] });
    const secondRecorder = new Recorder();
    await second.start(secondRecorder);
    await waitFor(() => secondRecorder.owned.size === 3, 'partitions back after the restart', 10_000);
    expect(Date.now() - restartedAt).toBeLessThan(5000);
    await second.stop();
  });
});
