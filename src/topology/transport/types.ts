/**
 * What the runtime needs from a log: partitioned topics, consumer groups, producers. Two
 * implementations: Kafka (kafka-transport.ts, @confluentinc/kafka-javascript) and the embedded
 * in-process log (embedded-transport.ts). A topology runs unchanged on either.
 */
export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface SourceRecord extends TopicPartition {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch (the record's create time). */
  timestamp: number;
}

export interface OutputRecord {
  topic: string;
  key: Buffer | null;
  /** null = tombstone (deletes the key in a compacted topic). */
  value: Buffer | null;
  /** Explicit partition; otherwise the transport partitions by key (murmur2, like Kafka's default). */
  partition?: number;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Topic-level configs, e.g. { 'cleanup.policy': 'compact' }. */
  config?: Record<string, string>;
}

export interface CommitOffset extends TopicPartition {
  /** The next offset to read (last processed + 1), as Kafka defines committed offsets. */
  offset: number;
}

export interface ConsumerHandlers {
  /** Called before any batch of the given partitions is delivered. */
  onAssigned(partitions: TopicPartition[]): Promise<void>;
  /**
   * Called before the partitions go away; the runtime flushes and commits inside it. `lost`: the
   * group already took them (the session expired, e.g. while the broker was away), so another
   * member may own them now and nothing may be committed for them.
   */
  onRevoked(partitions: TopicPartition[], info?: { lost: boolean }): Promise<void>;
  /** Batches of one partition are delivered one at a time, in offset order. */
  onBatch(partition: TopicPartition, records: SourceRecord[]): Promise<void>;
}

/** GroupConsumer.describe(): what the consumer holds per partition and what its poll loop does. */
export interface ConsumerDescription {
  state: string;
  poll: string;
  partitions: {
    topic: string;
    partition: number;
    buffered: number;
    batchInFlightForMs?: number;
    paused: boolean;
    backpressured: boolean;
  }[];
}

/** Where a consumer stands in its group, for readiness. */
export interface GroupStatus {
  /** Joined, with a settled assignment (possibly empty): no rebalance or coordinator search in progress. */
  stable: boolean;
  /** The transport's own words for the state, e.g. 'up/steady' or 'query-coord/init'. */
  state: string;
}

/** What a transport knows about its connection to the log, for readiness, alerts and metrics. */
export interface ConnectionStatus {
  /** Some broker answers at least one of the transport's clients. */
  reachable: boolean;
  /** When (Date.now()) `reachable` last changed. */
  since: number;
  /** The last connection error the clients reported while unreachable. */
  lastError?: string;
}

export interface GroupConsumer {
  start(handlers: ConsumerHandlers): Promise<void>;
  /** Where the member stands in its group (optional: the embedded log's group is always settled). */
  groupStatus?(): GroupStatus;
  /** For diagnosing a partition that stopped moving (optional: transports may not track it). */
  describe?(): ConsumerDescription;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /**
   * Resolves once the transport has taken the offsets (on Kafka: queued in librdkafka, not yet
   * stored by the group). Await each call before the next: the Kafka binding hands calls over
   * from worker threads, so overlapping ones may reach the group in either order.
   */
  commit(offsets: CommitOffset[]): Promise<void>;
  /** Committed offsets of the group (next offset to read), undefined where none. */
  committed(partitions: TopicPartition[]): Promise<(number | undefined)[]>;
  /** Stops fetching, revokes every owned partition through onRevoked, leaves the group. Idempotent. */
  stop(): Promise<void>;
}

export interface Producer {
  /** Resolves once every record is acknowledged by the log; rejects if any delivery failed. */
  send(records: OutputRecord[]): Promise<void>;
  /**
   * Lets acknowledgements that already arrived reach their send() promises before more work is
   * queued (optional: only transports that hand acknowledgements over in rationed steps need it).
   */
  catchUpAcknowledgements?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A producer whose records become visible to read_committed readers only when committed, together
 * with consumer-group offsets, in one Kafka transaction (exactly-once processing). A transaction
 * begins with the first send() after a commit or abort.
 */
export interface TransactionalProducer extends Producer {
  /**
   * Connects and registers the transactional id: fences any earlier producer with the same id and
   * aborts the transaction it left open. Call once, before the first send.
   */
  initTransactions(): Promise<void>;
  /** Whether records were sent since the last commit or abort. */
  readonly inTransaction: boolean;
  /**
   * Commits every record sent since the last commit and the group's input offsets atomically
   * (beginning a transaction when none is open, so offsets alone can be committed too).
   */
  commitTransaction(offsets: CommitOffset[]): Promise<void>;
  /** Aborts the open transaction, if any: read_committed readers never see its records. */
  abortTransaction(): Promise<void>;
}

export interface Transport {
  readonly kind: 'embedded' | 'kafka';
  /** Creates missing topics with their partition count and config; existing topics are left alone. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** The partition count of each named topic that exists (missing ones are left out). */
  partitionCounts(topics: string[]): Promise<ReadonlyMap<string, number>>;
  /**
   * Deletes topics and every record in them; names that do not exist are skipped. For tools and
   * benchmarks that create topics per run (a broker otherwise keeps every run's data).
   */
  deleteTopics(topics: string[]): Promise<void>;
  createConsumer(options: { groupId: string; topics: string[]; clientId?: string }): GroupConsumer;
  createProducer(options?: { clientId?: string }): Producer;
  /**
   * A transactional producer whose commits carry `consumer`'s offsets with its group metadata,
   * so a member the group has replaced cannot commit (optional: only Kafka has transactions).
   */
  createTransactionalProducer?(options: { clientId?: string; transactionalId: string; consumer: GroupConsumer }): TransactionalProducer;
  /**
   * Reads one partition from `fromOffset` (default: the beginning) up to the end it had when the
   * call started, in chunks; used to restore state from a changelog topic.
   */
  readToEnd(partition: TopicPartition, fromOffset?: number): AsyncIterable<SourceRecord[]>;
  /**
   * readToEnd through a reader kept connected between calls, for a caller that reads the same
   * partition again and again (model sync reads the model topic every few batches): connecting a
   * consumer per call was most of the cost of a sync on Kafka. Optional: readToEnd otherwise.
   */
  readToEndReused?(partition: TopicPartition, fromOffset?: number): AsyncIterable<SourceRecord[]>;
  /** Whether the log answers (optional: the in-process log always does). */
  connectionStatus?(): ConnectionStatus;
  close(): Promise<void>;
}
