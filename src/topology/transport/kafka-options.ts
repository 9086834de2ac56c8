import { integerIn } from '../../config.js';
import { ConfigError } from '../../errors.js';

/** librdkafka properties passed through as given, for what the typed options do not cover. */
export type LibrdkafkaProperties = Record<string, string | number | boolean>;

export interface KafkaConsumerTuning {
  /** Most records one poll returns; one poll of one partition is one batch. Default 5000. */
  maxBatchSize?: number;
  /** How long one poll waits for its first record before returning empty (ms). Default 100. */
  pollTimeoutMs?: number;
  /**
   * Records fetched but not yet handed to onBatch, at most. Polling waits while the flowing
   * partitions hold this many; a partition that alone holds this many (its handler is slow) has
   * its fetching paused so it cannot hold up the others. Default 2 × maxBatchSize.
   */
  maxBufferedRecords?: number;
  /** Default 'cooperative-sticky' (incremental rebalancing: unaffected partitions keep flowing). */
  assignmentStrategy?: 'cooperative-sticky' | 'range' | 'roundrobin';
  /**
   * group.instance.id: static membership. A member that restarts with the same id within the
   * session timeout gets its partitions back without a rebalance. Default: none (dynamic).
   */
  groupInstanceId?: string;
  /** Default 30000. */
  sessionTimeoutMs?: number;
  /** Default 300000; also bounds how long onRevoked may take during a rebalance. */
  maxPollIntervalMs?: number;
  /** How long the broker may hold a fetch waiting for data (ms). Default 100. */
  fetchWaitMaxMs?: number;
  /** Records librdkafka prefetches per partition. Default 20000. */
  queuedMinMessages?: number;
  /**
   * How long librdkafka waits before refilling a partition's prefetch queue once it was full
   * (ms). librdkafka's default of 1000 stalls a fast consumer for a second at a time. Default 10.
   */
  fetchQueueBackoffMs?: number;
  librdkafka?: LibrdkafkaProperties;
}

export interface KafkaProducerTuning {
  /** Default 5. */
  lingerMs?: number;
  /** Default 10000. */
  batchNumMessages?: number;
  /** Default 'none'. */
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /**
   * How long a record may wait for delivery before it fails (ms); 0 = forever. Default 0: a
   * broker outage is waited out (outputs, changelogs and offsets go out once it is back) instead
   * of failing the commit that waits for them.
   */
  messageTimeoutMs?: number;
  /** Records librdkafka may hold unacknowledged before send() waits for room. Default 200000. */
  maxQueuedMessages?: number;
  /**
   * Transactional producers only (exactly-once): how long a transaction may stay open before the
   * broker aborts it (ms), and how long a delivery may wait when messageTimeoutMs is 0 — an
   * outage longer than this fails the run. Default 60000 (librdkafka's).
   */
  transactionTimeoutMs?: number;
  librdkafka?: LibrdkafkaProperties;
}

export interface KafkaTransportOptions {
  /** Comma-separated host:port list. */
  brokers: string;
  /** Default 'agentrec'. */
  clientId?: string;
  /** Bound on connecting and on admin/metadata requests before KAFKA_UNAVAILABLE (ms). Default 10000. */
  connectTimeoutMs?: number;
  /** Replication factor of topics ensureTopics creates; -1 = the broker's default. Default -1. */
  replicationFactor?: number;
  /**
   * librdkafka properties for every client the transport creates (consumers, producers, restore
   * readers, the admin client): what security.protocol, sasl.* or ssl.* must reach all of them.
   * The per-client `librdkafka` of consumer and producer override these.
   */
  librdkafka?: LibrdkafkaProperties;
  consumer?: KafkaConsumerTuning;
  producer?: KafkaProducerTuning;
  /**
   * Where a consumer reports an error it cannot hand back through a promise (a handler that
   * rejected, a fatal client error). The consumer has stopped when this is called. Default:
   * rethrown as an uncaught exception, so a broken pipeline never goes unnoticed.
   */
  onError?: (error: unknown) => void;
}

export interface ResolvedKafkaOptions {
  brokers: string;
  clientId: string;
  connectTimeoutMs: number;
  replicationFactor: number;
  librdkafka: LibrdkafkaProperties;
  consumer: Required<Omit<KafkaConsumerTuning, 'librdkafka' | 'groupInstanceId'>> & {
    groupInstanceId: string | undefined;
    librdkafka: LibrdkafkaProperties;
  };
  producer: Required<Omit<KafkaProducerTuning, 'librdkafka'>> & { librdkafka: LibrdkafkaProperties };
  onError: (error: unknown) => void;
}

/** Properties that carry the transport's guarantees; a passthrough may not override them. */
const RESERVED_CONSUMER_PROPERTIES = [
  'bootstrap.servers',
  'group.id',
  'enable.auto.commit',
  'enable.auto.offset.store',
  'rebalance_cb',
  'offset_commit_cb',
  // The connection monitor and readiness read these statistics (kafka-connection-monitor.ts).
  'statistics.interval.ms',
];
const RESERVED_PRODUCER_PROPERTIES = [
  'bootstrap.servers',
  'transactional.id',
  'enable.idempotence',
  'acks',
  'dr_cb',
  'dr_msg_cb',
  'partitioner',
  'statistics.interval.ms',
];
const RESERVED_COMMON_PROPERTIES = [...new Set([...RESERVED_CONSUMER_PROPERTIES, ...RESERVED_PRODUCER_PROPERTIES])];

/** Keys whose values are credentials: never shown in an error or a description. */
const SECRET_KEY = /password|secret|sasl/i;

/** `text` with the value of every credential among `properties` replaced by [redacted]. */
export function redactSecrets(text: string, properties: LibrdkafkaProperties): string {
  let redacted = text;
  for (const [name, value] of Object.entries(properties)) {
    const shown = String(value);
    if (SECRET_KEY.test(name) && shown.length > 0) redacted = redacted.split(shown).join('[redacted]');
  }
  return redacted;
}

/** `properties` as a description may show them: credentials' values replaced by [redacted]. */
export function describeProperties(properties: LibrdkafkaProperties): LibrdkafkaProperties {
  return Object.fromEntries(Object.entries(properties).map(([name, value]) => [name, SECRET_KEY.test(name) ? '[redacted]' : value]));
}

export function resolveKafkaOptions(options: KafkaTransportOptions): ResolvedKafkaOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('', 'must be an object');
  if (typeof options.brokers !== 'string' || !/^[^\s,]+:\d+(,[^\s,]+:\d+)*$/.test(options.brokers)) {
    throw new ConfigError('/brokers', 'must be a comma-separated host:port list');
  }
  const clientId = options.clientId ?? 'agentrec';
  if (typeof clientId !== 'string' || clientId.length === 0) throw new ConfigError('/clientId', 'must be a non-empty string');
  const consumer = options.consumer ?? {};
  const producer = options.producer ?? {};
  const maxBatchSize = integerIn(consumer.maxBatchSize, '/consumer/maxBatchSize', { fallback: 5000, min: 1, max: 1_000_000 });
  const strategy = consumer.assignmentStrategy ?? 'cooperative-sticky';
  if (!['cooperative-sticky', 'range', 'roundrobin'].includes(strategy)) {
    throw new ConfigError('/consumer/assignmentStrategy', "must be 'cooperative-sticky', 'range' or 'roundrobin'");
  }
  const compression = producer.compression ?? 'none';
  if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(compression)) {
    throw new ConfigError('/producer/compression', "must be 'none', 'gzip', 'snappy', 'lz4' or 'zstd'");
  }
  const replicationFactor = integerIn(options.replicationFactor, '/replicationFactor', { fallback: -1, min: -1, max: 1000 });
  if (replicationFactor === 0) throw new ConfigError('/replicationFactor', 'must be -1 (broker default) or >= 1');
  const groupInstanceId = consumer.groupInstanceId;
  if (groupInstanceId !== undefined && (typeof groupInstanceId !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(groupInstanceId))) {
    throw new ConfigError('/consumer/groupInstanceId', 'must be 1-249 characters of [a-zA-Z0-9._-]');
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new ConfigError('/onError', 'must be a function');
  }
  return {
    brokers: options.brokers,
    clientId,
    connectTimeoutMs: integerIn(options.connectTimeoutMs, '/connectTimeoutMs', { fallback: 10_000, min: 100, max: 600_000 }),
    replicationFactor,
    librdkafka: passthrough(options.librdkafka, RESERVED_COMMON_PROPERTIES, '/librdkafka'),
    consumer: {
      maxBatchSize,
      pollTimeoutMs: integerIn(consumer.pollTimeoutMs, '/consumer/pollTimeoutMs', { fallback: 100, min: 1, max: 60_000 }),
      maxBufferedRecords: integerIn(consumer.maxBufferedRecords, '/consumer/maxBufferedRecords', {
        fallback: 2 * maxBatchSize,
        min: 1,
        max: 100_000_000,
      }),
      assignmentStrategy: strategy,
      groupInstanceId,
      sessionTimeoutMs: integerIn(consumer.sessionTimeoutMs, '/consumer/sessionTimeoutMs', { fallback: 30_000, min: 1000, max: 3_600_000 }),
      maxPollIntervalMs: integerIn(consumer.maxPollIntervalMs, '/consumer/maxPollIntervalMs', {
        fallback: 300_000,
        min: 1000,
        max: 86_400_000,
      }),
      fetchWaitMaxMs: integerIn(consumer.fetchWaitMaxMs, '/consumer/fetchWaitMaxMs', { fallback: 100, min: 0, max: 300_000 }),
      queuedMinMessages: integerIn(consumer.queuedMinMessages, '/consumer/queuedMinMessages', {
        fallback: 20_000,
        min: 1,
        max: 10_000_000,
      }),
      fetchQueueBackoffMs: integerIn(consumer.fetchQueueBackoffMs, '/consumer/fetchQueueBackoffMs', { fallback: 10, min: 0, max: 300_000 }),
      librdkafka: passthrough(consumer.librdkafka, RESERVED_CONSUMER_PROPERTIES, '/consumer/librdkafka'),
    },
    producer: {
      lingerMs: integerIn(producer.lingerMs, '/producer/lingerMs', { fallback: 5, min: 0, max: 900_000 }),
      batchNumMessages: integerIn(producer.batchNumMessages, '/producer/batchNumMessages', { fallback: 10_000, min: 1, max: 1_000_000 }),
      compression,
      messageTimeoutMs: integerIn(producer.messageTimeoutMs, '/producer/messageTimeoutMs', {
        fallback: 0,
        min: 0,
        max: 2_147_483_647,
      }),
      maxQueuedMessages: integerIn(producer.maxQueuedMessages, '/producer/maxQueuedMessages', {
        fallback: 200_000,
        min: 1,
        max: 2_147_483_647,
      }),
      transactionTimeoutMs: integerIn(producer.transactionTimeoutMs, '/producer/transactionTimeoutMs', {
        fallback: 60_000,
        min: 1000,
        max: 2_147_483_647,
      }),
      librdkafka: passthrough(producer.librdkafka, RESERVED_PRODUCER_PROPERTIES, '/producer/librdkafka'),
    },
    onError:
      options.onError ??
      ((error: unknown) => {
        // Rethrown outside any promise chain so it surfaces as an uncaught exception.
        setImmediate(() => {
          throw error;
        });
      }),
  };
}

function passthrough(properties: LibrdkafkaProperties | undefined, reserved: string[], path: string): LibrdkafkaProperties {
  if (properties === undefined) return {};
  if (typeof properties !== 'object' || properties === null) throw new ConfigError(path, 'must be an object');
  for (const [name, value] of Object.entries(properties)) {
    if (reserved.includes(name)) {
      throw new ConfigError(`${path}/${name}`, 'is set by the transport and cannot be overridden');
    }
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ConfigError(`${path}/${name}`, 'must be a string, number or boolean');
    }
  }
  return { ...properties };
}
