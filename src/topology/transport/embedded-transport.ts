import { AgentrecError } from '../../errors.js';
import { partitionForKey } from './murmur2.js';
import type {
  CommitOffset,
  ConsumerHandlers,
  GroupConsumer,
  OutputRecord,
  Producer,
  SourceRecord,
  TopicPartition,
  TopicSpec,
  Transport,
} from './types.js';

const tpKey = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;

/**
 * The zero-setup log: partitioned topics, consumer groups and committed offsets inside one
 * process. It keeps Kafka's semantics that topologies rely on (per-partition order, keyed
 * partitioning with Kafka's hash, group assignment, committed offsets, redelivery after a
 * restart from the last commit) so a topology behaves the same here and on a broker. Not
 * durable: it is for `npm start` and fast tests, never a stand-in for Kafka in integration tests.
 */
export class EmbeddedLog {
  readonly topics = new Map<string, { partitions: SourceRecord[][]; config: Record<string, string> }>();
  readonly groups = new Map<string, EmbeddedGroup>();
  private waiters: (() => void)[] = [];
  private roundRobin = 0;

  constructor(private readonly now: () => number = Date.now) {}

  ensureTopic(spec: TopicSpec): void {
    if (this.topics.has(spec.topic)) return;
    this.topics.set(spec.topic, { partitions: Array.from({ length: spec.partitions }, () => []), config: { ...spec.config } });
  }

  append(record: OutputRecord): SourceRecord {
    const topic = this.topics.get(record.topic);
    if (!topic)
      throw new AgentrecError(
        'KAFKA_DELIVERY_FAILED',
        `unknown topic '${record.topic}' (topics are created by the topology, not on first write)`,
      );
    const count = topic.partitions.length;
    const partition = record.partition ?? (record.key ? partitionForKey(record.key, count) : this.roundRobin++ % count);
    if (partition < 0 || partition >= count)
      throw new AgentrecError('KAFKA_DELIVERY_FAILED', `topic '${record.topic}' has no partition ${partition}`);
    const log = topic.partitions[partition];
    const stored: SourceRecord = {
      topic: record.topic,
      partition,
      offset: log.length,
      key: record.key,
      value: record.value,
      timestamp: this.now(),
    };
    log.push(stored);
    return stored;
  }

  /** Wakes consumers waiting for data. */
  notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => (clearTimeout(timer), resolve()));
    });
  }

  endOffset(tp: TopicPartition): number {
    return this.topics.get(tp.topic)?.partitions[tp.partition]?.length ?? 0;
  }

  read(tp: TopicPartition, from: number, max: number): SourceRecord[] {
    return this.topics.get(tp.topic)?.partitions[tp.partition]?.slice(from, from + max) ?? [];
  }

  group(groupId: string): EmbeddedGroup {
    let group = this.groups.get(groupId);
    if (!group) this.groups.set(groupId, (group = new EmbeddedGroup(this)));
    return group;
  }
}

/** Eager rebalancing: every member gives its partitions back, then all are dealt out again. */
export class EmbeddedGroup {
  readonly committed = new Map<string, number>();
  readonly members: EmbeddedConsumer[] = [];
  private rebalancing: Promise<void> = Promise.resolve();

  constructor(private readonly log: EmbeddedLog) {}

  join(member: EmbeddedConsumer): Promise<void> {
    this.members.push(member);
    return this.rebalance();
  }

  leave(member: EmbeddedConsumer): Promise<void> {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    return this.rebalance();
  }

  private rebalance(): Promise<void> {
    this.rebalancing = this.rebalancing.then(async () => {
      for (const member of this.members) await member.revokeAll();
      const topics = [...new Set(this.members.flatMap((m) => m.topics))].sort();
      const partitions: TopicPartition[] = [];
      for (const topic of topics) {
        const count = this.log.topics.get(topic)?.partitions.length ?? 0;
        for (let p = 0; p < count; p++) partitions.push({ topic, partition: p });
      }
      const members = this.members.filter((m) => m.active);
      const plan = new Map<EmbeddedConsumer, TopicPartition[]>(members.map((m) => [m, []]));
      partitions.forEach((tp, i) => {
        const wanting = members.filter((m) => m.topics.includes(tp.topic));
        if (wanting.length) plan.get(wanting[i % wanting.length])!.push(tp);
      });
      for (const [member, tps] of plan) await member.assign(tps);
    });
    return this.rebalancing;
  }
}

class EmbeddedConsumer implements GroupConsumer {
  assignment: TopicPartition[] = [];
  active = false;
  private handlers?: ConsumerHandlers;
  private readonly positions = new Map<string, number>();
  private readonly paused = new Set<string>();
  private lock: Promise<unknown> = Promise.resolve();
  private loop?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly log: EmbeddedLog,
    private readonly group: EmbeddedGroup,
    readonly topics: string[],
    private readonly maxBatch: number,
  ) {}

  async start(handlers: ConsumerHandlers): Promise<void> {
    for (const topic of this.topics) {
      if (!this.log.topics.has(topic)) throw new AgentrecError('KAFKA_UNAVAILABLE', `subscribed topic '${topic}' does not exist`);
    }
    this.handlers = handlers;
    this.active = true;
    await this.group.join(this);
    this.loop = this.run();
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.add(tpKey(tp));
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.delete(tpKey(tp));
    this.log.notify();
  }

  async commit(offsets: CommitOffset[]): Promise<void> {
    for (const o of offsets) this.group.committed.set(tpKey(o), o.offset);
  }

  async committed(partitions: TopicPartition[]): Promise<(number | undefined)[]> {
    return partitions.map((tp) => this.group.committed.get(tpKey(tp)));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.active = false;
    this.log.notify();
    await this.loop;
    // Give partitions back (the runtime commits in onRevoked) before others can be assigned them.
    await this.revokeAll();
    await this.group.leave(this);
  }

  /** Called by the group. Runs between deliveries, never during one. */
  revokeAll(): Promise<void> {
    return this.exclusive(async () => {
      if (this.assignment.length === 0) return;
      const revoked = this.assignment;
      this.assignment = [];
      await this.handlers!.onRevoked(revoked);
      for (const tp of revoked) this.positions.delete(tpKey(tp));
    });
  }

  assign(partitions: TopicPartition[]): Promise<void> {
    return this.exclusive(async () => {
      if (!this.active || partitions.length === 0) return;
      for (const tp of partitions) this.positions.set(tpKey(tp), this.group.committed.get(tpKey(tp)) ?? 0);
      await this.handlers!.onAssigned(partitions);
      this.assignment = partitions;
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const delivered = await this.exclusive(() => this.deliverRound());
      if (!delivered && !this.stopped) await this.log.waitForData(20);
    }
  }

  private async deliverRound(): Promise<boolean> {
    let delivered = false;
    for (const tp of this.assignment) {
      const key = tpKey(tp);
      if (this.paused.has(key)) continue;
      const position = this.positions.get(key) ?? 0;
      const records = this.log.read(tp, position, this.maxBatch);
      if (records.length === 0) continue;
      this.positions.set(key, position + records.length);
      await this.handlers!.onBatch(tp, records);
      delivered = true;
    }
    return delivered;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }
}

export interface EmbeddedTransportOptions {
  log?: EmbeddedLog;
  /** Most records one delivered batch holds (what one poll returns). */
  maxBatch?: number;
}

export function createEmbeddedTransport(options: EmbeddedTransportOptions = {}): Transport & { readonly log: EmbeddedLog } {
  const log = options.log ?? new EmbeddedLog();
  const maxBatch = options.maxBatch ?? 1000;
  return {
    kind: 'embedded',
    log,
    async ensureTopics(specs) {
      for (const spec of specs) log.ensureTopic(spec);
    },
    async partitionCounts(topics) {
      const found = topics.filter((topic) => log.topics.has(topic));
      return new Map(found.map((topic) => [topic, log.topics.get(topic)!.partitions.length]));
    },
    async deleteTopics(topics) {
      for (const topic of topics) log.topics.delete(topic);
    },
    createConsumer({ groupId, topics }) {
      return new EmbeddedConsumer(log, log.group(groupId), topics, maxBatch);
    },
    createProducer(): Producer {
      return {
        async send(records) {
          for (const record of records) log.append(record);
          if (records.length) log.notify();
        },
        async close() {},
      };
    },
    async *readToEnd(tp, fromOffset = 0) {
      const end = log.endOffset(tp);
      for (let offset = fromOffset; offset < end; offset += 1000) yield log.read(tp, offset, Math.min(1000, end - offset));
    },
    async close() {},
  };
}
