import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { BadRecordError } from '../../src/errors.js';
import { decode } from '../../src/operators/decode.js';
import { mapValues } from '../../src/operators/map-values.js';
import { avroSerde } from '../../src/serde/avro-serde.js';
import { jsonSerde } from '../../src/serde/json-serde.js';
import type { TrajectoryEvent } from '../../src/recommender/records.js';
import { validateTrajectoryEvent } from '../../src/recommender/validate-trajectory-event.js';
import { TopologyRunner, type RunnerOptions } from '../../src/topology/runtime/topology-runner.js';
import { batchStep } from '../../src/topology/step.js';
import { topology, type Topology } from '../../src/topology/topology.js';
import { createKafkaTransport, type KafkaTransportOptions } from '../../src/topology/transport/kafka-transport.js';
import type { OutputRecord, SourceRecord, Transport } from '../../src/topology/transport/types.js';
import { requestEvent } from '../unit/serde/fixtures.js';
import { eventually } from '../support/eventually.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';
import type { DeadLetterRecord } from '../../src/topology/runtime/dead-letter.js';

/** The input of the tick topologies: the seq-th event of one user. */
interface Tick {
  user: string;
  seq: number;
}

/** A tick with how many earlier ticks of its user the partition's state had seen. */
interface Counted extends Tick {
  seen?: number;
}

/** What the sink writes: the tick plus where it was read from, so duplicates can be traced. */
interface Annotated extends Counted {
  sourcePartition: number;
  sourceOffset: number;
}

const PARTITIONS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Per-user tick counter in a changelogged store. Without lost or doubly applied state, the
 * count a tick sees equals its seq, whichever runner and state directory processes it.
 */
const countTicks = batchStep<Tick, Counted>(
  'count',
  'count',
  (ctx) => {
    const store = ctx.store('seen');
    return async (batch) => {
      const records = [];
      for (const record of batch.records) {
        const key = Buffer.from(record.value.user);
        const seen = (await store.get(key))?.readUInt32BE(0) ?? 0;
        const next = Buffer.alloc(4);
        next.writeUInt32BE(seen + 1);
        await store.put(key, next);
        records.push({ meta: record.meta, value: { ...record.value, seen } });
      }
      return { partition: batch.partition, records };
    };
  },
  { stores: [{ name: 'seen' }] },
);

/**
 * decode (JSON, seq must be an integer) → [pace] → [count] → annotate → sink. `paceMs` slows
 * every batch down so a test can act while the runner is in the middle of its input.
 */
function tickTopology(name: string, options: { paceMs?: number; counting?: boolean } = {}): Topology {
  const decoded = topology(name)
    .from('ticks-in', { topic: `${name}.in`, partitions: PARTITIONS })
    .step(
      decode('decode', {
        serde: jsonSerde<Tick>('json:tick'),
        validate: (tick) => {
          if (!Number.isInteger(tick.seq)) throw new BadRecordError('VALIDATION_FAILED', 'must be an integer', { field: 'seq' });
        },
      }),
    );
  const paced =
    options.paceMs === undefined
      ? decoded
      : decoded.step(
          batchStep<Tick, Tick>('pace', 'pace', () => async (batch) => {
            await sleep(options.paceMs!);
            return batch;
          }),
        );
  const counted = options.counting ? paced.step(countTicks) : paced;
  return counted
    .step(
      mapValues('annotate', (tick: Counted, meta): Annotated => ({ ...tick, sourcePartition: meta.partition, sourceOffset: meta.offset })),
    )
    .to('ticks-out', { topic: `${name}.out`, serde: jsonSerde<Annotated>('json:annotated') });
}

/** `count` ticks over `users` keys; the seq-th tick of a user is record `seq * users + u`. */
function ticks(topic: string, from: number, count: number, users: number): OutputRecord[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const user = `user-${i % users}`;
    return { topic, key: Buffer.from(user), value: Buffer.from(JSON.stringify({ user, seq: Math.floor(i / users) })) };
  });
}

/** Reads a topic incrementally, one readToEnd per partition per poll, remembering where it stopped. */
class TopicTail {
  readonly byPartition: SourceRecord[][];

  constructor(
    private readonly transport: Transport,
    private readonly topic: string,
    partitions: number,
  ) {
    this.byPartition = Array.from({ length: partitions }, () => []);
  }

  get count(): number {
    return this.byPartition.reduce((n, records) => n + records.length, 0);
  }

  async poll(): Promise<number> {
    await Promise.all(
      this.byPartition.map(async (records, partition) => {
        const from = records.length === 0 ? undefined : records[records.length - 1].offset + 1;
        for await (const chunk of this.transport.readToEnd({ topic: this.topic, partition }, from)) records.push(...chunk);
      }),
    );
    return this.count;
  }

  /** Polls until `done` holds for what was read so far. */
  async until(done: (tail: TopicTail) => boolean, what: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.poll();
      if (done(this)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} on ${this.topic} (read ${this.count})`);
      await sleep(200);
    }
  }
}

/** Sum of a runner counter's series for one step. */
async function stepTotal(runner: TopologyRunner, counter: 'recordsIn' | 'recordsOut', step: string): Promise<number> {
  const { values } = await runner.metrics[counter].get();
  return values.filter((v) => v.labels.step === step).reduce((sum, v) => sum + v.value, 0);
}

async function gaugeTotal(runner: TopologyRunner, gauge: 'inFlight' | 'paused'): Promise<number> {
  const { values } = await runner.metrics[gauge].get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** Decoded sink records per key, in partition order (a key lives on one partition). */
function outputsByUser(tail: TopicTail): Map<string, { partition: number; value: Annotated }[]> {
  const serde = jsonSerde<Annotated>();
  const byUser = new Map<string, { partition: number; value: Annotated }[]>();
  tail.byPartition.forEach((records, partition) => {
    for (const record of records) {
      const value = serde.deserialize(record.value!);
      expect(record.key?.toString()).toBe(value.user);
      const list = byUser.get(value.user) ?? [];
      list.push({ partition, value });
      byUser.set(value.user, list);
    }
  });
  return byUser;
}

function uniqueTicks(tail: TopicTail): number {
  const seen = new Set<string>();
  for (const [user, outputs] of outputsByUser(tail)) for (const o of outputs) seen.add(`${user}#${o.value.seq}`);
  return seen.size;
}

/**
 * Every tick of `produced` is there; per user the first sightings come in seq order (a replay
 * after a rebalance may repeat a suffix, never reorder). Returns the number of duplicates.
 */
function expectCompleteAndOrdered(tail: TopicTail, produced: number, users: number): number {
  const byUser = outputsByUser(tail);
  expect(byUser.size).toBe(Math.min(users, produced));
  let duplicates = 0;
  for (const [user, outputs] of byUser) {
    const u = Number(user.slice('user-'.length));
    const expected = Array.from({ length: Math.ceil((produced - u) / users) }, (_, seq) => seq);
    const firstSightings: number[] = [];
    const seen = new Set<number>();
    for (const { value } of outputs) {
      if (seen.has(value.seq)) {
        duplicates++;
        continue;
      }
      firstSightings.push(value.seq);
      seen.add(value.seq);
      if (value.seen !== undefined) expect(value.seen, `count state when ${user} seq ${value.seq} was processed`).toBe(value.seq);
    }
    expect(firstSightings, `ticks of ${user}`).toEqual(expected);
    expect(new Set(outputs.map((o) => o.partition)).size, `partitions of ${user}`).toBe(1);
  }
  return duplicates;
}

/** Parses Prometheus text exposition into samples. */
function parsePrometheus(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

describeKafka('TopologyRunner on the real broker', () => {
  const transports: Transport[] = [];
  const runners: TopologyRunner[] = [];
  /** Errors a consumer or runner reported out of band; every test expects none. */
  const failures: unknown[] = [];

  const kafka = (overrides: Partial<KafkaTransportOptions> = {}): Transport => {
    const transport = createKafkaTransport({
      brokers: kafkaBrokers!,
      onError: (error) => failures.push(error),
      ...overrides,
      consumer: { maxBatchSize: 500, ...overrides.consumer },
    });
    transports.push(transport);
    return transport;
  };

  const runner = (t: Topology, options: Omit<RunnerOptions, 'log'>): TopologyRunner => {
    const created = new TopologyRunner(t, { stateBackend: 'memory', commitIntervalMs: 200, log: () => undefined, ...options });
    created.done.catch((error: unknown) => failures.push(error));
    runners.push(created);
    return created;
  };

  const stateDirs: string[] = [];
  const stateDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'agentrec-runtime-'));
    stateDirs.push(dir);
    return dir;
  };

  afterEach(async () => {
    await Promise.allSettled(runners.splice(0).map((r) => r.stop()));
    await Promise.allSettled(transports.splice(0).map((t) => t.close()));
    await Promise.all(stateDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    failures.length = 0;
  });

  it('delivers 20k records over 4 partitions to the output topic, complete and in order per key', async () => {
    const name = uniqueName('rt-flow');
    const t = tickTopology(name);
    const io = kafka();
    const r = runner(t, { transport: kafka(), groupId: name });
    await io.ensureTopics(r.topicSpecs());
    const total = 20_000;
    const users = 997;
    await io.createProducer().send(ticks(t.source.topic, 0, total, users));
    await r.start();

    const out = new TopicTail(io, t.sink.topic, PARTITIONS);
    await out.until((tail) => tail.count >= total, `${total} outputs`);
    await sleep(500);
    await out.poll();

    expect(out.count).toBe(total);
    expect(expectCompleteAndOrdered(out, total, users)).toBe(0);
    expect(r.assignedPartitions).toEqual([0, 1, 2, 3]);
    expect(out.byPartition.every((records) => records.length > 0)).toBe(true);
    expect(await stepTotal(r, 'recordsIn', 'decode')).toBe(total);
    expect(failures).toEqual([]);
  });

  it('two runners in one group split the partitions and, across a mid-stream rebalance, miss no record', async () => {
    const name = uniqueName('rt-group');
    const t = tickTopology(name);
    const io = kafka();
    const first = runner(t, { transport: kafka(), groupId: name });
    const second = runner(t, { transport: kafka(), groupId: name });
    await io.ensureTopics(first.topicSpecs());
    await first.start();

    const total = 20_000;
    const users = 500;
    const chunk = 250;
    const producer = io.createProducer();
    let produced = 0;
    const producing = (async () => {
      while (produced < total) {
        // The last quarter waits for the second runner, so records flow before, during and after the rebalance.
        if (produced >= (total * 3) / 4)
          await eventually(() => second.assignedPartitions.length > 0, 'the second runner to get partitions');
        await producer.send(ticks(t.source.topic, produced, chunk, users));
        produced += chunk;
        await sleep(40);
      }
    })();

    await eventually(async () => (await stepTotal(first, 'recordsIn', 'decode')) >= 2_000, 'the first runner to be processing');
    await second.start();
    await eventually(() => second.assignedPartitions.length > 0, 'the second runner to get partitions');
    const producedWhenSecondAssigned = produced;
    await producing;

    const out = new TopicTail(io, t.sink.topic, PARTITIONS);
    await out.until((tail) => uniqueTicks(tail) >= total, `all ${total} ticks`);
    await sleep(500);
    await out.poll();

    const a = first.assignedPartitions;
    const b = second.assignedPartitions;
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(a.filter((p) => b.includes(p))).toEqual([]);
    expect([...a, ...b].sort()).toEqual([0, 1, 2, 3]);
    expect(producedWhenSecondAssigned).toBeLessThan(total);
    expect(await stepTotal(second, 'recordsIn', 'decode')).toBeGreaterThan(0);

    const duplicates = expectCompleteAndOrdered(out, total, users);
    expect(out.count).toBe(total + duplicates);
    const inputs = (await stepTotal(first, 'recordsIn', 'decode')) + (await stepTotal(second, 'recordsIn', 'decode'));
    console.info(
      `[runtime-kafka] rebalance mid-stream: ${total} records, ${duplicates} duplicate outputs, ${inputs - total} redelivered inputs; ` +
        `first runner owns [${a.join(', ')}], second [${b.join(', ')}], second assigned after ${producedWhenSecondAssigned} records produced`,
    );
    expect(failures).toEqual([]);
  });

  it('a runner stopped gracefully and restarted resumes from its committed offsets and local state without duplicates', async () => {
    const name = uniqueName('rt-resume');
    const t = tickTopology(name, { counting: true });
    const local = { stateBackend: 'rocksdb' as const, stateDir: await stateDir() };
    const io = kafka();
    const users = 300;
    const firstPart = 8_000;
    const total = 20_000;
    const first = runner(t, { transport: kafka(), groupId: name, ...local });
    await io.ensureTopics(first.topicSpecs());
    const producer = io.createProducer();
    await producer.send(ticks(t.source.topic, 0, firstPart, users));
    await first.start();
    const out = new TopicTail(io, t.sink.topic, PARTITIONS);
    await out.until((tail) => tail.count >= firstPart, 'the first part');
    await first.stop();
    await expect(first.done).resolves.toBeUndefined();
    expect(first.assignedPartitions).toEqual([]);

    await producer.send(ticks(t.source.topic, firstPart, total - firstPart, users));
    const second = runner(t, { transport: kafka(), groupId: name, ...local });
    await second.start();
    await out.until((tail) => uniqueTicks(tail) >= total, `all ${total} ticks`);
    await sleep(500);
    await out.poll();

    expect(expectCompleteAndOrdered(out, total, users)).toBe(0);
    expect(out.count).toBe(total);
    expect(await stepTotal(first, 'recordsIn', 'decode')).toBe(firstPart);
    expect(await stepTotal(second, 'recordsIn', 'decode')).toBe(total - firstPart);
    // Local state was current, so nothing was read back from the changelog.
    expect((await second.metrics.restoredRows.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
    expect(failures).toEqual([]);
  });

  it('dead-letters undecodable and invalid records in Avro with reason, source and step, and keeps going', async () => {
    const name = uniqueName('rt-dlq');
    const events = avroSerde<TrajectoryEvent>('trajectory-event');
    const t = topology(name)
      .from('events-in', { topic: `${name}.in`, partitions: PARTITIONS })
      .step(decode('decode', { serde: events, validate: validateTrajectoryEvent }))
      .step(
        mapValues('summarize', (event: TrajectoryEvent) => {
          if (event.text === 'poison') throw new Error('summarize cannot handle poison');
          return { eventId: event.eventId, user: event.userId };
        }),
      )
      .to('summaries-out', { topic: `${name}.out`, serde: jsonSerde<{ eventId: string; user: string }>() });
    const io = kafka();
    const r = runner(t, { transport: kafka(), groupId: name });
    await io.ensureTopics(r.topicSpecs());

    const user = 'user-dlq';
    const good = (eventId: string, userId = user) => events.serialize(requestEvent({ eventId, userId }));
    const garbage = Buffer.from('definitely not avro');
    const noCandidates = events.serialize(requestEvent({ eventId: 'bad-candidates', userId: user, candidates: [] }));
    const poison = events.serialize(requestEvent({ eventId: 'bad-poison', userId: user, text: 'poison' }));
    const sequence: (Buffer | null)[] = [good('good-1'), garbage, good('good-2'), noCandidates, null, poison, good('good-3')];
    const key = Buffer.from(user);
    const others = Array.from({ length: 40 }, (_, i) => ({
      topic: t.source.topic,
      key: Buffer.from(`other-${i}`),
      value: good(`other-${i}`, `other-${i}`),
    }));
    await io.createProducer().send([...sequence.map((value) => ({ topic: t.source.topic, key, value })), ...others]);
    await r.start();

    const out = new TopicTail(io, t.sink.topic, PARTITIONS);
    await out.until((tail) => tail.count >= 43, 'the good records');
    const dlqTail = new TopicTail(io, t.deadLetterTopic, 1);
    await dlqTail.until((tail) => tail.count >= 4, 'the dead letters');
    await sleep(500);
    await Promise.all([out.poll(), dlqTail.poll()]);

    const summaries = jsonSerde<{ eventId: string; user: string }>();
    const mine = out.byPartition
      .flat()
      .map((record) => summaries.deserialize(record.value!))
      .filter((s) => s.user === user);
    expect(mine.map((s) => s.eventId)).toEqual(['good-1', 'good-2', 'good-3']);
    expect(out.count).toBe(43);

    // Where the broker put the bad records, read back from the input topic.
    const input = new TopicTail(io, t.source.topic, PARTITIONS);
    await input.poll();
    const partition = input.byPartition.findIndex((records) => records.some((r) => r.key?.equals(key)));
    const offsets = input.byPartition[partition].filter((r) => r.key?.equals(key)).map((r) => r.offset);
    expect(offsets).toHaveLength(sequence.length);

    const dlq = avroSerde<DeadLetterRecord>('dead-letter');
    const dead = dlqTail.byPartition[0].map((record) => dlq.deserialize(record.value!));
    expect(dead).toHaveLength(4);
    const common = { topology: name, sourceTopic: t.source.topic, sourcePartition: partition };
    expect(dead[0]).toMatchObject({ ...common, step: 'decode', errorCode: 'DECODE_FAILED', sourceOffset: offsets[1] });
    expect(dead[0].value).toEqual(garbage);
    expect(dead[1]).toMatchObject({ ...common, step: 'decode', errorCode: 'VALIDATION_FAILED', sourceOffset: offsets[3] });
    expect(dead[1].reason).toContain("field 'candidates'");
    expect(dead[1].value).toEqual(noCandidates);
    expect(dead[2]).toMatchObject({ ...common, step: 'decode', errorCode: 'DECODE_FAILED', sourceOffset: offsets[4], value: null });
    expect(dead[2].reason).toContain('tombstone');
    expect(dead[3]).toMatchObject({ ...common, step: 'summarize', sourceOffset: offsets[5] });
    expect(dead[3].reason).toContain('summarize cannot handle poison');
    for (const letter of dead) {
      expect(letter.key).toEqual(key);
      expect(letter.reason.length).toBeGreaterThan(0);
      expect(letter.failedAt).toBeGreaterThan(0);
    }
    expect(dlqTail.byPartition[0].every((record) => record.key?.equals(key))).toBe(true);
    expect(failures).toEqual([]);
  });

  it('pauses a partition whose outputs pile up (agentrec_partition_paused = 1) and still delivers everything', async () => {
    const name = uniqueName('rt-pressure');
    const t = tickTopology(name);
    const io = kafka();
    // A slow-acknowledging producer keeps a batch's outputs in flight well past the bound.
    const r = runner(t, {
      transport: kafka({ producer: { lingerMs: 50 }, consumer: { maxBatchSize: 200 } }),
      groupId: name,
      maxInFlightRecords: 50,
    });
    const pausedValues: number[] = [];
    const set = r.metrics.paused.set.bind(r.metrics.paused);
    vi.spyOn(r.metrics.paused, 'set').mockImplementation(((labels: Record<string, string>, value: number) => {
      pausedValues.push(value);
      set(labels, value);
    }) as typeof r.metrics.paused.set);
    await io.ensureTopics(r.topicSpecs());
    const total = 6_000;
    const users = 200;
    await io.createProducer().send(ticks(t.source.topic, 0, total, users));
    await r.start();

    const out = new TopicTail(io, t.sink.topic, PARTITIONS);
    await out.until((tail) => tail.count >= total, `${total} outputs`);
    await eventually(async () => (await gaugeTotal(r, 'paused')) === 0, 'every partition to resume');

    expect(pausedValues).toContain(1);
    expect(pausedValues.filter((v) => v === 1).length).toBe(pausedValues.filter((v) => v === 0).length);
    expect(expectCompleteAndOrdered(out, total, users)).toBe(0);
    expect(out.count).toBe(total);
    expect(failures).toEqual([]);
  });

  it('describe() shows where a slow partition stands: its task in `process`, its batch in flight, its offsets', async () => {
    const name = uniqueName('rt-describe');
    const t = tickTopology(name, { paceMs: 400 });
    const io = kafka();
    const r = runner(t, { transport: kafka({ consumer: { maxBatchSize: 50 } }), groupId: name });
    await io.ensureTopics(r.topicSpecs());
    const total = 400;
    await io.createProducer().send(ticks(t.source.topic, 0, total, 40));
    await r.start();
    // Every batch sleeps 400 ms in `pace`: soon some task is caught in the middle of one.
    let seen: ReturnType<TopologyRunner['describe']> | undefined;
    await eventually(() => {
      seen = r.describe();
      return seen.tasks.some((task) => task.running?.operation === 'process' && task.running.forMs >= 100 && task.lastProcessed >= 0);
    }, 'a task with a batch in progress after an earlier one');
    const busy = seen!.tasks.find((task) => task.running?.operation === 'process' && task.running.forMs >= 100 && task.lastProcessed >= 0)!;
    expect(seen!.topology).toBe(name);
    expect(seen!.tasks.map((task) => task.partition).sort()).toEqual([0, 1, 2, 3]);
    expect(busy.state).toBe('running');
    const consumed = seen!.consumer!.partitions.find((p) => p.partition === busy.partition)!;
    expect(consumed.topic).toBe(t.source.topic);
    expect(consumed.batchInFlightForMs).toBeGreaterThanOrEqual(100);
    expect(consumed.paused).toBe(false);
    expect(seen!.consumer!.state).toBe('running');
    expect(seen!.consumer!.poll).toMatch(/^(consuming|waiting for buffered records to be handed out) \(for \d+ ms\)$/);
    const out = new TopicTail(io, t.sink.topic, PARTITIONS);
    await out.until((tail) => tail.count >= total, `${total} outputs`);
    await eventually(
      () => r.describe().tasks.every((task) => task.running === undefined || task.running.operation === 'commit'),
      'every task idle',
    );
    expect(failures).toEqual([]);
  });

  it('serves /metrics in Prometheus text with per-topology, step and partition series', async () => {
    const name = uniqueName('rt-metrics');
    const t = tickTopology(name);
    const io = kafka();
    const r = runner(t, { transport: kafka(), groupId: name, metricsPort: 0 });
    await io.ensureTopics(r.topicSpecs());
    const total = 400;
    const bad = { topic: t.source.topic, key: Buffer.from('user-0'), value: Buffer.from('{"user":"user-0","seq":"x"}') };
    await io.createProducer().send([...ticks(t.source.topic, 0, total, 40), bad]);
    await r.start();
    expect(r.metricsPort).toBeGreaterThan(0);

    const out = new TopicTail(io, t.sink.topic, PARTITIONS);
    await out.until((tail) => tail.count >= total, `${total} outputs`);
    await eventually(async () => (await r.metrics.deadLettered.get()).values.length > 0, 'the dead letter to be counted');

    const response = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const samples = parsePrometheus(await response.text());
    const of = (metric: string, step?: string) =>
      samples.filter((s) => s.name === metric && s.labels.topology === name && (step === undefined || s.labels.step === step));
    const sum = (list: { value: number }[]) => list.reduce((n, s) => n + s.value, 0);

    const decodeIn = of('agentrec_records_in_total', 'decode');
    expect(decodeIn.length).toBeGreaterThan(1);
    for (const s of decodeIn) expect(s.labels.partition).toMatch(/^[0-3]$/);
    expect(sum(decodeIn)).toBe(total + 1);
    expect(sum(of('agentrec_records_out_total', 'decode'))).toBe(total);
    expect(sum(of('agentrec_records_out_total', 'ticks-out'))).toBe(total);
    const dead = of('agentrec_records_dead_lettered_total', 'decode');
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ value: 1, labels: { code: 'VALIDATION_FAILED' } });
    expect(dead[0].labels.partition).toMatch(/^[0-3]$/);
    for (const step of ['decode', 'annotate']) {
      const buckets = of('agentrec_step_batch_duration_seconds_bucket', step);
      const count = of('agentrec_step_batch_duration_seconds_count', step);
      expect(buckets.some((s) => s.labels.le === '+Inf')).toBe(true);
      expect(count).toHaveLength(1);
      expect(count[0].value).toBeGreaterThan(0);
      expect(buckets.find((s) => s.labels.le === '+Inf')!.value).toBe(count[0].value);
      expect(of('agentrec_step_batch_duration_seconds_sum', step)).toHaveLength(1);
    }
    expect(failures).toEqual([]);
  });

  it('stop() with outputs in flight drains, flushes and commits: the next runner gets no record twice', async () => {
    const name = uniqueName('rt-shutdown');
    const t = tickTopology(name, { paceMs: 20, counting: true });
    const io = kafka();
    // Outputs stay unacknowledged for ~300 ms and batches are paced, so stop() lands mid-stream.
    const first = runner(t, {
      transport: kafka({ producer: { lingerMs: 300 }, consumer: { maxBatchSize: 100 } }),
      groupId: name,
      commitIntervalMs: 5_000,
      stateBackend: 'rocksdb',
      stateDir: await stateDir(),
    });
    await io.ensureTopics(first.topicSpecs());
    const total = 20_000;
    const users = 400;
    await io.createProducer().send(ticks(t.source.topic, 0, total, users));
    await first.start();

    await eventually(async () => (await stepTotal(first, 'recordsIn', 'decode')) >= 2_000, 'the first runner to be processing');
    const inFlightAtStop = await gaugeTotal(first, 'inFlight');
    await first.stop();
    await expect(first.done).resolves.toBeUndefined();
    const processedByFirst = await stepTotal(first, 'recordsIn', 'decode');
    expect(inFlightAtStop).toBeGreaterThan(0);
    expect(await gaugeTotal(first, 'inFlight')).toBe(0);
    expect(processedByFirst).toBeLessThan(total);

    const out = new TopicTail(io, t.sink.topic, PARTITIONS);
    await out.poll();
    // Everything the first runner read was written before stop() returned.
    expect(out.count).toBe(processedByFirst);

    // Another machine: empty state directory, so its counts come from the changelog stop() flushed.
    const second = runner(t, { transport: kafka(), groupId: name, stateBackend: 'rocksdb', stateDir: await stateDir() });
    await second.start();
    await out.until((tail) => uniqueTicks(tail) >= total, `all ${total} ticks`);
    await sleep(500);
    await out.poll();

    expect(expectCompleteAndOrdered(out, total, users)).toBe(0);
    expect(out.count).toBe(total);
    expect(await stepTotal(second, 'recordsIn', 'decode')).toBe(total - processedByFirst);
    expect((await second.metrics.restoredRows.get()).values.reduce((n, v) => n + v.value, 0)).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });
});
