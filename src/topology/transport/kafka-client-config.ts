import type { RdKafka } from '@confluentinc/kafka-javascript';
import { ConfigError } from '../../errors.js';
import { STATS_INTERVAL_MS } from './kafka-connection-monitor.js';
import { redactSecrets, type LibrdkafkaProperties, type ResolvedKafkaOptions } from './kafka-options.js';

/**
 * A client's configuration in librdkafka's two parts. Topic-level properties must go in the
 * second: the binding always installs a default topic configuration, which silently replaces
 * topic-level properties set on the global one (auto.offset.reset would fall back to 'latest').
 */
export interface ClientConfig<Global, Topic> {
  global: Global;
  topic: Topic;
}

const TOPIC_LEVEL_PROPERTIES: ReadonlySet<string> = new Set([
  'request.required.acks',
  'acks',
  'request.timeout.ms',
  'message.timeout.ms',
  'delivery.timeout.ms',
  'queuing.strategy',
  'partitioner',
  'compression.codec',
  'compression.type',
  'compression.level',
  'auto.commit.interval.ms',
  'auto.offset.reset',
]);

/**
 * Every reader skips records of open and aborted transactions (librdkafka's default, stated so
 * exactly-once does not hang on a default); a passthrough may still choose read_uncommitted.
 */
const READ_COMMITTED = { 'isolation.level': 'read_committed' } as const;

/**
 * The librdkafka settings behind the transport's guarantees, in one place so the transport and
 * the raw-loop benchmark run with exactly the same tuning.
 */
export function groupConsumerConfig(
  options: ResolvedKafkaOptions,
  groupId: string,
  clientId: string,
  onRebalance: (error: RdKafka.LibrdKafkaError, assignment: RdKafka.TopicPartition[]) => void,
): ClientConfig<RdKafka.ConsumerGlobalConfig, RdKafka.ConsumerTopicConfig> {
  const tuning = options.consumer;
  const extra = split(tuning.librdkafka);
  return {
    global: {
      ...READ_COMMITTED,
      ...commonConfig(options, clientId),
      ...extra.global,
      // Statistics tell the connection monitor a broker is back, and the group's state (readiness).
      'statistics.interval.ms': STATS_INTERVAL_MS,
      ...(tuning.groupInstanceId === undefined ? {} : { 'group.instance.id': tuning.groupInstanceId }),
      'group.id': groupId,
      // The runtime commits only after a batch's outputs are acknowledged.
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'partition.assignment.strategy': tuning.assignmentStrategy,
      'session.timeout.ms': tuning.sessionTimeoutMs,
      'max.poll.interval.ms': tuning.maxPollIntervalMs,
      ...fetchConfig(options),
      rebalance_cb: onRebalance,
    },
    topic: { ...commonTopicConfig(options), ...extra.topic, 'auto.offset.reset': 'earliest' },
  };
}

/** A group-less reader (assign(), never commits); librdkafka still wants some group.id. */
export function readerConfig(
  options: ResolvedKafkaOptions,
  clientId: string,
  groupId: string,
): ClientConfig<RdKafka.ConsumerGlobalConfig, RdKafka.ConsumerTopicConfig> {
  const extra = split(options.consumer.librdkafka);
  return {
    global: {
      ...READ_COMMITTED,
      ...commonConfig(options, clientId),
      ...extra.global,
      'group.id': groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'enable.partition.eof': true,
      ...fetchConfig(options),
    },
    topic: { ...commonTopicConfig(options), ...extra.topic, 'auto.offset.reset': 'earliest' },
  };
}

/** Fetch tuning shared by group members and restore readers. */
function fetchConfig(
  options: ResolvedKafkaOptions,
): Pick<RdKafka.ConsumerGlobalConfig, 'fetch.wait.max.ms' | 'queued.min.messages' | 'fetch.queue.backoff.ms'> {
  return {
    'fetch.wait.max.ms': options.consumer.fetchWaitMaxMs,
    'queued.min.messages': options.consumer.queuedMinMessages,
    'fetch.queue.backoff.ms': options.consumer.fetchQueueBackoffMs,
  };
}

export function producerConfig(
  options: ResolvedKafkaOptions,
  clientId: string,
): ClientConfig<RdKafka.ProducerGlobalConfig, RdKafka.ProducerTopicConfig> {
  const tuning = options.producer;
  const extra = split(tuning.librdkafka);
  return {
    global: {
      ...commonConfig(options, clientId),
      ...extra.global,
      // Statistics tell the connection monitor a broker is back (kafka-connection-monitor.ts).
      'statistics.interval.ms': STATS_INTERVAL_MS,
      // Retries never duplicate or reorder records; implies acks=all.
      'enable.idempotence': true,
      'linger.ms': tuning.lingerMs,
      'batch.num.messages': tuning.batchNumMessages,
      'queue.buffering.max.messages': tuning.maxQueuedMessages,
      dr_cb: true,
    },
    topic: {
      ...commonTopicConfig(options),
      ...extra.topic,
      acks: -1,
      'compression.codec': tuning.compression,
      'message.timeout.ms': tuning.messageTimeoutMs,
      // Java's default partitioner (murmur2 of the key), so keyed topics agree with clients in
      // other languages; records without a key are spread randomly.
      partitioner: 'murmur2_random',
    },
  };
}

/**
 * producerConfig plus a transactional id. A delivery may wait at most as long as a transaction
 * may stay open: the broker aborts a transaction older than transaction.timeout.ms anyway.
 */
export function transactionalProducerConfig(
  options: ResolvedKafkaOptions,
  clientId: string,
  transactionalId: string,
): ClientConfig<RdKafka.ProducerGlobalConfig, RdKafka.ProducerTopicConfig> {
  const config = producerConfig(options, clientId);
  const { messageTimeoutMs, transactionTimeoutMs } = options.producer;
  return {
    global: {
      ...config.global,
      'transactional.id': transactionalId,
      'transaction.timeout.ms': Math.max(transactionTimeoutMs, messageTimeoutMs),
    },
    topic: { ...config.topic, 'message.timeout.ms': messageTimeoutMs || transactionTimeoutMs },
  };
}

/** The admin client connects like every other client (security.protocol, sasl.* included). */
export function adminConfig(options: ResolvedKafkaOptions): RdKafka.GlobalConfig {
  return commonConfig(options, `${options.clientId}-admin`);
}

function split(properties: LibrdkafkaProperties): { global: LibrdkafkaProperties; topic: LibrdkafkaProperties } {
  const global: LibrdkafkaProperties = {};
  const topic: LibrdkafkaProperties = {};
  for (const [name, value] of Object.entries(properties)) {
    (TOPIC_LEVEL_PROPERTIES.has(name) ? topic : global)[name] = value;
  }
  return { global, topic };
}

/** Settings every client gets; the transport-wide passthrough (security, client.id…) overrides them. */
function commonConfig(options: ResolvedKafkaOptions, clientId: string): RdKafka.GlobalConfig {
  return {
    'bootstrap.servers': options.brokers,
    'client.id': clientId,
    'socket.connection.setup.timeout.ms': options.connectTimeoutMs,
    // librdkafka logs to stderr by default; the transport reports failures through errors instead.
    log_level: 3,
    ...split(options.librdkafka).global,
  };
}

function commonTopicConfig(options: ResolvedKafkaOptions): LibrdkafkaProperties {
  return split(options.librdkafka).topic;
}

/**
 * Creates a librdkafka client. librdkafka refuses a bad setting with a message that may quote its
 * value, so the message is rethrown with credentials redacted.
 */
export function createClient<T>(options: ResolvedKafkaOptions, create: () => T): T {
  try {
    return create();
  } catch (error) {
    const secrets = { ...options.librdkafka, ...options.consumer.librdkafka, ...options.producer.librdkafka };
    const message = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
    throw new ConfigError('/librdkafka', `librdkafka refused the configuration: ${message}`);
  }
}
