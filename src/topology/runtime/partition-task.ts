import type { RuntimeMetrics } from '../../metrics.js';
import type { KeyValueStore, StoreMemory } from '../../state/store.js';
import type { Topology } from '../topology.js';
import type { Producer, SourceRecord, Transport } from '../transport/types.js';
import type { Batch, Serde } from '../types.js';
import { ChangelogRestorer } from './changelog-restorer.js';
import type { DeadLetterRecord } from './dead-letter.js';
import { sourceBatch, TaskPipeline } from './pipeline.js';
import { RecordCollector } from './record-collector.js';
import { StepContextFactory } from './step-context-factory.js';
import type { DeadLetterLog } from './dead-letter-log.js';
import { StoreFlusher } from './store-flusher.js';
import type { TaskCommitBarrier } from './commit-barrier.js';
import { SerialOperations, TaskLifecycle, TaskState, type PartitionTaskDescription } from './task-state.js';

export interface PartitionTaskDeps {
  topology: Topology;
  /** The application id: names the changelog topics. */
  groupId: string;
  partition: number;
  producer: Producer;
  /**
   * What steps publish to side topics through ctx.log (model sync); default `producer`. Under
   * exactly-once a plain producer: those records stay outside the commit's transaction.
   */
  logProducer?: Producer;
  transport: Transport;
  metrics: RuntimeMetrics;
  deadLetterSerde: Serde<DeadLetterRecord>;
  maxMessageBytes: number;
  openStore(storeName: string, partition: number): Promise<KeyValueStore>;
  now(): number;
  log(message: string): void;
  deadLetterLog?: DeadLetterLog;
}

/** A commit that took its snapshot: the input offset to commit and when it may be (see startCommit). */
export interface StartedCommit {
  offset: number | undefined;
  /** Settles once the outputs are acknowledged and the stores durable; rejects when they cannot be. */
  durable: Promise<void>;
}

/**
 * Everything one partition owns: the live operator chain, its stores, the outputs in flight and
 * the offsets. Its life: init (open the stores, restore them: ChangelogRestorer) → process batches
 * (outputs and dead letters: RecordCollector) → commit (StoreFlusher) → close. Order of a commit
 * (what makes kill -9 exact): outputs acknowledged → every store's changelog published (changes +
 * applied-offset marker) → each store's state + applied offset written in one batch → input offset
 * committed. On restart records at or below the state's applied offset are skipped, so no update
 * is applied twice. A task's stores are separate RocksDB instances, so a crash can land between
 * two of their writes; because every changelog holds the commit before any store writes it, init()
 * brings the lagging stores forward from their changelogs rather than replaying input into stores
 * that already contain its effects.
 */
export class PartitionTask {
  readonly lifecycle: TaskLifecycle;
  private readonly stores = new Map<string, KeyValueStore>();
  private readonly collector: RecordCollector;
  private readonly contexts: StepContextFactory;
  private readonly flusher: StoreFlusher;
  private pipeline?: TaskPipeline;
  private appliedOffset = -1;
  private lastProcessed = -1;
  private lastFlushed = -1;
  private lastCommitted = -1;
  private readonly operations = new SerialOperations();
  /** The durable part of the last commit started (settles, never rejects: a failure fails the task). */
  private durable: Promise<void> = Promise.resolve();
  private readonly labels: { topology: string; partition: string };

  constructor(private readonly deps: PartitionTaskDeps) {
    const { topology, partition } = deps;
    this.lifecycle = new TaskLifecycle(`${topology.name}/${partition}`);
    this.labels = { topology: topology.name, partition: String(partition) };
    this.collector = new RecordCollector(deps);
    this.contexts = new StepContextFactory({
      ...deps,
      topologyName: topology.name,
      producer: deps.logProducer ?? deps.producer,
      store: (name) => this.stores.get(name),
      deadLetter: (step, meta, error) => this.collector.deadLetter(step, meta, error),
    });
    this.flusher = new StoreFlusher({ ...deps, stores: this.stores });
  }

  get partition(): number {
    return this.deps.partition;
  }

  get state(): TaskState {
    return this.lifecycle.state;
  }

  /** Output records sent and not yet acknowledged (drives backpressure). */
  get pendingRecords(): number {
    return this.collector.pendingRecords;
  }

  /** True once an operation failed: its stores may hold part of a batch, so it is never committed again. */
  get failed(): boolean {
    return this.operations.failure !== undefined;
  }

  /** True when a store's write-back buffer passed its bound: commit at this batch boundary. */
  get needsCommit(): boolean {
    return [...this.stores.values()].some((s) => s.needsFlush?.() ?? false);
  }

  /** Opens the stores, restores them to one applied offset (ChangelogRestorer) and builds the chain. */
  init(committedOffset: number | undefined): Promise<void> {
    return this.operations.run('init', async () => {
      this.lifecycle.transition(TaskState.Restoring);
      for (const spec of this.deps.topology.stores) {
        this.stores.set(spec.name, await this.deps.openStore(spec.name, this.deps.partition));
      }
      await new ChangelogRestorer(this.deps).restore(this.stores, committedOffset);
      const applied: number[] = [];
      for (const store of this.stores.values()) applied.push(await store.appliedOffset());
      this.appliedOffset = applied.length ? Math.min(...applied) : -1;
      this.lastFlushed = this.appliedOffset;
      const { steps, name } = this.deps.topology;
      this.pipeline = new TaskPipeline(steps, (step) => this.contexts.contextFor(step), this.deps.metrics, name);
      this.lifecycle.transition(TaskState.Running);
    });
  }

  /** Runs one polled batch through the chain and sends its outputs (acknowledged at commit). */
  process(records: SourceRecord[]): Promise<void> {
    return this.operations.run('process', async () => {
      this.lifecycle.expect(TaskState.Running);
      if (records.length === 0) return;
      // Only right after a restart can a batch start at or below the applied offset.
      const fresh = records[0].offset > this.appliedOffset ? records : records.filter((r) => r.offset > this.appliedOffset);
      if (fresh.length < records.length) this.deps.metrics.skippedReplayed.inc(this.labels, records.length - fresh.length);
      // Acknowledgements waiting in the transport would otherwise only reach their sends when
      // the loop is next free, which under load is seconds away (kafka-producer.ts).
      await this.deps.producer.catchUpAcknowledgements?.();
      if (fresh.length > 0) await this.runBatch(fresh);
      this.lastProcessed = Math.max(this.lastProcessed, records[records.length - 1].offset);
    });
  }

  private async runBatch(records: SourceRecord[]): Promise<void> {
    this.collector.startBatch(records);
    let out: Batch<unknown>;
    try {
      out = await this.pipeline!.run(sourceBatch(this.deps.partition, records));
    } finally {
      this.contexts.flushCounts();
    }
    this.collector.sendBatch(out);
  }

  /**
   * Makes everything processed so far durable and returns the input offset to commit (next to
   * read), whether or not it advanced since the last commit (the runner repeats it: see
   * TopologyRunner.commitAllNow), or undefined when nothing was processed yet. With a `barrier`
   * (exactly-once) the task arrives there once its outputs and changelog records are sent and
   * writes its stores only after the transaction holding them committed; it processes nothing
   * until then, so no later record slips into the transaction.
   */
  async commit(barrier?: TaskCommitBarrier): Promise<number | undefined> {
    if (barrier) return this.commitHeld(barrier);
    const started = await this.startCommit();
    await started.durable;
    return started.offset;
  }

  /**
   * Starts a commit of everything processed so far and resolves once it has taken its snapshot:
   * the outputs sent so far and each store's writes so far. The task then processes on while
   * `durable` waits for acknowledgements — outputs, then changelogs — and the stores write; what
   * it processes meanwhile goes to the next commit. The order of a commit stays the one kill -9
   * relies on (class comment). A failure of `durable` fails the task.
   */
  startCommit(): Promise<StartedCommit> {
    return this.operations.run('commit', async () => {
      if (this.failed) throw this.operations.failure;
      // Commits write in order: the runner never overlaps them, other callers might.
      await this.durable;
      if (this.failed) throw this.operations.failure;
      const offset = this.lastProcessed >= 0 ? this.lastProcessed + 1 : undefined;
      let durable: Promise<void>;
      if (this.lastProcessed > this.lastFlushed) {
        const delivered = await this.contexts.beforeCommit();
        this.contexts.flushCounts();
        const through = this.lastProcessed;
        // Both calls take their snapshot synchronously, before another batch can run.
        const outputs = this.collector.flush();
        durable = this.flusher.flush(through, { beforePublish: Promise.all([outputs, ...delivered]).then(() => undefined) }).then(() => {
          this.lastFlushed = Math.max(this.lastFlushed, through);
        });
      } else {
        durable = this.collector.flush();
      }
      this.durable = durable.catch((error: unknown) => {
        this.operations.failure ??= error;
      });
      return { offset, durable };
    });
  }

  /** The exactly-once commit: the task is held from its snapshot until its stores are written. */
  private commitHeld(barrier: TaskCommitBarrier): Promise<number | undefined> {
    return this.operations.run('commit', async () => {
      if (this.failed) throw this.operations.failure;
      await this.collector.flush();
      const offset = this.lastProcessed >= 0 ? this.lastProcessed + 1 : undefined;
      const arrive = () => barrier.arrive(offset);
      if (this.lastProcessed > this.lastFlushed) {
        await Promise.all(await this.contexts.beforeCommit());
        this.contexts.flushCounts();
        await this.flusher.flush(this.lastProcessed, { beforeWrite: arrive });
        this.lastFlushed = this.lastProcessed;
      } else {
        await arrive();
      }
      return offset;
    });
  }

  /** Input processed since the last commit (exactly-once commits only when some task has any). */
  get uncommitted(): boolean {
    return this.lastProcessed > this.lastFlushed;
  }

  /** The last input offset the consumer group was asked to commit past (and did not refuse). */
  get committedThrough(): number {
    return this.lastCommitted;
  }

  /** The consumer group took `offset`: what committedThrough reports (and describe()). */
  confirmCommitted(offset: number): void {
    this.lastCommitted = Math.max(this.lastCommitted, offset - 1);
  }

  suspend(): void {
    this.lifecycle.transition(TaskState.Suspended);
  }

  resume(): void {
    this.lifecycle.transition(TaskState.Running);
  }

  /** Flushes nothing by itself: the runner commits first. Idempotent. */
  close(): Promise<void> {
    return this.operations.run('close', async () => {
      if (this.lifecycle.state === TaskState.Closed) return;
      await this.durable;
      this.lifecycle.transition(TaskState.Closed);
      this.pipeline?.close();
      this.contexts.flushCounts();
      await this.collector.close();
      for (const store of this.stores.values()) await store.close();
    });
  }

  /** Resolves once in-flight outputs drop to `threshold` records or fewer. */
  whenPendingBelow(threshold: number): Promise<void> {
    return this.collector.whenPendingBelow(threshold);
  }

  /** Memory each open store holds now, by part (StoreMemory). */
  storeMemory(): { store: string; memory: StoreMemory }[] {
    return [...this.stores].map(([store, opened]) => ({ store, memory: opened.memoryUsage?.() ?? {} }));
  }

  /**
   * Where the task stands, for an operator looking at a partition that stopped moving: offsets,
   * outputs awaiting acknowledgement, and the operation holding the task (with its age).
   */
  describe(): PartitionTaskDescription {
    return {
      partition: this.deps.partition,
      state: this.lifecycle.state,
      appliedOffset: this.appliedOffset,
      lastProcessed: this.lastProcessed,
      lastFlushed: this.lastFlushed,
      lastCommitted: this.lastCommitted,
      outputsInFlight: this.collector.pendingRecords,
      running: this.operations.running(),
    };
  }
}
