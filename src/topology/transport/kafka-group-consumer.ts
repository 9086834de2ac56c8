import type { RdKafka } from '@confluentinc/kafka-javascript';
import { AgentrecError, errorMessage } from '../../errors.js';
import { createClient, groupConsumerConfig } from './kafka-client-config.js';
import type { BrokerConnectionMonitor, LibrdkafkaStats } from './kafka-connection-monitor.js';
import { LibrdkafkaCode, isFatalClientError, isUnreachable, kafkaUnavailable, librdkafkaCode } from './kafka-errors.js';
import { type NativeConsumer, connectClient, consumeBatch, createNativeConsumer, disconnectClient } from './kafka-native.js';
import type { ResolvedKafkaOptions } from './kafka-options.js';
import type {
  CommitOffset,
  ConsumerDescription,
  ConsumerHandlers,
  GroupConsumer,
  GroupStatus,
  SourceRecord,
  TopicPartition,
} from './types.js';

/** After a failed poll (broker gone for a moment), wait this long before polling again. */
const POLL_ERROR_BACKOFF_MS = 200;

type ConsumerState = 'idle' | 'running' | 'stopping' | 'stopped';

/** What the consumer knows about one partition it owns. */
interface OwnedPartition {
  readonly key: string;
  readonly partition: TopicPartition;
  /** Fetched records not yet handed to onBatch, in offset order, as polls returned them. */
  readonly buffered: RdKafka.Message[][];
  bufferedCount: number;
  /** The onBatch call in progress; the next batch of this partition waits for it. */
  inFlight: Promise<void> | undefined;
  /** When (performance.now()) the batch in flight was handed out. */
  inFlightSince: number;
  /** Fetching paused because this partition alone fills the buffer (its handler is slow). */
  backpressured: boolean;
  /** Revocation has begun: nothing more is delivered, buffered records are dropped. */
  revoking: boolean;
}

/**
 * A consumer-group member over librdkafka's KafkaConsumer (the callback API, not the KafkaJS
 * one): one poll loop fetches up to maxBatchSize records across partitions, splits them per
 * partition, and hands each partition's records to onBatch one batch at a time. Rebalances go
 * through rebalance_cb, whose assign/unassign librdkafka lets us delay: assigned partitions are
 * only fetched after onAssigned resolved, revoked ones only released after their in-flight
 * batch and onRevoked resolved.
 *
 * Flow control: polling waits while the flowing partitions buffer maxBufferedRecords, which
 * bounds memory without touching librdkafka; only a partition that alone fills the buffer is
 * paused in librdkafka (pausing discards its prefetched records, so it is kept for that case).
 */
export class KafkaGroupConsumer implements GroupConsumer {
  private readonly client: NativeConsumer;
  private readonly owned = new Map<string, OwnedPartition>();
  /** Paused by the caller (backpressure from the runtime); cleared when the partition is revoked. */
  private readonly pausedByCaller = new Set<string>();
  private state: ConsumerState = 'idle';
  private handlers: ConsumerHandlers | undefined;
  private connection: Promise<void> | undefined;
  /** Rebalance events are handled strictly one after another, in the order librdkafka raised them. */
  private rebalances: Promise<void> = Promise.resolve();
  private pollLoop: Promise<void> | undefined;
  /** Set while polling waits for buffered records to drain. */
  private wakePoller: (() => void) | undefined;
  /** What the poll loop does now and since when (performance.now()), for describe(). */
  private pollActivity = { doing: 'not started', since: 0 };
  private stopping: Promise<void> | undefined;
  /** An onRevoked failure during stop(), which stop() rejects with once the group is left. */
  private stopFailure: unknown;
  /** The group state from librdkafka's latest statistics; undefined until the first arrive. */
  private group: LibrdkafkaStats['cgrp'];

  constructor(
    private readonly options: ResolvedKafkaOptions,
    private readonly groupId: string,
    private readonly topics: string[],
    clientId: string,
    private readonly monitor?: BrokerConnectionMonitor,
  ) {
    const config = groupConsumerConfig(options, groupId, clientId, (error, assignment) => {
      void this.enqueueRebalance(() => this.rebalance(error, assignment));
    });
    this.client = createClient(options, () => createNativeConsumer(config, options.consumer.pollTimeoutMs));
    // Transient broker errors are retried by librdkafka (fatal ones surface from consume()): they
    // only tell the monitor about the connection.
    if (monitor) monitor.watch(this.client, (stats) => (this.group = stats.cgrp));
    else this.client.on('event.error', () => undefined);
  }

  /**
   * Stable once librdkafka's group state is 'up' (coordinator known) and its join state 'steady'
   * (no join or sync in progress); statistics arrive every second, so this lags by up to that.
   */
  groupStatus(): GroupStatus {
    if (this.state !== 'running') return { stable: false, state: this.state };
    if (!this.group) return { stable: false, state: 'joining' };
    const { state = '?', join_state: join = '?' } = this.group;
    return { stable: state === 'up' && join === 'steady', state: `${state}/${join}` };
  }

  /** The librdkafka consumer, whose group metadata a transactional producer commits offsets with. */
  get nativeClient(): RdKafka.KafkaConsumer {
    return this.client;
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    if (this.state !== 'idle') {
      throw new AgentrecError('TASK_STATE_ILLEGAL', `consumer of group '${this.groupId}' cannot start: it is ${this.state}`);
    }
    this.handlers = handlers;
    this.state = 'running';
    try {
      await this.connect();
    } catch (error) {
      this.state = 'stopped';
      throw error;
    }
    // stop() may have been called while connecting.
    if (this.state !== 'running') return;
    this.client.subscribe(this.topics);
    this.pollLoop = this.poll();
  }

  pause(partitions: TopicPartition[]): void {
    for (const partition of partitions) {
      const key = partitionKey(partition);
      if (this.pausedByCaller.has(key)) continue;
      this.pausedByCaller.add(key);
      const owned = this.owned.get(key);
      if (owned && !owned.backpressured) this.setFetching(owned, false);
    }
    // Its buffered records no longer count against the others' buffer.
    this.wake();
  }

  resume(partitions: TopicPartition[]): void {
    for (const partition of partitions) {
      const key = partitionKey(partition);
      if (!this.pausedByCaller.delete(key)) continue;
      const owned = this.owned.get(key);
      if (!owned) continue;
      if (!owned.backpressured) this.setFetching(owned, true);
      this.deliver(owned);
    }
  }

  async commit(offsets: CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    this.assertUsable('commit');
    await this.connect();
    const list = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
    await new Promise<void>((resolve, reject) => {
      this.client.commitCb(list, (error) => (error ? reject(error) : resolve()));
    }).catch((error: unknown) => {
      throw this.failure(`commit offsets for group '${this.groupId}'`, error);
    });
  }

  async committed(partitions: TopicPartition[]): Promise<(number | undefined)[]> {
    if (partitions.length === 0) return [];
    this.assertUsable('read committed offsets');
    await this.connect();
    const list = partitions.map(({ topic, partition }) => ({ topic, partition }));
    const answer = await new Promise<RdKafka.TopicPartitionOffset[]>((resolve, reject) => {
      this.client.committed(list, this.options.connectTimeoutMs, (error, offsets) => (error ? reject(error) : resolve(offsets)));
    }).catch((error: unknown) => {
      throw this.failure(`read committed offsets of group '${this.groupId}'`, error);
    });
    const byKey = new Map(answer.map((entry) => [partitionKey(entry), entry.offset]));
    return partitions.map((partition) => {
      const offset = byKey.get(partitionKey(partition));
      return offset === undefined || offset < 0 ? undefined : offset;
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private connect(): Promise<void> {
    this.connection ??= connectClient(
      this.client,
      this.options.brokers,
      this.options.connectTimeoutMs,
      `connect consumer group '${this.groupId}'`,
    );
    return this.connection;
  }

  private assertUsable(action: string): void {
    if (this.state === 'stopped') {
      throw new AgentrecError('TASK_STATE_ILLEGAL', `cannot ${action}: the consumer of group '${this.groupId}' is stopped`);
    }
  }

  /**
   * A consumer librdkafka gave up on. A static member replaced by a newer one with its
   * group.instance.id gets a bare ERR__FATAL from its next poll and nothing else, so that one
   * names the likely cause; any other fatal error reads as every consumer failure does.
   */
  private fatal(error: unknown): AgentrecError {
    if (librdkafkaCode(error) !== LibrdkafkaCode.FATAL) return this.failure(`consume for group '${this.groupId}'`, error);
    const why = 'fenced by a newer member with its group.instance.id (--instance-id)?';
    return new AgentrecError('KAFKA_UNAVAILABLE', `consumer for group '${this.groupId}' failed for good (${errorMessage(error)}): ${why}`, {
      cause: error,
    });
  }

  private failure(action: string, error: unknown): AgentrecError {
    if (isUnreachable(error)) return kafkaUnavailable(this.options.brokers, action, error);
    return new AgentrecError('KAFKA_UNAVAILABLE', `cannot ${action}: ${errorMessage(error)}`, { cause: error });
  }

  private async poll(): Promise<void> {
    const maxRecords = this.options.consumer.maxBatchSize;
    while (this.state === 'running') {
      if (this.bufferedInFlowingPartitions() >= this.options.consumer.maxBufferedRecords) {
        this.setPollActivity('waiting for buffered records to be handed out');
        await new Promise<void>((resolve) => (this.wakePoller = resolve));
        continue;
      }
      let messages: RdKafka.Message[];
      try {
        this.setPollActivity('consuming');
        messages = await consumeBatch(this.client, maxRecords);
      } catch (error) {
        if (this.state !== 'running') return;
        if (isFatalClientError(error)) {
          this.fail(this.fatal(error));
          return;
        }
        this.setPollActivity(`backing off after: ${errorMessage(error)}`);
        await new Promise((resolve) => setTimeout(resolve, POLL_ERROR_BACKOFF_MS));
        continue;
      }
      if (messages.length > 0) this.dispatch(messages);
    }
    this.setPollActivity('stopped');
  }

  describe(): ConsumerDescription {
    const now = performance.now();
    return {
      state: this.state,
      poll: `${this.pollActivity.doing} (for ${Math.round(now - this.pollActivity.since)} ms)`,
      partitions: [...this.owned.values()].map((owned) => ({
        ...owned.partition,
        buffered: owned.bufferedCount,
        ...(owned.inFlight ? { batchInFlightForMs: Math.round(now - owned.inFlightSince) } : {}),
        paused: this.pausedByCaller.has(owned.key),
        backpressured: owned.backpressured,
      })),
    };
  }

  private setPollActivity(doing: string): void {
    if (this.pollActivity.doing !== doing) this.pollActivity = { doing, since: performance.now() };
  }

  private wake(): void {
    const wakePoller = this.wakePoller;
    this.wakePoller = undefined;
    wakePoller?.();
  }

  /** Buffered records of partitions still fetching; paused ones must not stall the rest. */
  private bufferedInFlowingPartitions(): number {
    let total = 0;
    for (const owned of this.owned.values()) {
      if (!owned.backpressured && !this.pausedByCaller.has(owned.key)) total += owned.bufferedCount;
    }
    return total;
  }

  /** Splits one poll's records per partition; each partition keeps its own order. */
  private dispatch(messages: RdKafka.Message[]): void {
    let start = 0;
    while (start < messages.length) {
      const first = messages[start];
      let end = start + 1;
      // librdkafka returns runs of one partition; a run is one chunk, no per-record regrouping.
      while (end < messages.length && messages[end].partition === first.partition && messages[end].topic === first.topic) end++;
      const owned = this.owned.get(partitionKey(first));
      // Records of a partition being revoked were never handed out; its next owner reads them.
      if (owned && !owned.revoking) {
        const chunk = start === 0 && end === messages.length ? messages : messages.slice(start, end);
        owned.buffered.push(chunk);
        owned.bufferedCount += chunk.length;
        const hogging = owned.bufferedCount >= this.options.consumer.maxBufferedRecords && this.owned.size > 1;
        if (hogging && !owned.backpressured) {
          owned.backpressured = true;
          if (!this.pausedByCaller.has(owned.key)) this.setFetching(owned, false);
        }
        this.deliver(owned);
      }
      start = end;
    }
  }

  /** Starts the partition's next onBatch unless one is running, it is paused, or it is going away. */
  private deliver(owned: OwnedPartition): void {
    if (owned.inFlight || owned.revoking || owned.bufferedCount === 0 || this.state !== 'running') return;
    if (this.pausedByCaller.has(owned.key)) return;
    const records = this.takeBatch(owned);
    owned.inFlightSince = performance.now();
    owned.inFlight = this.handlers!.onBatch(owned.partition, records).then(
      () => {
        owned.inFlight = undefined;
        // Hysteresis: refetch once half drained, so the partition neither starves nor flaps.
        if (owned.backpressured && owned.bufferedCount <= this.options.consumer.maxBufferedRecords / 2) {
          owned.backpressured = false;
          if (!owned.revoking && !this.pausedByCaller.has(owned.key)) this.setFetching(owned, true);
        }
        this.deliver(owned);
      },
      (error: unknown) => {
        owned.inFlight = undefined;
        // Nothing after the failed batch may be handed out, or offsets would skip it.
        this.fail(error);
      },
    );
  }

  /** Buffered chunks joined up to maxBatchSize records, converted in place to SourceRecords. */
  private takeBatch(owned: OwnedPartition): SourceRecord[] {
    const limit = this.options.consumer.maxBatchSize;
    let batch = owned.buffered.shift()!;
    while (owned.buffered.length > 0 && batch.length + owned.buffered[0].length <= limit) {
      batch = batch.concat(owned.buffered.shift()!);
    }
    owned.bufferedCount -= batch.length;
    this.wake();
    for (const message of batch) {
      // librdkafka's messages already have the SourceRecord fields but for the optional ones.
      message.key ??= null;
      message.timestamp ??= 0;
    }
    return batch as SourceRecord[];
  }

  private setFetching(owned: OwnedPartition, fetching: boolean): void {
    if (!this.client.isConnected()) return;
    const partitions = [{ topic: owned.partition.topic, partition: owned.partition.partition }];
    if (fetching) this.client.resume(partitions);
    else this.client.pause(partitions);
  }

  private enqueueRebalance(step: () => Promise<void>): Promise<void> {
    this.rebalances = this.rebalances.then(step).catch((error: unknown) => this.fail(error));
    return this.rebalances;
  }

  private async rebalance(error: RdKafka.LibrdKafkaError, assignment: RdKafka.TopicPartition[]): Promise<void> {
    const partitions = assignment.map(({ topic, partition }) => ({ topic, partition }));
    const cooperative = this.client.rebalanceProtocol() === 'COOPERATIVE';
    if (librdkafkaCode(error) === LibrdkafkaCode.ASSIGN_PARTITIONS) {
      await this.assign(partitions, cooperative);
    } else {
      // REVOKE_PARTITIONS, or a rebalance error: either way these partitions are no longer ours.
      await this.revoke(partitions, this.client.assignmentLost());
      this.release(() => (cooperative ? this.client.incrementalUnassign(partitions) : this.client.unassign()));
    }
  }

  private async assign(partitions: TopicPartition[], cooperative: boolean): Promise<void> {
    let accepted = this.state === 'running';
    if (accepted && partitions.length > 0) {
      try {
        await this.handlers!.onAssigned(partitions);
      } catch (error) {
        accepted = false;
        this.fail(error);
      }
    }
    // librdkafka waits for this assign either way; partitions we did not accept are never
    // delivered and go back to the group when the consumer leaves.
    if (accepted && this.state === 'running') {
      for (const partition of partitions) {
        const key = partitionKey(partition);
        this.owned.set(key, {
          key,
          partition,
          buffered: [],
          bufferedCount: 0,
          inFlight: undefined,
          inFlightSince: 0,
          backpressured: false,
          revoking: false,
        });
      }
    }
    this.release(() => (cooperative ? this.client.incrementalAssign(partitions) : this.client.assign(partitions)));
    const paused = partitions.filter(
      (partition) => this.owned.has(partitionKey(partition)) && this.pausedByCaller.has(partitionKey(partition)),
    );
    if (paused.length > 0 && this.client.isConnected()) this.client.pause(paused);
  }

  /** Stops delivery, waits for in-flight batches, then lets the runtime flush and commit. */
  private async revoke(partitions: TopicPartition[], lost = false): Promise<void> {
    const revoked: OwnedPartition[] = [];
    for (const partition of partitions) {
      const owned = this.owned.get(partitionKey(partition));
      if (!owned) continue;
      owned.revoking = true;
      owned.buffered.length = 0;
      owned.bufferedCount = 0;
      revoked.push(owned);
    }
    if (revoked.length === 0) return;
    this.wake();
    await Promise.all(revoked.map((owned) => owned.inFlight ?? Promise.resolve()));
    try {
      await this.handlers!.onRevoked(
        revoked.map((owned) => owned.partition),
        { lost },
      );
    } catch (error) {
      if (this.state === 'running') this.fail(error);
      else this.stopFailure ??= error;
    } finally {
      for (const owned of revoked) {
        this.owned.delete(owned.key);
        this.pausedByCaller.delete(owned.key);
      }
    }
  }

  /** assign/unassign throw once the client is disconnected; by then there is nothing to release. */
  private release(apply: () => void): void {
    try {
      apply();
    } catch (error) {
      if (this.client.isConnected()) this.fail(this.failure(`complete a rebalance of group '${this.groupId}'`, error));
    }
  }

  /** A handler rejected or the client failed: stop consuming (skipping nothing), then report. */
  private fail(error: unknown): void {
    if (this.state !== 'running') return;
    void this.stop()
      .catch(() => undefined)
      .finally(() => this.options.onError(error));
  }

  private async shutDown(): Promise<void> {
    if (this.state === 'idle' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.wake();
    await this.pollLoop;
    // Queued behind any rebalance in progress, so every owned partition is revoked exactly once.
    await this.enqueueRebalance(() => this.revoke([...this.owned.values()].map((owned) => owned.partition)));
    const connected = await this.connection?.then(
      () => true,
      () => false,
    );
    if (connected) {
      // Leaving the group revokes our (now empty-handed) partitions through rebalance_cb,
      // which only unassigns them: onRevoked already ran above.
      this.client.unsubscribe();
      this.monitor?.forget(this.client);
      await disconnectClient(this.client);
      await this.rebalances;
    }
    this.state = 'stopped';
    if (this.stopFailure !== undefined) throw this.stopFailure;
  }
}

function partitionKey(partition: TopicPartition): string {
  return `${partition.topic}\u0000${partition.partition}`;
}
