import { RdKafka } from '@confluentinc/kafka-javascript';
import { AgentrecError, ConfigError, errorMessage } from '../../errors.js';
import { adminConfig, createClient } from './kafka-client-config.js';
import { BrokerConnectionMonitor } from './kafka-connection-monitor.js';
import { LibrdkafkaCode, isUnreachable, kafkaUnavailable, librdkafkaCode } from './kafka-errors.js';
import { KafkaGroupConsumer } from './kafka-group-consumer.js';
import { type KafkaTransportOptions, type ResolvedKafkaOptions, resolveKafkaOptions } from './kafka-options.js';
import { openPartitionReader, readPartitionToEnd, type PartitionReader } from './kafka-partition-reader.js';
import { KafkaProducer } from './kafka-producer.js';
import { KafkaTransactionalProducer } from './kafka-transactional-producer.js';
import type {
  ConnectionStatus,
  GroupConsumer,
  Producer,
  SourceRecord,
  TopicPartition,
  TopicSpec,
  TransactionalProducer,
  Transport,
} from './types.js';

/** Fetch wait of a reader readToEndReused keeps: short, since each read wants a few new records now. */
const REUSED_READER_POLL_MS = 5;

export type { KafkaConsumerTuning, KafkaProducerTuning, KafkaTransportOptions } from './kafka-options.js';

/** How often ensureTopics re-reads metadata while waiting for new topics to get leaders. */
const METADATA_RETRY_MS = 100;

/**
 * The Transport over Apache Kafka via @confluentinc/kafka-javascript (librdkafka), using its
 * callback ("node-rdkafka") API: it lets a rebalance wait for onAssigned/onRevoked, hands out
 * whole polls as batches, and counts delivery reports per send instead of a promise per record.
 *
 * @example
 * const transport = createKafkaTransport({ brokers: '127.0.0.1:9092' });
 * await transport.ensureTopics([{ topic: 'agent.scores', partitions: 4 }]);
 * const producer = transport.createProducer();
 * await producer.send([{ topic: 'agent.scores', key: Buffer.from('user-1'), value: Buffer.from('{}') }]);
 * await transport.close();
 */
export function createKafkaTransport(options: KafkaTransportOptions): Transport {
  return new KafkaTransport(resolveKafkaOptions(options));
}

class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private admin: RdKafka.IAdminClient | undefined;
  private readonly consumers = new Set<GroupConsumer>();
  /** Readers readToEndReused() keeps connected between calls, idle now. */
  private readonly idleReaders: PartitionReader[] = [];
  private readonly producers = new Set<Producer>();
  private closing: Promise<void> | undefined;
  private readonly monitor = new BrokerConnectionMonitor();

  constructor(private readonly options: ResolvedKafkaOptions) {}

  connectionStatus(): ConnectionStatus {
    return this.monitor.status();
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.assertOpen();
    specs.forEach(validateTopicSpec);
    if (specs.length === 0) return;
    const admin = this.adminClient();
    await Promise.all(specs.map((spec, index) => this.createTopic(admin, spec, index)));
    await this.awaitLeaders(admin, specs);
  }

  async partitionCounts(topics: string[]): Promise<ReadonlyMap<string, number>> {
    this.assertOpen();
    if (topics.length === 0) return new Map();
    const descriptions = await new Promise<RdKafka.TopicDescription[]>((resolve, reject) => {
      const timeout = this.options.connectTimeoutMs;
      this.adminClient().describeTopics(topics, { timeout }, (error, result) => (error ? reject(error) : resolve(result)));
    }).catch((error: unknown) => {
      if (isUnreachable(error)) throw kafkaUnavailable(this.options.brokers, `describe topics ${topics.join(', ')}`, error);
      throw new AgentrecError('KAFKA_UNAVAILABLE', `cannot describe topics ${topics.join(', ')}: ${errorMessage(error)}`, { cause: error });
    });
    const found = descriptions.filter((description) => !description.error && description.partitions.length > 0);
    return new Map(found.map((description) => [description.name, description.partitions.length]));
  }

  async deleteTopics(topics: string[]): Promise<void> {
    this.assertOpen();
    if (topics.length === 0) return;
    const admin = this.adminClient();
    await Promise.all(
      topics.map(async (topic) => {
        const error = await new Promise<RdKafka.LibrdKafkaError | undefined>((resolve) => {
          admin.deleteTopic(topic, this.options.connectTimeoutMs, (failure) => resolve(failure ?? undefined));
        });
        if (!error || librdkafkaCode(error) === LibrdkafkaCode.UNKNOWN_TOPIC_OR_PART) return;
        if (isUnreachable(error)) throw kafkaUnavailable(this.options.brokers, `delete topic '${topic}'`, error);
        throw new AgentrecError('KAFKA_UNAVAILABLE', `topic '${topic}' cannot be deleted: ${errorMessage(error)}`, { cause: error });
      }),
    );
  }

  createConsumer(options: { groupId: string; topics: string[]; clientId?: string }): GroupConsumer {
    this.assertOpen();
    if (typeof options.groupId !== 'string' || options.groupId.length === 0) {
      throw new ConfigError('/groupId', 'must be a non-empty string');
    }
    if (!Array.isArray(options.topics) || options.topics.length === 0) {
      throw new ConfigError('/topics', 'must name at least one topic');
    }
    const clientId = options.clientId ?? this.options.clientId;
    const consumer = new KafkaGroupConsumer(this.options, options.groupId, [...options.topics], clientId, this.monitor);
    this.consumers.add(consumer);
    return consumer;
  }

  createProducer(options: { clientId?: string } = {}): Producer {
    this.assertOpen();
    const producer = new KafkaProducer(this.options, options.clientId ?? this.options.clientId, this.monitor);
    this.producers.add(producer);
    return producer;
  }

  createTransactionalProducer(options: { clientId?: string; transactionalId: string; consumer: GroupConsumer }): TransactionalProducer {
    this.assertOpen();
    if (!(options.consumer instanceof KafkaGroupConsumer)) {
      throw new ConfigError('/consumer', 'must be a consumer this Kafka transport created');
    }
    if (typeof options.transactionalId !== 'string' || options.transactionalId.length === 0) {
      throw new ConfigError('/transactionalId', 'must be a non-empty string');
    }
    // A reader that sees uncommitted records would see outputs of transactions that abort.
    for (const [path, properties] of [
      ['/librdkafka', this.options.librdkafka],
      ['/consumer/librdkafka', this.options.consumer.librdkafka],
    ] as const) {
      const isolation = properties['isolation.level'];
      if (isolation !== undefined && isolation !== 'read_committed') {
        throw new ConfigError(`${path}/isolation.level`, `must be read_committed with exactly-once processing, got '${String(isolation)}'`);
      }
    }
    const clientId = options.clientId ?? this.options.clientId;
    const producer = new KafkaTransactionalProducer(
      this.options,
      clientId,
      options.transactionalId,
      options.consumer.nativeClient,
      this.monitor,
    );
    this.producers.add(producer);
    return producer;
  }

  readToEnd(partition: TopicPartition, fromOffset?: number): AsyncIterable<SourceRecord[]> {
    this.assertOpen();
    return readPartitionToEnd(this.options, partition, fromOffset);
  }

  async *readToEndReused(partition: TopicPartition, fromOffset?: number): AsyncGenerator<SourceRecord[]> {
    this.assertOpen();
    const reader =
      this.idleReaders.pop() ??
      (await openPartitionReader(this.options, `read ${partition.topic}[${partition.partition}]`, REUSED_READER_POLL_MS));
    let completed = false;
    try {
      yield* reader.read(partition, fromOffset);
      completed = true;
    } finally {
      // A read that failed or was left early may have left the consumer anywhere: not reused.
      if (completed && !this.closing) this.idleReaders.push(reader);
      else await reader.close();
    }
  }

  /** Stops the consumers and closes the producers this transport created. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.consumers].map((consumer) => consumer.stop()));
      await Promise.allSettled(this.idleReaders.splice(0).map((reader) => reader.close()));
      await Promise.allSettled([...this.producers].map((producer) => producer.close()));
      this.admin?.disconnect();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new AgentrecError('TASK_STATE_ILLEGAL', 'the Kafka transport is closed');
  }

  private adminClient(): RdKafka.IAdminClient {
    this.admin ??= createClient(this.options, () =>
      RdKafka.AdminClient.create(adminConfig(this.options), { 'event.error': () => undefined }),
    );
    return this.admin;
  }

  private async createTopic(admin: RdKafka.IAdminClient, spec: TopicSpec, index: number): Promise<void> {
    const request: RdKafka.NewTopic = {
      topic: spec.topic,
      num_partitions: spec.partitions,
      replication_factor: this.options.replicationFactor,
      config: { ...spec.config },
    };
    const error = await new Promise<RdKafka.LibrdKafkaError | undefined>((resolve) => {
      admin.createTopic(request, this.options.connectTimeoutMs, (failure) => resolve(failure ?? undefined));
    });
    if (!error || librdkafkaCode(error) === LibrdkafkaCode.TOPIC_ALREADY_EXISTS) return;
    if (isUnreachable(error)) throw kafkaUnavailable(this.options.brokers, `create topic '${spec.topic}'`, error);
    throw new ConfigError(`/topics/${index}`, `topic '${spec.topic}' cannot be created: ${errorMessage(error)}`);
  }

  /** Waits until metadata shows every partition with a leader, so a producer right after works. */
  private async awaitLeaders(admin: RdKafka.IAdminClient, specs: TopicSpec[]): Promise<void> {
    const deadline = Date.now() + this.options.connectTimeoutMs;
    const names = specs.map((spec) => spec.topic);
    let lastProblem: unknown;
    while (Date.now() < deadline) {
      try {
        const descriptions = await new Promise<RdKafka.TopicDescription[]>((resolve, reject) => {
          admin.describeTopics(names, { timeout: Math.max(1, deadline - Date.now()) }, (error, result) =>
            error ? reject(error) : resolve(result),
          );
        });
        const ready = descriptions.every(
          (description) => !description.error && description.partitions.length > 0 && description.partitions.every((p) => p.leader),
        );
        if (ready) return;
        lastProblem = descriptions.find((description) => description.error)?.error;
      } catch (error) {
        lastProblem = error;
      }
      await new Promise((resolve) => setTimeout(resolve, METADATA_RETRY_MS));
    }
    throw kafkaUnavailable(this.options.brokers, `see topics ${names.join(', ')} in metadata`, lastProblem);
  }
}

function validateTopicSpec(spec: TopicSpec, index: number): void {
  if (typeof spec.topic !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(spec.topic)) {
    throw new ConfigError(`/topics/${index}/topic`, 'must be 1-249 characters of [a-zA-Z0-9._-]');
  }
  if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
    throw new ConfigError(`/topics/${index}/partitions`, 'must be an integer >= 1');
  }
  for (const [name, value] of Object.entries(spec.config ?? {})) {
    if (typeof value !== 'string') throw new ConfigError(`/topics/${index}/config/${name}`, 'must be a string');
  }
}
