import { AgentrecError, errorCode, errorMessage } from '../../errors.js';
import type { RuntimeMetrics } from '../../metrics.js';
import type { DeadLetterRecord } from './dead-letter.js';
import type { ChangedEntry, KeyValueStore } from '../../state/store.js';
import type { RawRecord, Topology } from '../topology.js';
import type { OutputRecord, Producer, SourceRecord, Transport } from '../transport/types.js';
import type { Batch, Envelope, RecordMeta, Serde, StepContext, StepDefinition } from '../types.js';
import { ChangeTrackingStore } from './change-tracking-store.js';
import { ChangelogMarkers, changelogRecords, changelogTopic, entriesBefore } from './changelog.js';
import { TaskPipeline } from './pipeline.js';
import { TaskScope } from '../task-scope.js';
import { TaskLifecycle, TaskState } from './task-state.js';

/** Entries written per RocksDB batch while restoring from a changelog. */
const RESTORE_CHUNK = 10_000;

/** PartitionTask.describe(): a task's offsets and current operation. */
export interface PartitionTaskDescription {
  partition: number;
  state: TaskState;
  appliedOffset: number;
  lastProcessed: number;
  lastFlushed: number;
  lastCommitted: number;
  outputsInFlight: number;
  running: { operation: string; forMs: number } | undefined;
}

/** The dead-letter record (schemas/dead-letter.v1.avsc). */
export type DeadLetter = DeadLetterRecord;

export interface PartitionTaskDeps {
  topology: Topology;
  /** The application id: names the changelog topics. */
  groupId: string;
  partition: number;
  producer: Producer;
  transport: Transport;
  metrics: RuntimeMetrics;
  deadLetterSerde: Serde<DeadLetter>;
  openStore(storeName: string, partition: number): Promise<KeyValueStore>;
  now(): number;
  log(message: string): void;
}

/**
 * Everything one partition owns: the live operator chain, its stores, the outputs in flight and
 * the offsets. Order of a commit (what makes kill -9 exact): outputs acknowledged → every store's
 * changelog published (changes + applied-offset marker) → each store's state + applied offset
 * written in one batch → input offset committed. On restart records at or below the state's
 * applied offset are skipped, so no update is applied twice. A task's stores are separate
 * RocksDB instances, so a crash can land between two of their writes; because every changelog
 * holds the commit before any store writes it, init() brings the lagging stores forward from
 * their changelogs rather than replaying input into stores that already contain its effects.
 */
export class PartitionTask {
  readonly lifecycle: TaskLifecycle;
  private readonly stores = new Map<string, ChangeTrackingStore>();
  private readonly scope = new TaskScope();
  /** One per step context: moves the counts gathered since the last call into the counters. */
  private readonly countFlushes: (() => void)[] = [];
  /** Registered by steps through ctx.beforeCommit: in-memory writes put into stores at commit. */
  private readonly beforeCommitHooks: (() => Promise<void>)[] = [];
  private pipeline?: TaskPipeline;
  private appliedOffset = -1;
  private lastProcessed = -1;
  private lastFlushed = -1;
  private lastCommitted = -1;
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightRecords = 0;
  private sendFailure: unknown;
  private deadLetters: OutputRecord[] = [];
  /** The batch being processed, for dead letters (raw bytes) and the sink (raw keys). */
  private currentRaw: SourceRecord[] = [];
  private exclusive: Promise<unknown> = Promise.resolve();
  /** The serial operation running now and since when (performance.now()), for describe(). */
  private running: { operation: string; since: number } | undefined;
  private readonly labels: { topology: string; partition: string };

  constructor(private readonly deps: PartitionTaskDeps) {
    this.lifecycle = new TaskLifecycle(`${deps.topology.name}/${deps.partition}`);
    this.labels = { topology: deps.topology.name, partition: String(deps.partition) };
  }

  get partition(): number {
    return this.deps.partition;
  }

  get state(): TaskState {
    return this.lifecycle.state;
  }

  /** Output records sent and not yet acknowledged (drives backpressure). */
  get pendingRecords(): number {
    return this.inFlightRecords;
  }

  /** True when a store's write-back buffer passed its bound: commit at this batch boundary. */
  get needsCommit(): boolean {
    return [...this.stores.values()].some((s) => s.needsFlush?.() ?? false);
  }

  /**
   * Opens stores and makes them agree on one applied offset. Where local state is missing or
   * behind what the group committed, the changelogs are the truth: every store is restored to
   * the last commit all of them completed. Otherwise local state is the truth, and a store left
   * one commit behind by a crash between two stores' writes is brought forward from its changelog.
   */
  init(committedOffset: number | undefined): Promise<void> {
    return this.serial('init', async () => {
      this.lifecycle.transition(TaskState.Restoring);
      const local = new Map<string, number>();
      for (const spec of this.deps.topology.stores) {
        const store = new ChangeTrackingStore(await this.deps.openStore(spec.name, this.deps.partition));
        this.stores.set(spec.name, store);
        local.set(spec.name, await store.appliedOffset());
      }
      const logged = this.deps.topology.stores.filter((spec) => spec.changelog !== false).map((spec) => spec.name);
      const untrusted = logged.some((name) => {
        const offset = local.get(name)!;
        return offset < 0 || (committedOffset !== undefined && offset + 1 < committedOffset);
      });
      if (untrusted) {
        const markers = new Map<string, ChangelogMarkers>();
        for (const name of logged) markers.set(name, await this.scanChangelog(name));
        const target = Math.min(...[...markers.values()].map((m) => m.appliedOffset));
        for (const name of logged) if (target > local.get(name)!) await this.restore(name, markers.get(name)!, target);
      } else if (local.size > 0) {
        const target = Math.max(...local.values());
        for (const name of logged) if (local.get(name)! < target) await this.restore(name, await this.scanChangelog(name), target);
      }
      const applied: number[] = [];
      for (const store of this.stores.values()) applied.push(await store.appliedOffset());
      this.appliedOffset = applied.length ? Math.min(...applied) : -1;
      this.lastFlushed = this.appliedOffset;
      this.pipeline = new TaskPipeline(this.deps.topology.steps, (step) => this.contextFor(step), this.deps.metrics, this.deps.topology.name);
      this.lifecycle.transition(TaskState.Running);
    });
  }

  /** Runs one polled batch through the chain and sends its outputs (acknowledged at commit). */
  process(records: SourceRecord[]): Promise<void> {
    return this.serial('process', async () => {
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

  /**
   * Makes everything processed so far durable and returns the input offset to commit (next to
   * read), whether or not it advanced since the last commit (the runner repeats it: see
   * TopologyRunner.commitAllNow), or undefined when nothing was processed yet.
   */
  commit(): Promise<number | undefined> {
    return this.serial('commit', () => this.commitNow());
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
    return this.serial('close', async () => {
      if (this.lifecycle.state === TaskState.Closed) return;
      this.lifecycle.transition(TaskState.Closed);
      this.pipeline?.close();
      this.flushCounts();
      await Promise.allSettled(this.inFlight);
      for (const store of this.stores.values()) await store.close();
    });
  }

  private async runBatch(records: SourceRecord[]): Promise<void> {
    const topology = this.deps.topology;
    this.currentRaw = records;
    const batch: Batch<RawRecord> = { partition: this.deps.partition, records: records.map(toEnvelope) };
    let out: Batch<unknown>;
    try {
      out = await this.pipeline!.run(batch);
    } finally {
      this.flushCounts();
    }
    const sink = topology.sink;
    const outputs: OutputRecord[] = [];
    for (const record of out.records) {
      try {
        let key: Buffer | null;
        if (sink.key) {
          const chosen = sink.key(record.value, record.meta);
          key = chosen === null ? null : Buffer.from(chosen);
        } else {
          // Keyed as the input: reuse the input's key bytes instead of re-encoding the string.
          key = this.rawRecord(record.meta.offset)?.key ?? (record.meta.key === null ? null : Buffer.from(record.meta.key));
        }
        outputs.push({ topic: sink.topic, key, value: sink.serde.serialize(record.value) });
      } catch (err) {
        this.deadLetter(sink.name, record.meta, err);
      }
    }
    this.deps.metrics.recordsOut.inc({ ...this.labels, step: sink.name }, outputs.length);
    const toSend = this.deadLetters.length ? outputs.concat(this.deadLetters.splice(0)) : outputs;
    this.currentRaw = [];
    if (toSend.length === 0) return;
    const count = toSend.length;
    this.inFlightRecords += count;
    this.deps.metrics.inFlight.set(this.labels, this.inFlightRecords);
    // A failed delivery is kept and rethrown by the next commit, so nothing is committed past it.
    const sent: Promise<void> = this.deps.producer.send(toSend).then(
      () => undefined,
      (err) => {
        this.sendFailure ??= err;
      },
    );
    const tracked = sent.finally(() => {
      this.inFlight.delete(tracked);
      this.inFlightRecords -= count;
      this.deps.metrics.inFlight.set(this.labels, this.inFlightRecords);
    });
    this.inFlight.add(tracked);
  }

  private flushCounts(): void {
    for (const flush of this.countFlushes) flush();
  }

  /** Resolves once in-flight outputs drop to `threshold` records or fewer. */
  async whenPendingBelow(threshold: number): Promise<void> {
    while (this.inFlightRecords > threshold && this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  private async commitNow(): Promise<number | undefined> {
    await Promise.all(this.inFlight);
    if (this.sendFailure !== undefined) {
      throw new AgentrecError('KAFKA_DELIVERY_FAILED', `outputs of partition ${this.deps.partition} were not delivered: ${errorMessage(this.sendFailure)}`, {
        cause: this.sendFailure,
      });
    }
    if (this.lastProcessed > this.lastFlushed) {
      for (const hook of this.beforeCommitHooks) await hook();
      this.flushCounts();
      await this.flushStores(this.lastProcessed);
      this.lastFlushed = this.lastProcessed;
    }
    return this.lastProcessed >= 0 ? this.lastProcessed + 1 : undefined;
  }

  /**
   * Publishes every store's changelog (its changes, or only the marker when it has none) before
   * any store writes its batch, so that whichever stores a crash leaves behind, their changelogs
   * hold this commit. A failed publish stops every write.
   */
  private async flushStores(offset: number): Promise<void> {
    const specs = this.deps.topology.stores;
    const logged = specs.filter((spec) => spec.changelog !== false);
    const topic = (name: string) => changelogTopic(this.deps.groupId, name);
    const dirty = logged.filter((spec) => this.stores.get(spec.name)!.changed);
    const later = specs.filter((spec) => !dirty.includes(spec));

    let arrived = 0;
    let allArrived!: () => void;
    let failed!: (error: unknown) => void;
    const dirtyPublished = new Promise<void>((resolve, reject) => ((allArrived = resolve), (failed = reject)));
    const arrive = () => ++arrived === dirty.length && allArrived();
    if (dirty.length === 0) allArrived();
    const markers = Promise.all(
      logged.filter((spec) => !dirty.includes(spec)).map((spec) => this.deps.producer.send(changelogRecords(topic(spec.name), this.deps.partition, [], offset))),
    );
    markers.catch(failed);
    const allPublished = Promise.all([markers, dirtyPublished]);
    allPublished.catch(() => undefined);
    await Promise.all(
      dirty.map((spec) => {
        let published = false;
        const flushed = this.stores.get(spec.name)!.flush(offset, async (changes) => {
          try {
            await this.deps.producer.send(changelogRecords(topic(spec.name), this.deps.partition, changes, offset));
          } catch (error) {
            failed(error);
            throw error;
          }
          published = true;
          arrive();
          await allPublished;
        });
        // A store that turned out to have nothing to publish must not hold the others back.
        return flushed.finally(() => published || arrive());
      }),
    );
    await allPublished;
    for (const spec of later) await this.stores.get(spec.name)!.flush(offset);
  }

  /** First pass over a changelog partition: where its complete commits end (no entries kept). */
  private async scanChangelog(storeName: string): Promise<ChangelogMarkers> {
    const markers = new ChangelogMarkers();
    for await (const chunk of this.readChangelog(storeName)) markers.add(chunk);
    return markers;
  }

  private async *readChangelog(storeName: string): AsyncIterable<SourceRecord[]> {
    const topic = changelogTopic(this.deps.groupId, storeName);
    try {
      yield* this.deps.transport.readToEnd({ topic, partition: this.deps.partition });
    } catch (err) {
      throw new AgentrecError('CHANGELOG_RESTORE_FAILED', `reading ${topic}[${this.deps.partition}]: ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * Second pass: streams the entries before `target`'s marker into the store in chunks, so a
   * restore needs memory for one chunk, not for the whole state. Chunks are written with applied
   * offset -1 and only the last one with `target`: a crash mid-restore leaves the store marked
   * as needing a restore, which simply runs again (entries overwrite, in changelog order).
   */
  private async restore(storeName: string, markers: ChangelogMarkers, target: number): Promise<void> {
    const started = performance.now();
    const topic = changelogTopic(this.deps.groupId, storeName);
    const end = markers.positionOf(target);
    if (end === undefined) {
      throw new AgentrecError(
        'CHANGELOG_RESTORE_FAILED',
        `store '${storeName}' partition ${this.deps.partition} must be restored to applied offset ${target}, but ${topic}[${this.deps.partition}] ends at ${markers.appliedOffset} (previous ${markers.previousOffset})`,
      );
    }
    const store = this.stores.get(storeName)!;
    let pending: ChangedEntry[] = [];
    let restored = 0;
    for await (const chunk of this.readChangelog(storeName)) {
      pending = pending.concat(entriesBefore(chunk, end));
      if (pending.length >= RESTORE_CHUNK) {
        await store.restore(pending, -1);
        restored += pending.length;
        pending = [];
      }
    }
    await store.restore(pending, target);
    restored += pending.length;
    const seconds = (performance.now() - started) / 1000;
    const labels = { topology: this.deps.topology.name, store: storeName, partition: String(this.deps.partition) };
    this.deps.metrics.restoreDuration.set(labels, seconds);
    this.deps.metrics.restoredRows.inc(labels, restored);
    this.deps.log(
      `restored store '${storeName}' partition ${this.deps.partition}: ${restored} entries from ${markers.recordsRead} changelog records in ${seconds.toFixed(3)} s (applied offset ${target})`,
    );
  }

  private contextFor(step: StepDefinition<unknown, unknown>): StepContext {
    const { topology, metrics } = this.deps;
    const labels = { topology: topology.name, step: step.name, partition: String(this.deps.partition) };
    const owned = new Set((step.stores ?? []).map((s) => s.name));
    // Counts gather here and reach the counters once per batch (flushCounts): prom-client hashes
    // the label set on every inc, even on a bound child, and steps count per record.
    const counters = new Map<string, { child: { inc(value: number): void }; pending: number }>();
    this.countFlushes.push(() => {
      for (const counter of counters.values()) {
        if (counter.pending === 0) continue;
        counter.child.inc(counter.pending);
        counter.pending = 0;
      }
    });
    const gauges = new Map<string, { set(value: number): void }>();
    const ctx: StepContext = {
      topology: topology.name,
      step: step.name,
      partition: this.deps.partition,
      store: (name) => {
        const store = this.stores.get(name);
        if (!store || !owned.has(name)) {
          throw new AgentrecError('TOPOLOGY_INVALID', `store '${name}' is not declared by this step`, { step: step.name });
        }
        return store;
      },
      deadLetter: (meta, error) => this.deadLetter(step.name, meta, error),
      now: this.deps.now,
      metrics: {
        count: (event, value = 1) => {
          let counter = counters.get(event);
          if (!counter) counters.set(event, (counter = { child: metrics.stepEvents.labels({ ...labels, event }), pending: 0 }));
          counter.pending += value;
        },
        gauge: (name, value, across) => {
          if (across === 'sum') metrics.summedStepValues.add(name);
          let child = gauges.get(name);
          if (!child) gauges.set(name, (child = metrics.stepValue.labels({ ...labels, name })));
          child.set(value);
        },
      },
      scoped: (key) => this.scope.get(key, ctx),
      beforeCommit: (fn) => void this.beforeCommitHooks.push(fn),
      log: {
        produce: (records) => this.deps.producer.send(records),
        readToEnd: (tp, from) => this.deps.transport.readToEnd(tp, from),
      },
    };
    return ctx;
  }

  private deadLetter(stepName: string, meta: RecordMeta, error: unknown): void {
    const raw = this.rawRecord(meta.offset);
    const code = errorCode(error);
    const record: DeadLetter = {
      topology: this.deps.topology.name,
      step: stepName,
      errorCode: code,
      reason: errorMessage(error),
      sourceTopic: meta.topic,
      sourcePartition: meta.partition,
      sourceOffset: meta.offset,
      key: raw?.key ?? (meta.key === null ? null : Buffer.from(meta.key)),
      value: raw?.value ?? null,
      failedAt: this.deps.now(),
    };
    this.deps.metrics.deadLettered.inc({ ...this.labels, step: stepName, code });
    this.deps.log(`dead-lettered ${meta.topic}[${meta.partition}]@${meta.offset} at step '${stepName}': ${record.reason}`);
    this.deadLetters.push({ topic: this.deps.topology.deadLetterTopic, key: record.key, value: this.deps.deadLetterSerde.serialize(record) });
  }

  /** The source record at `offset` in the current batch (offsets of one poll are usually contiguous). */
  private rawRecord(offset: number): SourceRecord | undefined {
    const records = this.currentRaw;
    if (records.length === 0) return undefined;
    const guess = records[offset - records[0].offset];
    return guess?.offset === offset ? guess : records.find((r) => r.offset === offset);
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
      outputsInFlight: this.inFlightRecords,
      running: this.running && { operation: this.running.operation, forMs: Math.round(performance.now() - this.running.since) },
    };
  }

  /** Process, commit and close never interleave: each waits for the one before. */
  private serial<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      this.running = { operation, since: performance.now() };
      try {
        return await fn();
      } finally {
        this.running = undefined;
      }
    };
    const next = this.exclusive.then(run, run);
    this.exclusive = next.catch(() => undefined);
    return next;
  }
}

function toEnvelope(record: SourceRecord): Envelope<RawRecord> {
  return {
    meta: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key === null ? null : record.key.toString('utf8'),
    },
    value: { key: record.key, value: record.value },
  };
}
