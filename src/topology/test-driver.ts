import { AgentrecError } from '../errors.js';
import { TopologyRunner, type RunnerOptions } from './runtime/topology-runner.js';
import type { Topology } from './topology.js';
import { EmbeddedLog, createEmbeddedTransport } from './transport/embedded-transport.js';
import type { SourceRecord } from './transport/types.js';

export interface TestDriverOptions extends Omit<RunnerOptions, 'transport' | 'now'> {
  /** Initial clock value, ms since the epoch. */
  startTime?: number;
  /** Most records one delivered batch holds (the embedded transport's maxBatch). */
  maxBatch?: number;
}

/**
 * Runs a topology in-process on the embedded log with a controllable clock, in the spirit of
 * Kafka Streams' TopologyTestDriver: pipe input, `await settle()`, read what came out.
 *
 * @example
 * const driver = await TopologyTestDriver.start(myTopology, { stateBackend: 'memory' });
 * driver.pipeInput('user-1', encodedEvent);
 * await driver.settle();
 * const scores = driver.readOutput();
 */
export class TopologyTestDriver {
  private clock: number;
  private readonly log: EmbeddedLog;
  private readonly runner: TopologyRunner;
  private outputPositions = new Map<string, number>();

  private constructor(
    readonly topology: Topology,
    options: TestDriverOptions,
  ) {
    const { startTime, maxBatch, ...runnerOptions } = options;
    this.clock = startTime ?? Date.UTC(2026, 0, 1);
    this.log = new EmbeddedLog(() => this.clock);
    this.runner = new TopologyRunner(topology, {
      commitIntervalMs: 60_000,
      stateBackend: 'memory',
      log: () => undefined,
      ...runnerOptions,
      transport: createEmbeddedTransport({ log: this.log, maxBatch }),
      now: () => this.clock,
    });
  }

  static async start(topology: Topology, options: TestDriverOptions = {}): Promise<TopologyTestDriver> {
    const driver = new TopologyTestDriver(topology, options);
    await driver.runner.start();
    return driver;
  }

  get metrics() {
    return this.runner.metrics;
  }

  now(): number {
    return this.clock;
  }

  advanceTime(ms: number): void {
    this.clock += ms;
  }

  /** Appends to the source topic (partitioned by key, as Kafka would). */
  pipeInput(key: string | null, value: Buffer | null, options: { timestamp?: number } = {}): SourceRecord {
    const saved = this.clock;
    if (options.timestamp !== undefined) this.clock = options.timestamp;
    const record = this.log.append({ topic: this.topology.source.topic, key: key === null ? null : Buffer.from(key), value });
    this.clock = saved;
    this.log.notify();
    return record;
  }

  /** Waits until every input record is processed, its outputs written and its offset committed. */
  async settle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const group = this.log.group(this.runner.config.groupId);
    const topic = this.topology.source.topic;
    for (;;) {
      // A runner that failed says why here, instead of the wait timing out.
      await Promise.race([this.runner.commitAll(), this.runner.done]);
      const partitions = this.topology.source.partitions;
      let done = true;
      for (let p = 0; p < partitions; p++) {
        if ((group.committed.get(`${topic}:${p}`) ?? 0) < this.log.endOffset({ topic, partition: p })) done = false;
      }
      if (done) return;
      if (Date.now() > deadline) throw new AgentrecError('TASK_STATE_ILLEGAL', `test driver: input not processed within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Sink records written since the last call, decoded with the sink's serde. */
  readOutput<T = unknown>(): { key: string | null; value: T; partition: number }[] {
    return this.readTopic(this.topology.sink.topic).map((r) => ({
      key: r.key?.toString() ?? null,
      value: this.topology.sink.serde.deserialize(r.value!) as T,
      partition: r.partition,
    }));
  }

  /** Raw records written to any topic since the last read of that topic. */
  readTopic(topic: string): SourceRecord[] {
    const partitions = this.log.topics.get(topic)?.partitions ?? [];
    const out: SourceRecord[] = [];
    partitions.forEach((records, p) => {
      const key = `${topic}:${p}`;
      out.push(...records.slice(this.outputPositions.get(key) ?? 0));
      this.outputPositions.set(key, records.length);
    });
    return out.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset);
  }

  async close(): Promise<void> {
    await this.runner.stop();
  }
}
