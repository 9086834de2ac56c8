import { createHash, randomUUID } from 'node:crypto';
import { StateError } from '../../errors.js';
import type { EmbeddingRow } from '../rows/embedding-row-store.js';
import { rowKey, rowKeyNamespace } from '../rows/row-key.js';
import type { KeyValueStore } from '../../state/store.js';
import type { OutputRecord, SourceRecord, TopicPartition } from '../../topology/transport/types.js';
import { resolveModelSyncConfig, type ModelSyncOptions, type ResolvedModelSyncConfig } from './model-sync-config.js';
import {
  decodeModelSyncRecord,
  DecodeScratch,
  encodeModelDelta,
  encodeSparseModelDelta,
  isSparseModelDelta,
  modelDeltaKey,
  modelDeltaTaskId,
  readFloats,
  sparseModelDeltaKey,
  writeFloats,
  type ModelDelta,
  type SparseModelDelta,
} from './model-sync-record.js';
import { ModelSyncRows, type SyncedRow } from './model-sync-rows.js';
import { RunningTotals } from './running-totals.js';
import { SyncScratch, SyncShift } from './sync-shift.js';
import type { RecommenderModel } from '../model/recommender-model.js';
import type { CandidateCrosses } from '../model/candidate-crosses.js';
import type { LookedUpEvent } from '../types.js';

/**
 * What model sync needs from the log. A Transport plus a Producer provide it; inside a topology
 * the runtime would hand it to steps as an additive `StepContext.log` field.
 */
export interface ModelSyncLog {
  /** Resolves once every record is acknowledged. */
  produce(records: OutputRecord[]): Promise<void>;
  readToEnd(partition: TopicPartition, fromOffset?: number): AsyncIterable<SourceRecord[]>;
}

/** The part of a ModelTask that sync touches (ModelTask satisfies it as is). */
export interface SyncedModel {
  readonly model: RecommenderModel;
  readonly partition: number;
  /** Dense weight values (not their optimizer accumulators). */
  readonly dense: Float32Array;
  /** The action-history offsets, then their AdaGrad accumulators; shared with the dense weights. */
  readonly history: Float32Array;
  historyDirty: boolean;
  /** Feedback updates applied so far: drives when to sync. */
  readonly updates: number;
  denseDirty: boolean;
  saveDense(): Promise<void>;
  /**
   * The task's row store: sync changes its resident rows in place and marks them put; a row not
   * resident has its latest bytes in the store beneath, which sync reads and writes directly.
   */
  readonly rows: { residentRow(key: Buffer): EmbeddingRow | undefined; putRows(rows: Iterable<EmbeddingRow>): Promise<void> };
  /** The candidate crosses' table, when the model has one: its chunks' weights are shared like the dense weights. */
  readonly crosses?: Pick<CandidateCrosses, 'chunkId' | 'chunkOfId' | 'chunkWeights' | 'chunkAccumulators' | 'touchChunk' | 'chunksOf'>;
}

export interface ModelSyncReport {
  /** Deltas this task published (rows and dense whose value moved since the last sync). */
  published: number;
  /** Peer deltas read and applied. */
  received: number;
  /** Model-topic records ignored: undecodable, wrong size, or for a row namespace that is not shared. */
  rejected: number;
  /** Rows (and the dense weights) written by this sync. */
  rowsWritten: number;
  /** Weight this sync's own deltas carry (1/n for 'average'). */
  weight: number;
  /** Peers counted in n. */
  peers: number;
  /** True when this was the task's first read of the topic (whole contributions applied, not increments). */
  bootstrapped: boolean;
}

/** The dense weights travel under the same key ModelTask stores them at. */
const DENSE_ROW = rowKey('model', 'dense');
const DENSE_ID = DENSE_ROW.toString('latin1');
const HISTORY_ROW = rowKey('model', 'history');
const HISTORY_ID = HISTORY_ROW.toString('latin1');
// A leading NUL keeps these out of every row-namespace scan (row-store expiry skips such keys).
const POSITION_KEY = Buffer.from('\u0000model-sync\u0000position', 'latin1');
const BASE_PREFIX = Buffer.from('\u0000model-sync\u0000base\u0000', 'latin1');
const BASE_END = Buffer.from('\u0000model-sync\u0000base\u0001', 'latin1');
/**
 * Blocks at least this long (the crosses' chunks) publish sparse records while few of their values
 * moved: a sync between batches changes ~20 % of a chunk, and dense records cost every task a pass
 * over every value of every chunk, publishing and receiving.
 */
export const SPARSE_MIN_LENGTH = 256;

/**
 * Reconciles a task's replica of the shared parameters (feature and action rows, dense weights,
 * the candidate crosses' weights) with the other tasks of the model, on any instance, through the
 * model topic. User rows are never captured, published or applied: each user belongs to one
 * partition.
 *
 * The rule. Every task keeps, for each shared row it changed since its last sync, the value the
 * row had then (its base). Every `everyEvents` feedback updates it
 *   1. reads the deltas peers published since its last read (its own records are skipped);
 *   2. picks w: 1 for 'sum'; 1/n for 'average', n = 1 + peers heard from within its last
 *      `peerWindowSyncs` syncs;
 *   3. publishes, per changed row, increment = w · (current − base) and its running total
 *      (for a long block, such as a crosses chunk, only the values that moved and the totals that
 *      moved since its latest dense record, while those are at most half the block);
 *   4. sets every touched row to   current − (1 − w) · δ_own + Σ increments of peers.
 * So each delta is applied with its publisher's weight by every task, its publisher included,
 * and tasks that started from the same deterministic init agree once all deltas are read: with
 * no new feedback, two rounds of sync leave every task at init + Σ_all w_k · δ_k (up to float
 * rounding order). Optimizer state (AdaGrad accumulators, FTRL n) stays local to each task.
 *
 * Durability. Bases, running totals, the model-topic read position and the rows a sync wrote
 * are all store writes, so they become durable in the task's next flush, atomically with the
 * input offset: after a crash the task re-reads the topic from the position its rows are
 * consistent with, so a peer delta is never applied twice and never skipped by the reader.
 * Publishing is at-least-once (like outputs): deltas published after the last flush were
 * already applied by peers, and the replayed input produces them again.
 *
 * Determinism. With `everyEvents: 0` sync does nothing and a task's state is a function of its
 * input alone (crash replay is exact). With sync on, a task's state also depends on when its
 * peers' deltas reached the topic; what still holds is per-task exactly-once application of
 * what it read. Syncs happen before every batch reads its rows (beforeBatch) and at the first
 * batch end after every `everyEvents` updates (afterBatch), each subject to `minIntervalMs`.
 *
 * @example
 *   const sync = new ModelSync(task, store, { produce: (r) => producer.send(r), readToEnd: (tp, o) => transport.readToEnd(tp, o) },
 *     { topic: modelTopicName('agent-recommender', 'rec'), everyEvents: 1000 });
 *   await sync.beforeBatch(latestEventTime);  // before lookup reads the batch's rows
 *   sync.beforeLearn(event);                  // for every feedback, before task.learn()
 *   await sync.afterBatch(latestEventTime);   // after the batch's rows are put, before commit
 */
export class ModelSync {
  readonly config: ResolvedModelSyncConfig;
  readonly taskId: string;
  private readonly rows: ModelSyncRows;
  private readonly topicPartition: TopicPartition;
  /** latin1 row key → value at the last sync. */
  private readonly bases = new Map<string, Float32Array>();
  /** Base buffers of the parameter blocks, kept across syncs: a block's base is copied into its own. */
  private readonly blockBases = new Map<string, Float32Array>();
  private readonly totals: RunningTotals;
  private readonly scratch = new SyncScratch();
  /** What peers' records are decoded into, one at a time, once this task has read the topic before. */
  private readonly decodeScratch = new DecodeScratch();
  private readonly unsavedBases = new Set<string>();
  /** Bases in the store (persisted by an earlier batch or loaded at start): what a sync deletes. */
  private readonly storedBases = new Set<string>();
  private readonly peerLastSeen = new Map<string, number>();
  /** Row objects already looked at: a batch's rows are one object per key, so each key is converted once per batch. */
  private seenRows = new WeakSet<EmbeddingRow>();
  /** Next model-topic offset to read; undefined = this task's state never read the topic. */
  private position: number | undefined;
  private syncCount = 0;
  /** Delta sends not yet known acknowledged. */
  private readonly publishing: Promise<void>[] = [];
  private nextSyncAt = 0;
  private loaded = false;

  constructor(
    private readonly task: SyncedModel,
    private readonly store: KeyValueStore,
    private readonly log: ModelSyncLog,
    options: ModelSyncOptions,
    configPath = '/sync',
  ) {
    this.config = resolveModelSyncConfig(options, configPath);
    this.taskId = this.config.taskId ?? `${randomUUID()}/p${task.partition}`;
    this.rows = new ModelSyncRows(store, task.model, this.config.optimizerState === 'shared');
    this.topicPartition = { topic: this.config.topic, partition: 0 };
    // Marks the running totals this incarnation stored: totals under another tag are a dead incarnation's.
    this.totals = new RunningTotals(store, createHash('sha256').update(this.taskId).digest().subarray(0, 8));
  }

  /** performance.now() at the last sync, for minIntervalMs. */
  private lastSyncAt = -Infinity;

  get enabled(): boolean {
    return this.config.everyEvents > 0;
  }

  /** Reads the persisted read position and bases. Bases captured before loading yield to persisted ones (those are older). */
  async ensureLoaded(): Promise<void> {
    if (this.loaded || !this.enabled) return;
    const position = await this.store.get(POSITION_KEY);
    if (position) this.position = Number(position.readBigUInt64LE(0));
    for await (const [key, value] of this.store.range({ gte: BASE_PREFIX, lt: BASE_END })) {
      const id = key.subarray(BASE_PREFIX.length).toString('latin1');
      this.bases.set(id, floatsFrom(value));
      this.unsavedBases.delete(id);
      this.storedBases.add(id);
    }
    this.scheduleNext();
    this.loaded = true;
  }

  /** Call for every feedback event before task.learn(): remembers the pre-change value of the shared rows it touches. */
  beforeLearn(event: LookedUpEvent): void {
    if (!this.enabled) return;
    for (const feature of event.features) this.captureRow(feature.row);
    for (const candidate of event.candidates) this.captureRow(candidate);
    if (event.candidateTools) for (const tool of event.candidateTools) this.captureRow(tool);
    if (this.config.dense && !this.bases.has(DENSE_ID)) this.rememberBlock(DENSE_ID);
    if (this.config.dense && event.request?.candidateHistory && !this.bases.has(HISTORY_ID)) this.rememberBlock(HISTORY_ID);
    const crosses = this.task.crosses;
    if (crosses && event.features.length) {
      for (const chunk of crosses.chunksOf(event)) {
        const id = crosses.chunkId(chunk);
        if (!this.bases.has(id)) this.rememberBlock(id);
      }
    }
  }

  /** Remembers the current value of each shared row not yet changed since the last sync. */
  captureBase(rows: Iterable<EmbeddingRow | undefined>): void {
    if (!this.enabled) return;
    for (const row of rows) this.captureRow(row);
  }

  private captureRow(row: EmbeddingRow | undefined): void {
    if (!row || this.seenRows.has(row)) return;
    this.seenRows.add(row);
    if (!this.isSharedRow(row.key)) return;
    const id = row.key.toString('latin1');
    if (!this.bases.has(id)) this.remember(id, this.rows.syncedParts(row.values, row.slots));
  }

  /** Call once per batch after its rows were put: syncs when `everyEvents` more updates were applied since the last sync. */
  async afterBatch(now: number): Promise<ModelSyncReport | undefined> {
    if (!this.enabled) return undefined;
    await this.ensureLoaded();
    const due = this.task.updates >= this.nextSyncAt && !this.heldBack();
    return due ? this.sync(now) : undefined;
  }

  /**
   * Call before a batch reads its rows: syncs unless minIntervalMs holds it back, so the batch
   * starts from every delta its peers published while it waited. Without it a task's batch saw
   * only what the others had published by its own previous batch end, and on one thread the
   * tasks take turns: with 8 partitions each batch lagged 7 others' batches (−8 % hit@1 on the
   * transcript fixture at any batch size).
   */
  async beforeBatch(now: number): Promise<ModelSyncReport | undefined> {
    if (!this.enabled) return undefined;
    await this.ensureLoaded();
    if (this.heldBack()) return undefined;
    return this.sync(now);
  }

  /** True while minIntervalMs has not passed since the last sync. */
  private heldBack(): boolean {
    return this.config.minIntervalMs > 0 && performance.now() - this.lastSyncAt < this.config.minIntervalMs;
  }

  /** Exchanges deltas now, whatever the update count (afterBatch calls it on schedule); a no-op when disabled. */
  async sync(now: number): Promise<ModelSyncReport> {
    const report: ModelSyncReport = { published: 0, received: 0, rejected: 0, rowsWritten: 0, weight: 1, peers: 0, bootstrapped: false };
    if (!this.enabled) return report;
    await this.ensureLoaded();
    this.lastSyncAt = performance.now();
    report.bootstrapped = this.position === undefined;
    const shifts = new Map<string, SyncShift>();
    const end = await this.readPeers(shifts, report);

    const peers = [...this.peerLastSeen.values()].filter((seen) => seen > this.syncCount - this.config.peerWindowSyncs).length;
    const weight = this.config.weighting === 'sum' ? 1 : 1 / (1 + peers);
    report.weight = weight;
    report.peers = peers;

    const current = new Map<string, SyncedRow>();
    const movedRows: Moved[] = [];
    const records: OutputRecord[] = [];
    for (const [id, base] of this.bases) {
      const block = this.block(id);
      const parts = block ? block.parts : await this.currentRow(id, current);
      // Expired or deleted since, or a base persisted under another optimizerState: nothing to reconcile.
      if (!parts || lengthOf(parts) !== base.length) continue;
      const moved = movedSince(id, parts, base, weight);
      if (!moved) continue;
      if (weight !== 1) {
        const shift = shiftOf(shifts, id, base.length);
        for (let k = 0; k < moved.changed.length; k++) shift.add(moved.changed[k], -(1 - weight) * moved.delta[k]);
      }
      if (block && base.length >= SPARSE_MIN_LENGTH) records.push(await this.blockRecord(moved));
      else movedRows.push(moved);
    }
    const totals = await this.totals.rows(movedRows.map(({ id, length }) => ({ id, length })));
    // Rows share one length: their record's dense arrays are filled in place, encoding copies them.
    let dense = new Float32Array(0);
    let total32 = new Float32Array(0);
    for (const [at, { id, changed, increment, length }] of movedRows.entries()) {
      const total = totals[at];
      for (let k = 0; k < changed.length; k++) total[changed[k]] += increment[k];
      await this.totals.putRow(id, total);
      if (dense.length !== length) [dense, total32] = [new Float32Array(length), new Float32Array(length)];
      scatter(changed, increment, dense);
      total32.set(total);
      const key = Buffer.from(id, 'latin1');
      const delta: ModelDelta = { rowKey: key, taskId: this.taskId, weight, increment: dense, total: total32 };
      records.push({ topic: this.config.topic, partition: 0, key: modelDeltaKey(key, this.taskId), value: encodeModelDelta(delta) });
    }
    // Acknowledged before any of this sync's state is flushed (published(), at commit), like the
    // changelog: waiting here instead held the partition's batch for every round trip.
    if (records.length) {
      const sending = this.log.produce(records);
      sending.catch(() => undefined); // handled where published() awaits it, not an unhandled rejection
      this.publishing.push(sending);
    }
    report.published = records.length;

    const shiftedResident: EmbeddingRow[] = [];
    for (const [id, shift] of shifts) {
      const block = this.block(id);
      if (block) {
        shift.applyTo(block.parts, this.scratch);
        block.touched();
      } else {
        const key = Buffer.from(id, 'latin1');
        // A resident row is shifted in place and written back with the task's next commit, so the
        // task's next batch finds it decoded; any other row is shifted in the store.
        const resident = this.task.rows.residentRow(key);
        if (resident) {
          this.rows.shift(resident, shift.dense());
          shiftedResident.push(resident);
        } else {
          const row = current.get(id) ?? (await this.rows.readOrCreate(key, now));
          this.rows.shift(row, shift.dense());
          await this.rows.write(key, row);
        }
      }
      report.rowsWritten++;
    }
    await this.task.rows.putRows(shiftedResident);
    for (const id of this.storedBases) await this.store.delete(baseKey(id));
    this.storedBases.clear();
    this.bases.clear();
    this.unsavedBases.clear();
    this.seenRows = new WeakSet();
    this.position = end;
    const position = Buffer.alloc(8);
    position.writeBigUInt64LE(BigInt(end));
    await this.store.put(POSITION_KEY, position);
    await this.task.saveDense();
    this.syncCount++;
    this.scheduleNext();
    return report;
  }

  /**
   * Puts what is flushed with the rows into the store (the blocks' running totals, the bases
   * remembered since) and returns, as `delivered`, the acknowledgement of every delta published
   * so far (rejecting with the first failure). A commit must not publish the task's state before
   * `delivered` settles (the learn step hands it to ctx.commitAfter); the task need not wait.
   */
  async published(): Promise<{ delivered: Promise<void> }> {
    const delivered = Promise.all(this.publishing.splice(0)).then(() => undefined);
    // Awaited by whoever commits; handled here too, as it may reject while the store is written.
    delivered.catch(() => undefined);
    await this.totals.persist();
    await this.persistBases();
    return { delivered };
  }

  /**
   * Stores the bases remembered since the last flush, to be flushed with the rows they are the
   * bases of. Here rather than after every batch: most bases are consumed by a sync before the
   * next commit, and stored each one cost a put and then a delete in the changelog.
   */
  private async persistBases(): Promise<void> {
    for (const id of this.unsavedBases) {
      await this.store.put(baseKey(id), floatsToBytes(this.bases.get(id)!));
      this.storedBases.add(id);
    }
    this.unsavedBases.clear();
  }

  /**
   * A long block's record: sparse while the values it moved and the totals that moved since its
   * latest dense record are at most half the block, else dense (and the totals published anew).
   */
  private async blockRecord({ id, changed, increment, length, weight }: Moved): Promise<OutputRecord> {
    const running = await this.totals.block(id, length);
    running.add(changed, increment);
    this.totals.markDirty(id);
    const key = Buffer.from(id, 'latin1');
    const topic = this.config.topic;
    if (changed.length + running.unpublishedCount <= length / 2) {
      const { at, total } = running.unpublishedTotals();
      const sparse: SparseModelDelta = { rowKey: key, taskId: this.taskId, weight, length, changed, increment, totalAt: at, total };
      return { topic, partition: 0, key: sparseModelDeltaKey(key, this.taskId), value: encodeSparseModelDelta(sparse) };
    }
    const dense = scatter(changed, increment, new Float32Array(length));
    const delta: ModelDelta = { rowKey: key, taskId: this.taskId, weight, increment: dense, total: running.publish() };
    return { topic, partition: 0, key: modelDeltaKey(key, this.taskId), value: encodeModelDelta(delta) };
  }

  /** Adds every peer record since the position into `shifts`; returns the next position. */
  private async readPeers(shifts: Map<string, SyncShift>, report: ModelSyncReport): Promise<number> {
    const bootstrap = this.position === undefined;
    let end = this.position ?? 0;
    // A first read takes each (row, incarnation)'s latest dense total overlaid with the latest sparse
    // totals after it: right whether or not compaction ran.
    const latest = new Map<string, { dense?: ModelDelta; sparse?: SparseModelDelta }>();
    for await (const chunk of this.log.readToEnd(this.topicPartition, end)) {
      for (const record of chunk) {
        end = record.offset + 1;
        if (!record.value) continue;
        if (modelDeltaTaskId(record.value) === this.taskId) continue;
        // A first read keeps records until the end (latest per row); later reads apply each at once.
        const decoded = decode(record.value, bootstrap ? undefined : this.decodeScratch);
        if (decoded instanceof Error) {
          report.rejected++;
          continue;
        }
        const { delta, id } = decoded;
        if (!this.accepts(id, delta)) {
          report.rejected++;
          continue;
        }
        this.peerLastSeen.set(delta.taskId, this.syncCount);
        if (bootstrap) {
          const key = `${id}|${delta.taskId}`;
          if (isSparseModelDelta(delta)) latest.set(key, { ...latest.get(key), sparse: delta });
          else latest.set(key, { dense: delta });
        } else {
          if (isSparseModelDelta(delta)) shiftOf(shifts, id, delta.length).addSparse(delta.changed, delta.increment);
          else shiftOf(shifts, id, delta.increment.length).addDense(delta.increment);
          report.received++;
        }
      }
    }
    for (const { dense, sparse } of latest.values()) {
      const id = (dense ?? sparse)!.rowKey.toString('latin1');
      report.received++;
      const shift = shiftOf(shifts, id, dense ? dense.total.length : sparse!.length);
      if (dense) shift.addDense(dense.total);
      // The sparse totals replace the dense record's at their indices.
      if (sparse)
        for (let k = 0; k < sparse.totalAt.length; k++)
          shift.add(sparse.totalAt[k], sparse.total[k] - (dense?.total[sparse.totalAt[k]] ?? 0));
    }
    return end;
  }

  private accepts(id: string, delta: ModelDelta | SparseModelDelta): boolean {
    const length = isSparseModelDelta(delta) ? delta.length : delta.increment.length;
    const block = this.block(id);
    if (block) return lengthOf(block.parts) === length;
    return this.isSharedRow(delta.rowKey) && length === this.rows.rowLength;
  }

  /**
   * The parameters model sync reconciles under one id besides rows: the dense weights, the
   * history offsets, a chunk of the candidate crosses. Undefined for a row's id, or for a block
   * this task does not share. With shared optimizer state the history offsets and a chunk carry
   * their AdaGrad accumulators too: every feedback steps them, and n tasks' steps summed, each
   * taken with accumulators of 1/n of the gradients, went n times too far.
   */
  private block(id: string): ParameterBlock | undefined {
    const task = this.task;
    const withSlots = this.config.optimizerState === 'shared';
    if (id === DENSE_ID || id === HISTORY_ID) {
      if (!this.config.dense) return undefined;
      const values = id === DENSE_ID ? task.dense : withSlots ? task.history : task.history.subarray(0, task.history.length / 2);
      return {
        parts: [values],
        touched: () => {
          if (id === DENSE_ID) task.denseDirty = true;
          else task.historyDirty = true;
        },
      };
    }
    const crosses = task.crosses;
    const chunk = crosses?.chunkOfId(id);
    if (!crosses || chunk === undefined) return undefined;
    const weights = crosses.chunkWeights(chunk);
    return {
      parts: withSlots ? [weights, crosses.chunkAccumulators(chunk)] : [weights],
      touched: () => crosses.touchChunk(chunk),
    };
  }

  private isSharedRow(key: Buffer): boolean {
    const namespace = rowKeyNamespace(key);
    return namespace !== undefined && this.config.namespaces.has(namespace);
  }

  /** A shared row's synced floats, as parts laid end to end (values, then slots when shared), not copied. */
  private async currentRow(id: string, cache: Map<string, SyncedRow>): Promise<readonly Float32Array[] | undefined> {
    const key = Buffer.from(id, 'latin1');
    const resident = this.task.rows.residentRow(key);
    const row = resident ?? (await this.rows.read(key));
    if (!row) return undefined;
    if (!resident) cache.set(id, row);
    return this.rows.syncedParts(row.values, row.slots);
  }

  /** Copies `parts` (laid end to end) as the base of `id`, into `into` when it has their length. */
  private remember(id: string, parts: readonly Float32Array[], into?: Float32Array): Float32Array {
    const length = lengthOf(parts);
    const base = into?.length === length ? into : new Float32Array(length);
    let at = 0;
    for (const part of parts) {
      base.set(part, at);
      at += part.length;
    }
    this.bases.set(id, base);
    this.unsavedBases.add(id);
    return base;
  }

  /** Remembers a block's values in a base buffer kept per block across syncs. */
  private rememberBlock(id: string): void {
    const block = this.block(id);
    if (block) this.blockBases.set(id, this.remember(id, block.parts, this.blockBases.get(id)));
  }

  private scheduleNext(): void {
    const every = this.config.everyEvents;
    this.nextSyncAt = (Math.floor(this.task.updates / every) + 1) * every;
  }
}

/** Parameters synced under one id besides rows: their values in parts laid end to end, and what marks them changed. */
interface ParameterBlock {
  readonly parts: readonly Float32Array[];
  touched(): void;
}

/** One id's change since its base: the indices that moved (ascending), by how much, and what peers add there. */
interface Moved {
  id: string;
  length: number;
  weight: number;
  changed: Uint32Array;
  delta: Float64Array;
  increment: Float32Array;
}

/**
 * A decoded record and its row's id (the row key as latin1). Each reader decodes its own copy:
 * a cache shared by the tasks of one process, by the embedded log's buffers, kept every decoded
 * record alive as long as the log (forever): an endless `npm start` ran 30 % slower with it and
 * grew 50 % faster, for no gain on a 20,000-event run.
 */
interface DecodedDelta {
  delta: ModelDelta | SparseModelDelta;
  id: string;
}

function decode(bytes: Buffer, scratch?: DecodeScratch): DecodedDelta | Error {
  try {
    const delta = decodeModelSyncRecord(bytes, scratch);
    return { delta, id: delta.rowKey.toString('latin1') };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function shiftOf(shifts: Map<string, SyncShift>, id: string, length: number): SyncShift {
  let shift = shifts.get(id);
  if (!shift) shifts.set(id, (shift = new SyncShift(length)));
  return shift;
}

function lengthOf(parts: readonly Float32Array[]): number {
  let length = 0;
  for (const part of parts) length += part.length;
  return length;
}

/** Where `parts` (laid end to end) differ from `base`, and by how much; undefined when nowhere. */
function movedSince(id: string, parts: readonly Float32Array[], base: Float32Array, weight: number): Moved | undefined {
  // Counted first, then filled into arrays of that size: growing plain arrays and converting them
  // cost a sync more than the comparisons themselves.
  let count = 0;
  let offset = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) if (part[i] !== base[offset + i]) count++;
    offset += part.length;
  }
  if (count === 0) return undefined;
  const changed = new Uint32Array(count);
  const delta = new Float64Array(count);
  const increment = new Float32Array(count);
  let k = 0;
  offset = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      const value = part[i];
      const was = base[offset + i];
      if (value === was) continue;
      // Float32 minus float32, as a double: exact, as before.
      const by = value - was;
      changed[k] = offset + i;
      delta[k] = by;
      increment[k] = weight * by;
      k++;
    }
    offset += part.length;
  }
  return { id, length: base.length, weight, changed, delta, increment };
}

/** `into` zeroed, then increment[k] at changed[k]: the increment of a dense record. */
function scatter(changed: Uint32Array, increment: Float32Array, into: Float32Array): Float32Array {
  into.fill(0);
  for (let k = 0; k < changed.length; k++) into[changed[k]] = increment[k];
  return into;
}

function baseKey(id: string): Buffer {
  return Buffer.concat([BASE_PREFIX, Buffer.from(id, 'latin1')]);
}

function floatsToBytes(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  writeFloats(values, out, 0);
  return out;
}

function floatsFrom(bytes: Buffer): Float32Array {
  if (bytes.length % 4 !== 0) throw new StateError('STATE_CORRUPT', `model-sync base of ${bytes.length} bytes is not a float array`);
  return readFloats(bytes, 0, bytes.length / 4);
}
