import { randomUUID } from 'node:crypto';
import { AgentrecError, ConfigError, errorCode, errorMessage } from '../../errors.js';
import { RuntimeMetrics } from '../../metrics.js';
import type { KeyValueStore } from '../../state/store.js';
import { changelogTopic } from '../topic-names.js';
import type { Topology } from '../topology.js';
import type {
  ConsumerDescription,
  GroupConsumer,
  Producer,
  SourceRecord,
  TopicPartition,
  TopicSpec,
  TransactionalProducer,
  Transport,
} from '../transport/types.js';
import { commitTransaction } from './exactly-once-commit.js';
import type { Serde } from '../types.js';
import { defaultDeadLetterSerde, type DeadLetterRecord } from './dead-letter.js';
import { DeadLetterLog } from './dead-letter-log.js';
import { ConnectionWatch } from './connection-watch.js';
import { startMetricsServer } from './metrics-server.js';
import { PartitionTask } from './partition-task.js';
import type { PartitionTaskDescription } from './task-state.js';
import { resolveRunnerConfig, type RunnerConfig } from './runner-config.js';
import { openTaskStore } from './open-task-store.js';
import { readiness, type Readiness } from './readiness.js';
import { TaskState } from './task-state.js';

/** Between two attempts to read committed offsets while the broker is away. */
const COMMITTED_RETRY_MS = 1000;

/** TopologyRunner.describe(). */
export interface RunnerDescription {
  topology: string;
  tasks: PartitionTaskDescription[];
  consumer: ConsumerDescription | undefined;
}

export interface RunnerOptions extends Partial<RunnerConfig> {
  transport: Transport;
  /** Clock for steps (TTL, time buckets); the test driver supplies a manual one. */
  now?: () => number;
  log?: (message: string) => void;
  deadLetterSerde?: Serde<DeadLetterRecord>;
  /** Overrides how stores are opened (tests inject failures). */
  openStore?: (topology: Topology, storeName: string, partition: number, config: RunnerConfig) => Promise<KeyValueStore>;
}

/**
 * Executes a topology on a transport: joins the consumer group, runs one PartitionTask per
 * assigned partition, commits on an interval, pauses partitions whose outputs pile up, and on
 * revoke or stop drains, flushes and commits before letting go. Scale out = another runner with
 * the same group id.
 */
export class TopologyRunner {
  readonly metrics: RuntimeMetrics;
  readonly config: RunnerConfig;
  private readonly tasks = new Map<number, PartitionTask>();
  private consumer?: GroupConsumer;
  private producer?: Producer;
  /** exactly-once: `producer` itself; the tasks' outputs and changelogs go through its transactions. */
  private transactional?: TransactionalProducer;
  /** exactly-once: a plain producer for what steps publish outside commits (model sync). */
  private logProducer?: Producer;
  private commitTimer?: NodeJS.Timeout;
  /** The commit running now, if any: commits run one after another (see serialCommit). */
  private commitQueue: Promise<void> = Promise.resolve();
  /** A commitAll queued behind the running commit and not started yet. */
  private queuedCommitAll?: Promise<void>;
  private metricsServer?: { port: number; host: string; close(): Promise<void> };
  /** Set once the consumer joined (start() resolved); readiness needs it. */
  private started = false;
  private connectionWatch?: ConnectionWatch;
  private stopping?: Promise<void>;
  private failed?: unknown;
  private deadLetterSerde?: Serde<DeadLetterRecord>;
  /** One for all tasks, so the rate limit holds per step however many partitions this instance owns. */
  private deadLetterLog?: DeadLetterLog;
  private readonly doneDeferred: { promise: Promise<void>; resolve(): void; reject(e: unknown): void };
  private readonly log: (message: string) => void;
  private readonly now: () => number;

  constructor(
    readonly topology: Topology,
    private readonly options: RunnerOptions,
  ) {
    this.config = resolveRunnerConfig(topology.name, options);
    this.metrics = new RuntimeMetrics({ defaultMetrics: this.config.processMetrics });
    this.metrics.stateMemorySource = () =>
      [...this.tasks.values()].flatMap((task) =>
        task.storeMemory().map(({ store, memory }) => ({ topology: topology.name, store, partition: task.partition, memory })),
      );
    this.log = options.log ?? ((m) => console.error(`[agentrec ${topology.name}] ${m}`));
    this.now = options.now ?? Date.now;
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined);
    this.doneDeferred = { promise, resolve, reject };
  }

  /** Resolves when the runner stopped cleanly; rejects with the error that stopped it. */
  get done(): Promise<void> {
    return this.doneDeferred.promise;
  }

  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  /** The address the metrics server listens on, once started. */
  get metricsHost(): string | undefined {
    return this.metricsServer?.host;
  }

  /** Partitions this instance currently owns. */
  get assignedPartitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  /** Topics the topology reads, writes or keeps state in, with partition counts and configs. */
  topicSpecs(): TopicSpec[] {
    const t = this.topology;
    const specs: TopicSpec[] = [
      { topic: t.source.topic, partitions: t.source.partitions },
      { topic: t.sink.topic, partitions: t.sink.partitions },
      { topic: t.deadLetterTopic, partitions: 1 },
      ...t.stores
        .filter((s) => s.changelog !== false)
        .map((s) => ({
          topic: changelogTopic(this.config.groupId, s.name),
          partitions: t.source.partitions,
          config: { 'cleanup.policy': 'compact' },
        })),
    ];
    for (const step of t.steps) {
      for (const extra of step.topics ?? []) specs.push({ topic: extra.topic, partitions: extra.partitions ?? 1, config: extra.config });
    }
    return specs;
  }

  /** Creates the topics, joins the group and starts committing; a failure here also fails the runner. */
  async start(): Promise<void> {
    try {
      await this.startNow();
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  private async startNow(): Promise<void> {
    const { transport } = this.options;
    // Before creating anything: changelogs created for a wrong count would outlive the fix.
    await this.checkPartitionCounts();
    await transport.ensureTopics(this.topicSpecs());
    if (this.config.metricsPort !== undefined)
      this.metricsServer = await startMetricsServer(this.metrics.registry, this.config.metricsPort, this.config.metricsHost, () =>
        this.readiness(),
      );
    if (transport.connectionStatus) {
      const status = transport.connectionStatus.bind(transport);
      this.connectionWatch = new ConnectionWatch({
        status,
        describeLog: 'Kafka',
        topology: this.topology.name,
        metrics: this.metrics,
        log: this.log,
      });
      this.connectionWatch.start();
    }
    this.consumer = transport.createConsumer({
      groupId: this.config.groupId,
      topics: [this.topology.source.topic],
      clientId: this.config.groupId,
    });
    if (this.config.processingGuarantee === 'exactly-once') {
      await this.startTransactions(this.consumer);
    } else {
      this.producer = transport.createProducer({ clientId: `${this.config.groupId}-producer` });
    }
    await this.consumer.start({
      onAssigned: (tps) => this.guard(() => this.onAssigned(tps)),
      // Runs after a failure too: stopping revokes every partition, and what can be committed is.
      onRevoked: (tps, info) => this.guard(() => this.onRevoked(tps, info?.lost ?? false), { afterFailure: true }),
      onBatch: (tp, records) => this.guard(() => this.onBatch(tp, records)),
    });
    if (this.stopping) return;
    this.started = true;
    this.commitTimer = setInterval(() => void this.guard(() => this.commitAll()), this.config.commitIntervalMs);
  }

  /**
   * exactly-once: the instance's one transactional producer, registered before the group is
   * joined, so the transaction a crashed incarnation with the same id left open is aborted before
   * any changelog is restored.
   */
  private async startTransactions(consumer: GroupConsumer): Promise<void> {
    const { transport } = this.options;
    if (!transport.createTransactionalProducer) {
      throw new ConfigError('/runtime/processingGuarantee', `exactly-once needs Kafka transactions; the ${transport.kind} log has none`);
    }
    const transactionalId = this.config.transactionalId ?? `${this.config.groupId}-${randomUUID()}`;
    this.transactional = transport.createTransactionalProducer({
      clientId: `${this.config.groupId}-producer`,
      transactionalId,
      consumer,
    });
    this.producer = this.transactional;
    this.logProducer = transport.createProducer({ clientId: `${this.config.groupId}-log-producer` });
    await this.transactional.initTransactions();
    this.log(`exactly-once: transactional id '${transactionalId}'`);
  }

  /**
   * Topics that existed before keep their partition count, which may not be the topology's: a
   * source with more partitions than declared has tasks whose changelog partition does not exist,
   * one with fewer leaves declared partitions without input. Either is reported here, naming both
   * counts and what to change, instead of failing later on a partition that is not there.
   */
  private async checkPartitionCounts(): Promise<void> {
    const { source, stores } = this.topology;
    const { groupId } = this.config;
    const changelogs = stores.filter((store) => store.changelog !== false).map((store) => changelogTopic(groupId, store.name));
    const counts = await this.options.transport.partitionCounts([source.topic, ...changelogs]);
    const actual = counts.get(source.topic);
    if (actual !== undefined && actual !== source.partitions) {
      throw new AgentrecError(
        'TOPOLOGY_INVALID',
        `source '${source.name}' declares ${source.partitions} partitions but topic '${source.topic}' has ${actual}: ` +
          `declare ${actual} (the partitions given to from('${source.name}', …), ` +
          `in the bundled topologies --set partitions=${actual}), or read a topic with ${source.partitions}`,
      );
    }
    for (const topic of changelogs) {
      const logged = counts.get(topic);
      if (logged === undefined || logged === source.partitions) continue;
      throw new AgentrecError(
        'TOPOLOGY_INVALID',
        `changelog topic '${topic}' has ${logged} partitions but source '${source.name}' declares ${source.partitions}: ` +
          `the state of group '${groupId}' was kept for ${logged} partitions; declare ${logged} again, ` +
          `or start over with empty state under a new group id (--group)`,
      );
    }
  }

  /**
   * A snapshot of where every assigned partition stands — the task's offsets and current
   * operation, the consumer's buffered records and batch in flight — for diagnosing a partition
   * that stopped moving (`agentrec run` prints it on SIGUSR2).
   */
  describe(): RunnerDescription {
    return {
      topology: this.topology.name,
      tasks: [...this.tasks.values()].map((task) => task.describe()),
      consumer: this.consumer?.describe?.(),
    };
  }

  /**
   * What GET /readyz answers: ready while the runner runs, a broker answers, the group is stable
   * and no assigned partition is still restoring; each check says why (readiness.ts).
   */
  readiness(): Readiness {
    const state = this.failed !== undefined ? 'failed' : this.stopping ? 'stopping' : this.started ? 'running' : 'starting';
    const restoring = [...this.tasks.values()]
      .filter((task) => task.state === TaskState.Created || task.state === TaskState.Restoring)
      .map((task) => task.partition);
    const result = readiness({
      runner: state,
      connection: this.options.transport.connectionStatus?.(),
      group: this.consumer?.groupStatus?.(),
      assignedPartitions: this.assignedPartitions,
      restoringPartitions: restoring.sort((a, b) => a - b),
      now: Date.now(),
    });
    this.metrics.ready.set({ topology: this.topology.name }, result.ready ? 1 : 0);
    return result;
  }

  /** How long the broker has been unreachable (ms), or undefined while it answers (the progress line shows it). */
  get brokerOutageMs(): number | undefined {
    return this.connectionWatch?.outageMs;
  }

  /** Drains in-flight work, flushes state, commits, leaves the group. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.commitTimer);
      this.connectionWatch?.stop();
      try {
        await this.consumer?.stop();
      } finally {
        for (const task of this.tasks.values()) await task.close();
        this.tasks.clear();
        await this.producer?.close();
        await this.logProducer?.close();
        await this.metricsServer?.close();
      }
      if (this.failed === undefined) this.doneDeferred.resolve();
    })();
    return this.stopping;
  }

  /** Commits every task now (tests and the test driver use it to reach a known point). */
  commitAll(): Promise<void> {
    // A call while another commitAll waits for its turn shares that one: it has not started, so
    // it commits everything processed before this call too. Without sharing, commits slower
    // than the interval would queue up without bound.
    this.queuedCommitAll ??= this.serialCommit(() => {
      this.queuedCommitAll = undefined;
      return this.commitAllNow();
    });
    return this.queuedCommitAll;
  }

  /**
   * Runs commits one at a time, in call order. Two overlapping commitAll calls (the interval
   * firing while a slow commit still waits for acknowledgements, or a full cache asking for one)
   * could otherwise hand their offsets to the consumer in the wrong order: the older offsets
   * landing last moved a partition's committed offset back, and the task, already counting the
   * newer one as committed, never sent it again (seen in CI: a finished partition left thousands
   * of records behind its end).
   */
  private serialCommit(commit: () => Promise<void>): Promise<void> {
    const run = this.commitQueue.then(commit);
    this.commitQueue = run.catch(() => undefined);
    return run;
  }

  private async commitAllNow(): Promise<void> {
    if (this.transactional) return this.commitTransactionNow();
    const started = performance.now();
    const offsets: { topic: string; partition: number; offset: number }[] = [];
    const advanced = new Set<number>();
    const durable: Promise<void>[] = [];
    // Each task takes its snapshot and processes on; their acknowledgements are awaited together.
    for (const task of this.tasks.values()) {
      const started = await task.startCommit();
      // Awaited below; handled now in case a later task's start throws first.
      started.durable.catch(() => undefined);
      durable.push(started.durable);
      // Every task's offset goes out, advanced or not: the Kafka binding reports a commit done
      // once librdkafka has queued it, so one the group then failed to store would otherwise
      // never be sent again, leaving the group behind for good. Repeating an offset costs one
      // small request per interval.
      if (started.offset === undefined) continue;
      offsets.push({ topic: this.topology.source.topic, partition: task.partition, offset: started.offset });
      if (started.offset - 1 > task.committedThrough) advanced.add(task.partition);
    }
    await Promise.all(durable);
    if (offsets.length === 0) return;
    try {
      await this.consumer!.commit(offsets);
    } catch (err) {
      // Not fatal: state already holds its applied offset, so whoever resumes from the older
      // commit skips what was applied. The offsets stay unconfirmed and go out with the next commit.
      this.log(`offset commit failed, will retry: ${errorMessage(err)}`);
      return;
    }
    for (const o of offsets) this.tasks.get(o.partition)?.confirmCommitted(o.offset);
    for (const o of offsets)
      if (advanced.has(o.partition)) this.metrics.commits.inc({ topology: this.topology.name, partition: String(o.partition) });
    if (advanced.size > 0) this.metrics.commitDuration.observe({ topology: this.topology.name }, (performance.now() - started) / 1000);
  }

  /** One exactly-once commit of every task (exactly-once-commit.ts); any failure is fatal. */
  private async commitTransactionNow(): Promise<void> {
    const started = performance.now();
    const tasks = [...this.tasks.values()];
    const before = new Map(tasks.map((task) => [task.partition, task.committedThrough]));
    const offsets = await commitTransaction(tasks, this.transactional!, this.topology.source.topic);
    let advanced = false;
    for (const [partition, offset] of offsets) {
      this.tasks.get(partition)?.confirmCommitted(offset);
      if (offset - 1 <= (before.get(partition) ?? -1)) continue;
      advanced = true;
      this.metrics.commits.inc({ topology: this.topology.name, partition: String(partition) });
    }
    if (advanced) this.metrics.commitDuration.observe({ topology: this.topology.name }, (performance.now() - started) / 1000);
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    const committed = await this.committedOffsets(partitions);
    for (const [i, tp] of partitions.entries()) {
      const task = new PartitionTask({
        topology: this.topology,
        groupId: this.config.groupId,
        partition: tp.partition,
        producer: this.producer!,
        logProducer: this.logProducer,
        transport: this.options.transport,
        metrics: this.metrics,
        deadLetterSerde: (this.deadLetterSerde ??= this.options.deadLetterSerde ?? defaultDeadLetterSerde()),
        maxMessageBytes: this.config.maxMessageBytes,
        openStore: (store, partition) => (this.options.openStore ?? openTaskStore)(this.topology, store, partition, this.config),
        now: this.now,
        log: this.log,
        deadLetterLog: (this.deadLetterLog ??= new DeadLetterLog(this.log)),
      });
      // exactly-once: a task joins between commits, so none can send into a transaction whose
      // commit did not include its offset.
      if (this.transactional) await this.serialCommit(async () => void this.tasks.set(tp.partition, task));
      else this.tasks.set(tp.partition, task);
      await task.init(committed[i]);
    }
    this.metrics.assignedPartitions.set({ topology: this.topology.name }, this.tasks.size);
    this.log(`assigned partitions [${partitions.map((p) => p.partition).join(', ')}]`);
  }

  /**
   * The group's committed offsets, asked again while the broker does not answer: right after an
   * outage the group coordinator may still be loading, and an assignment must not fail on that.
   */
  private async committedOffsets(partitions: TopicPartition[]): Promise<(number | undefined)[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.consumer!.committed(partitions);
      } catch (error) {
        if (errorCode(error) !== 'KAFKA_UNAVAILABLE' || this.stopping) throw error;
        if (attempt === 1) this.log(`reading committed offsets failed, retrying until the broker answers: ${errorMessage(error)}`);
        await new Promise((resolve) => setTimeout(resolve, COMMITTED_RETRY_MS));
      }
    }
  }

  /**
   * Lost partitions (the session expired while the broker was away) may be another member's
   * already, so nothing is committed for them: their tasks close as they are, and whoever owns
   * them next resumes from the last commit (local state and changelog both carry its offset).
   */
  private async onRevoked(partitions: TopicPartition[], lost: boolean): Promise<void> {
    if (this.transactional) return this.onRevokedExactlyOnce(partitions, lost);
    if (lost) {
      // In the commit queue, so a commitAll that holds these tasks finishes before they close.
      await this.serialCommit(async () => {
        for (const tp of partitions) {
          const task = this.tasks.get(tp.partition);
          if (!task) continue;
          this.tasks.delete(task.partition);
          await task.close();
        }
      });
      this.metrics.assignedPartitions.set({ topology: this.topology.name }, this.tasks.size);
      this.log(`lost partitions [${partitions.map((p) => p.partition).join(', ')}]: closed without committing`);
      return;
    }
    const revoked: PartitionTask[] = [];
    // In the commit queue too: a commitAll still holding older offsets of these partitions
    // must not commit them after this.
    await this.serialCommit(async () => {
      const offsets: { topic: string; partition: number; offset: number }[] = [];
      for (const tp of partitions) {
        const task = this.tasks.get(tp.partition);
        if (!task) continue;
        revoked.push(task);
        const offset = this.failed === undefined ? await task.commit() : await this.commitIfHealthy(task);
        if (offset !== undefined) offsets.push({ ...tp, offset });
      }
      if (offsets.length === 0) return;
      // Not fatal, as in commitAllNow: state carries its applied offset, so whoever resumes from
      // the older commit skips what was applied.
      await this.consumer!.commit(offsets).catch((error: unknown) => {
        if (this.failed === undefined) this.log(`offset commit on revoke failed: ${errorMessage(error)}`);
      });
    });
    for (const task of revoked) {
      await task.close();
      this.tasks.delete(task.partition);
    }
    this.metrics.assignedPartitions.set({ topology: this.topology.name }, this.tasks.size);
    this.log(`revoked partitions [${partitions.map((p) => p.partition).join(', ')}]`);
  }

  /**
   * exactly-once: one transaction holds every task's work, so a revoke commits all tasks. After a
   * failure, or when partitions were lost while a transaction was open (it also holds their
   * outputs), the transaction is aborted and nothing is committed: the lost case then fails the
   * runner, since the remaining tasks ran ahead of what is committed (TODO: revive them from
   * their committed offsets in place, as Kafka Streams does, instead of stopping).
   */
  private async onRevokedExactlyOnce(partitions: TopicPartition[], lost: boolean): Promise<void> {
    const revoked: PartitionTask[] = [];
    let lostWork = false;
    await this.serialCommit(async () => {
      if (this.failed !== undefined || lost) {
        lostWork = lost && this.failed === undefined && this.transactional!.inTransaction;
        await this.transactional!.abortTransaction().catch(() => undefined);
      } else {
        await this.commitTransactionNow();
      }
      for (const tp of partitions) {
        const task = this.tasks.get(tp.partition);
        if (!task) continue;
        revoked.push(task);
        this.tasks.delete(tp.partition);
      }
    });
    for (const task of revoked) await task.close();
    this.metrics.assignedPartitions.set({ topology: this.topology.name }, this.tasks.size);
    const list = partitions.map((p) => p.partition).join(', ');
    this.log(lost ? `lost partitions [${list}]: closed without committing` : `revoked partitions [${list}]`);
    if (lostWork) {
      throw new AgentrecError(
        'KAFKA_TRANSACTION_FAILED',
        `partitions [${list}] were lost while a transaction was open; it was aborted, and every task resumes from the last committed transaction`,
      );
    }
  }

  private async onBatch(tp: TopicPartition, records: SourceRecord[]): Promise<void> {
    const task = this.tasks.get(tp.partition);
    if (!task) throw new AgentrecError('TASK_STATE_ILLEGAL', `batch for unassigned partition ${tp.topic}[${tp.partition}]`);
    await task.process(records);
    if (task.pendingRecords > this.config.maxInFlightRecords) this.applyBackpressure(tp, task);
    if (task.needsCommit) await this.commitAll();
  }

  /** Pauses the partition until its unacknowledged outputs drop to half the bound. */
  private applyBackpressure(tp: TopicPartition, task: PartitionTask): void {
    const labels = { topology: this.topology.name, partition: String(tp.partition) };
    this.consumer!.pause([tp]);
    this.metrics.paused.set(labels, 1);
    void this.guard(async () => {
      await task.whenPendingBelow(this.config.maxInFlightRecords / 2);
      this.metrics.paused.set(labels, 0);
      if (this.tasks.get(tp.partition) === task) this.consumer!.resume([tp]);
    });
  }

  /**
   * After a fatal error, a task that did not fail is still committed: its outputs, state and
   * offset agree. One that failed is not (its stores may hold part of a batch): it resumes from
   * its last commit. Nothing here is reported; the fatal error already was.
   */
  private async commitIfHealthy(task: PartitionTask): Promise<number | undefined> {
    if (task.failed) return undefined;
    return task.commit().catch(() => undefined);
  }

  /**
   * The one way the runner fails, for every fatal error: a handler's or the periodic commit's,
   * a failed start, or an error the transport reports on its own (a consumer that died). Logs
   * one line with the error's code and step, rejects `done` with it, and stops: consuming ends,
   * tasks that did not fail are committed, the rest resume from their last commit. Better to stop
   * than to commit past lost work.
   */
  fail(error: unknown): void {
    if (this.failed !== undefined) return;
    this.failed = error;
    const coded = error instanceof AgentrecError ? error.message : `[${errorCode(error)}] ${errorMessage(error)}`;
    this.log(`stopping after a fatal error: ${coded}`);
    this.doneDeferred.reject(error);
    setImmediate(() => void this.stop().catch(() => undefined));
  }

  /**
   * Every consumer handler and the periodic commit run through here. It never rejects, so no
   * failure goes unhandled: the error goes to fail(), and after it only the final revoke runs.
   */
  private async guard(fn: () => Promise<void>, options: { afterFailure?: boolean } = {}): Promise<void> {
    if (this.failed !== undefined && !options.afterFailure) return;
    try {
      await fn();
    } catch (error) {
      this.fail(error);
    }
  }
}
