import { createHash } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { AgentrecError } from '../../src/errors.js';
import { decode } from '../../src/operators/decode.js';
import { ForwardingStore } from '../../src/state/forwarding-store.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { bytesSerde } from '../../src/serde/bytes-serde.js';
import { jsonSerde } from '../../src/serde/json-serde.js';
import { defaultDeadLetterSerde } from '../../src/topology/runtime/dead-letter.js';
import { TopologyRunner, type RunnerOptions } from '../../src/topology/runtime/topology-runner.js';
import { batchStep } from '../../src/topology/step.js';
import { topology, type RawRecord, type Topology } from '../../src/topology/topology.js';
import { createKafkaTransport, type KafkaTransportOptions } from '../../src/topology/transport/kafka-transport.js';
import type { SourceRecord, Transport } from '../../src/topology/transport/types.js';
import { eventually } from '../support/eventually.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';

/** The broker's default message.max.bytes: the largest record batch a topic accepts. */
const BROKER_MAX_MESSAGE_BYTES = 1_048_588;

interface Click {
  user: string;
  n: number;
}

function clicks(name: string, partitions = 1): Topology {
  return topology(name)
    .from('in', { topic: `${name}.in`, partitions })
    .step(decode('decode', { serde: jsonSerde<Click>() }))
    .to('out', { topic: `${name}.out`, serde: jsonSerde<Click>() });
}

/** A store whose flush fails: a disk that went away under one partition's state. */
class FailingFlushStore extends ForwardingStore {
  override async flush(): Promise<void> {
    throw new Error('disk went away');
  }
}

/** Counts records per key in a store: a step whose state the periodic commit flushes. */
function counting(name: string): Topology {
  const count = batchStep<RawRecord, Buffer>(
    'count',
    'count',
    (ctx) => async (batch) => {
      const store = ctx.store('counts');
      const records = [];
      for (const { meta, value: raw } of batch.records) {
        const key = raw.key ?? Buffer.alloc(0);
        const count = Number((await store.get(key))?.toString() ?? '0') + 1;
        await store.put(key, Buffer.from(String(count)));
        records.push({ meta, value: Buffer.from(String(count)) });
      }
      return { partition: batch.partition, records };
    },
    { stores: [{ name: 'counts' }] },
  );
  return topology(name)
    .from('in', { topic: `${name}.in`, partitions: 2 })
    .step(count)
    .to('out', { topic: `${name}.out`, serde: bytesSerde() });
}

async function readAll(transport: Transport, topic: string, partition = 0): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const chunk of transport.readToEnd({ topic, partition })) records.push(...chunk);
  return records;
}

describeKafka('runtime failures on the real broker', () => {
  const transports: Transport[] = [];
  const runners: TopologyRunner[] = [];
  /** Errors reported out of band (consumer onError, unhandled rejections); every test expects none. */
  const failures: unknown[] = [];

  const kafka = (overrides: Partial<KafkaTransportOptions> = {}): Transport => {
    const transport = createKafkaTransport({ brokers: kafkaBrokers!, onError: (error) => failures.push(error), ...overrides });
    transports.push(transport);
    return transport;
  };

  const runner = (t: Topology, options: Omit<RunnerOptions, 'log'> & { log?: (line: string) => void }): TopologyRunner => {
    const created = new TopologyRunner(t, { stateBackend: 'memory', commitIntervalMs: 200, log: () => undefined, ...options });
    runners.push(created);
    return created;
  };

  afterEach(async () => {
    await Promise.allSettled(runners.splice(0).map((r) => r.stop()));
    await Promise.allSettled(transports.splice(0).map((t) => t.close()));
    expect(failures.splice(0)).toEqual([]);
  });

  it('dead-letters an undecodable record just under the broker limit, cut to fit, and keeps going', async () => {
    const name = uniqueName('rf-big');
    const t = clicks(name);
    // The test producer may send what the broker takes; the runner keeps the default limit.
    const io = kafka({ producer: { librdkafka: { 'message.max.bytes': BROKER_MAX_MESSAGE_BYTES } } });
    const r = runner(t, { transport: kafka(), groupId: name });
    r.done.catch((error: unknown) => failures.push(error));
    await io.ensureTopics(r.topicSpecs());
    const huge = Buffer.alloc(BROKER_MAX_MESSAGE_BYTES - 2_000, 'x');
    const click = (n: number) => ({ topic: t.source.topic, key: Buffer.from('u'), value: Buffer.from(JSON.stringify({ user: 'u', n })) });
    await io.createProducer().send([click(1), { topic: t.source.topic, key: Buffer.from('u'), value: huge }, click(2)]);
    await r.start();

    await eventually(async () => (await readAll(io, t.sink.topic)).length >= 2, 'both good records', { timeoutMs: 60_000, pollMs: 200 });
    await eventually(async () => (await readAll(io, t.deadLetterTopic)).length >= 1, 'the dead letter', { timeoutMs: 30_000, pollMs: 200 });
    const outputs = (await readAll(io, t.sink.topic)).map((record) => jsonSerde<Click>().deserialize(record.value!).n);
    expect(outputs).toEqual([1, 2]);
    const [record] = await readAll(io, t.deadLetterTopic);
    const dead = defaultDeadLetterSerde().deserialize(record.value!);
    expect(dead).toMatchObject({ step: 'decode', errorCode: 'DECODE_FAILED', sourceOffset: 1 });
    expect(record.value!.length).toBeLessThanOrEqual(r.config.maxMessageBytes);
    expect(huge.subarray(0, dead.value!.length).equals(dead.value!)).toBe(true);
    const sha256 = createHash('sha256').update(huge).digest('hex');
    expect(dead.reason).toContain(
      `value cut to fit the dead-letter topic: ${dead.value!.length} of ${huge.length} bytes kept, sha256 ${sha256}`,
    );
    // Still running: the next record goes through too.
    await io.createProducer().send([click(3)]);
    await eventually(async () => (await readAll(io, t.sink.topic)).length >= 3, 'the record after', { timeoutMs: 30_000, pollMs: 200 });
  });

  it('a fatal error in the periodic commit rejects done with the coded error, logs once, commits the healthy partition', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const name = uniqueName('rf-fatal');
      const t = counting(name);
      const io = kafka();
      const lines: string[] = [];
      const r = runner(t, {
        transport: kafka(),
        groupId: name,
        log: (line) => lines.push(line),
        openStore: async (_t, store, partition) =>
          partition === 1 ? new FailingFlushStore(new MemoryStore(store)) : new MemoryStore(store),
      });
      await io.ensureTopics(r.topicSpecs());
      const records = (partition: number, count: number) =>
        Array.from({ length: count }, (_, i) => ({
          topic: t.source.topic,
          partition,
          key: Buffer.from(`k${i % 3}`),
          value: Buffer.from('x'),
        }));
      await io.createProducer().send([...records(0, 30), ...records(1, 20)]);
      await r.start();

      const error = await r.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AgentrecError);
      expect(error).toMatchObject({ code: 'STATE_IO', step: 'count' });
      expect((error as Error).message).toContain("store 'counts' partition 1 could not be flushed: disk went away");
      await r.stop();
      expect(lines.filter((line) => line.includes('fatal'))).toEqual([`stopping after a fatal error: ${(error as Error).message}`]);

      // The healthy partition's work was committed on the way out; the failed one resumes from scratch.
      const group = io.createConsumer({ groupId: name, topics: [t.source.topic] });
      expect(await group.committed([0, 1].map((partition) => ({ topic: t.source.topic, partition })))).toEqual([30, undefined]);
      await group.stop();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it.each([
    ['more', 8],
    ['fewer', 2],
  ])('refuses to start on a source topic with %s partitions than declared, naming both counts and the setting', async (_, actual) => {
    const name = uniqueName('rf-parts');
    const t = clicks(name, 4);
    const io = kafka();
    await io.ensureTopics([{ topic: t.source.topic, partitions: actual }]);
    const lines: string[] = [];
    const r = runner(t, { transport: kafka(), groupId: name, log: (line) => lines.push(line) });
    const started = r.start();
    await expect(started).rejects.toMatchObject({ code: 'TOPOLOGY_INVALID' });
    const message = await started.catch((error: Error) => error.message);
    expect(message).toContain(`source 'in' declares 4 partitions but topic '${t.source.topic}' has ${actual}`);
    expect(message).toContain(`declare ${actual} (the partitions given to from('in', …)`);
    await expect(r.done).rejects.toMatchObject({ code: 'TOPOLOGY_INVALID' });
    expect(lines).toEqual([`stopping after a fatal error: ${message}`]);
    // Nothing was created for the wrong count.
    expect(await io.partitionCounts([t.sink.topic, t.deadLetterTopic])).toEqual(new Map());
  });

  it('refuses to start when a changelog topic was kept for another partition count', async () => {
    const name = uniqueName('rf-changelog');
    const t = counting(name);
    const io = kafka();
    const changelog = `${name}.counts.changelog`;
    await io.ensureTopics([{ topic: changelog, partitions: 3 }]);
    const r = runner(t, { transport: kafka(), groupId: name });
    r.done.catch(() => undefined);
    await expect(r.start()).rejects.toThrow(
      `changelog topic '${changelog}' has 3 partitions but source 'in' declares 2: the state of group '${name}' was kept for 3 partitions`,
    );
  });
});
