import { integerIn, numberIn } from '../../config.js';
import { KeyIds } from '../../state/key-ids.js';
import { ConfigError, StateError } from '../../errors.js';
import { fillDeterministic } from './deterministic-init.js';
import type { InitDistribution } from './deterministic-init.js';
import { decodeHeader, decodeRecord, encodeRow, encodeSighting, KIND_ROW, ROW_HEADER_BYTES } from './embedding-row-codec.js';
import { rowKeyNamespace } from './row-key.js';
import type { KeyValueStore } from '../../state/store.js';

export { rowKey, parseRowKey } from './row-key.js';
export type { RowNamespace } from './row-key.js';

/** Lifecycle policy of one namespace's rows. */
export interface RowPolicy {
  /** A row is created on its minCount-th sighting; before that getRows returns undefined. */
  minCount?: number;
  /** Rows untouched (not put) for longer than this are deleted; Infinity = never. */
  ttlMs?: number;
}

export interface EmbeddingRowStoreConfig extends RowPolicy {
  /** Embedding dimension, 1..65535. */
  dim: number;
  /** Optimizer floats per embedding float: AdaGrad 1 (accumulator), FTRL 2 (z, n). Default 0. */
  slotCount?: number;
  /** Initial value of every slot float (e.g. AdaGrad's initial accumulator). Default 0. */
  slotInitialValue?: number;
  init?: {
    /** Default 'uniform' (bit-identical on every platform). */
    distribution?: InitDistribution;
    /** Half-width for uniform, std for normal. Default 0.01. */
    scale?: number;
    /** 32-bit unsigned; change it to draw a different (still reproducible) initialisation. */
    seed?: number;
  };
  /** Per-namespace overrides of minCount / ttlMs, e.g. `{ feature: { minCount: 3 } }`. */
  namespaces?: Record<string, RowPolicy>;
}

export interface EmbeddingRow {
  readonly key: Buffer;
  /** `dim` floats; update in place, then putRows(). */
  readonly values: Float32Array;
  /** `slotCount * dim` optimizer floats, laid out slot-major: slot s of float i is [s*dim + i]. */
  readonly slots: Float32Array;
  /** Sightings including those before the row was admitted. */
  seenCount: number;
  lastTouchedMs: number;
  /**
   * Scratch for a model backend that copies a batch's rows into its own memory: where this row
   * sits there during the batch, -1 otherwise; the backend sets it and resets it at the end of
   * the batch. Never stored. On the row because a Map keyed by row, looked up per row per event,
   * was the hottest line of scoring.
   */
  backendSlot: number;
}

/**
 * One more sighting of a row, at event time `now`: what every read of a row records (the
 * frequency filter counts sightings, expiry looks at the last one). Also for callers that reuse
 * a row they read earlier in the same batch (the lookup step), so both count the same.
 */
export function sighted(row: EmbeddingRow, now: number): void {
  row.seenCount++;
  row.lastTouchedMs = now;
}

/** Plain counters (monotonic) for the runtime to export as metrics. */
export interface RowStoreCounters {
  created: number;
  expired: number;
  filtered: number;
}

interface ResolvedPolicy {
  minCount: number;
  ttlMs: number;
}

/**
 * Decoded rows the row store keeps in memory between batches (~600 bytes each with d=32 and one
 * optimizer slot, so ~12 MiB per partition): the hot set of a partition, read and updated without
 * bytes in between. Colder rows come from the write-back cache below, decoded on each first use.
 */
export const RESIDENT_ROWS_KEPT = 20_000;

/**
 * Embedding rows (values + optimizer slots + small metadata) under exact keys in any
 * KeyValueStore. Missing rows are created deterministically from (key, seed); a frequency
 * filter keeps rare features from getting rows; rows expire after a TTL.
 *
 * Rows stay decoded in memory between calls (resident): getRows hands out the same object for a
 * key until it expires, and putRows only marks it; writeBack() encodes what was put into the
 * store, once per commit instead of once per batch — call it before the store flushes (the
 * recommender does, from its beforeCommit hook). Whoever writes row keys to the store directly
 * (model sync) either changes resident rows in place (residentRow(), putRows()) or calls
 * writeBack() before and forgetResident() after.
 *
 * Reads alone are not writes: getRows bumps seenCount and lastTouchedMs on the returned object,
 * and those persist with the next putRows of that row, so scoring-only traffic does not dirty
 * the cache. A created row is written with the next writeBack(); a filtered sighting at once.
 *
 * @example
 *   const rows = new EmbeddingRowStore(store, { dim: 32, slotCount: 1, namespaces: { feature: { minCount: 3 } } });
 *   const [user, tool] = await rows.getRows([rowKey('user', 'u42'), rowKey('feature', 'tool=git')], Date.now());
 *   if (user) { user.values[0] += 0.1; await rows.putRows([user]); }
 */
export class EmbeddingRowStore {
  readonly dim: number;
  readonly slotCount: number;
  readonly counters: RowStoreCounters = { created: 0, expired: 0, filtered: 0 };
  /**
   * Event-time spacing of expiry sweeps: a quarter of the shortest finite TTL, so no expired row
   * stays on disk longer than 1.25 × its TTL; Infinity when no namespace has a TTL.
   */
  readonly expirySweepIntervalMs: number;
  private readonly ids = new KeyIds();
  /**
   * Rows handed out or created, by key id: the authoritative copy of each until the store is
   * written behind this object's back (forgetResident()). Served without touching the stores
   * below or decoding bytes; bounded by RESIDENT_ROWS_KEPT (written back and cleared when full).
   */
  private readonly resident = new Map<string, { row: EmbeddingRow; ttlMs: number }>();
  /** Rows put (or created) since the last writeBack(): their bytes are not in the store yet. */
  private readonly pending = new Set<EmbeddingRow>();
  private readonly slotInitialValue: number;
  private readonly distribution: InitDistribution;
  private readonly scale: number;
  private readonly seed: number;
  private readonly defaultPolicy: ResolvedPolicy;
  private readonly policies = new Map<string, ResolvedPolicy>();

  constructor(
    private readonly store: KeyValueStore,
    config: EmbeddingRowStoreConfig,
    options: { configPath?: string } = {},
  ) {
    const path = options.configPath ?? '/state';
    this.dim = integerIn(config.dim, `${path}/dim`, { min: 1, max: 0xffff });
    this.slotCount = integerIn(config.slotCount ?? 0, `${path}/slotCount`, { min: 0, max: 255 });
    this.slotInitialValue = numberIn(config.slotInitialValue ?? 0, `${path}/slotInitialValue`, {});
    const distribution = config.init?.distribution ?? 'uniform';
    if (distribution !== 'uniform' && distribution !== 'normal') {
      throw new ConfigError(`${path}/init/distribution`, `must be 'uniform' or 'normal', got ${JSON.stringify(distribution)}`);
    }
    this.distribution = distribution;
    this.scale = numberIn(config.init?.scale ?? 0.01, `${path}/init/scale`, {});
    if (this.scale < 0) throw new ConfigError(`${path}/init/scale`, `must be >= 0, got ${this.scale}`);
    this.seed = integerIn(config.init?.seed ?? 0, `${path}/init/seed`, { min: 0, max: 0xffffffff });
    this.defaultPolicy = resolvePolicy(config, { minCount: 1, ttlMs: Infinity }, path);
    for (const [namespace, policy] of Object.entries(config.namespaces ?? {})) {
      if (namespace.length === 0 || namespace.includes('\u0000')) {
        throw new ConfigError(`${path}/namespaces`, `namespace ${JSON.stringify(namespace)} must be non-empty and free of NUL`);
      }
      this.policies.set(namespace, resolvePolicy(policy, this.defaultPolicy, `${path}/namespaces/${escapePointer(namespace)}`));
    }
    const ttls = [this.defaultPolicy.ttlMs, ...[...this.policies.values()].map((p) => p.ttlMs)].filter(Number.isFinite);
    this.expirySweepIntervalMs = ttls.length ? Math.min(...ttls) / 4 : Infinity;
  }

  /**
   * Reads `keys` through the stores below without touching any row (no sighting, no creation):
   * one batched read that warms the write-back cache, so per-record getRows calls that follow
   * are served from memory instead of one RocksDB round trip each.
   */
  async prefetch(keys: readonly Buffer[]): Promise<void> {
    const absent = keys.filter((key) => !this.resident.has(this.ids.of(key)));
    if (absent.length) await this.store.getMany(absent);
  }

  /**
   * getRows() without a promise, for when every key's row is resident and live (the common case
   * in a steady stream): the rows, stamped as getRows() would stamp them; undefined, with nothing
   * stamped, when any key needs the store below — then call getRows().
   */
  residentRows(keys: readonly Buffer[], now: number): EmbeddingRow[] | undefined {
    if (this.resident.size > RESIDENT_ROWS_KEPT) return undefined;
    const results = new Array<EmbeddingRow>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const entry = this.resident.get(this.ids.of(keys[i]));
      if (!entry || now - entry.row.lastTouchedMs > entry.ttlMs) return undefined;
      results[i] = entry.row;
    }
    // A key twice in `keys` is stamped twice, as getRows() stamps it.
    for (let i = 0; i < results.length; i++) {
      sighted(results[i], now);
    }
    return results;
  }

  /**
   * One entry per key, in order: the row, or undefined while the frequency filter holds it
   * back. The same key yields the same object (within a call and across calls while the row is
   * resident), so updates accumulate.
   */
  async getRows(keys: readonly Buffer[], now: number): Promise<(EmbeddingRow | undefined)[]> {
    if (this.resident.size > RESIDENT_ROWS_KEPT) {
      // Written back first: a row dropped while its bytes are stale would come back stale.
      await this.writeBack();
      this.resident.clear();
    }
    const results = new Array<EmbeddingRow | undefined>(keys.length);
    // Called once per record that needs a row not read yet in its batch: the misses and the
    // maps below are built only when needed (most calls find every row resident).
    let misses: number[] | undefined;
    let missIds: string[] | undefined;
    // Per call: the deletions of rows found expired, and the row created in their place.
    let writes: Map<string, { key: Buffer; value: Buffer | undefined }> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const id = this.ids.of(keys[i]);
      const entry = this.resident.get(id);
      if (entry && !(now - entry.row.lastTouchedMs > entry.ttlMs)) {
        sighted(entry.row, now);
        results[i] = entry.row;
        continue;
      }
      if (entry) {
        // Expired while resident: exactly what reading its bytes would have found.
        this.counters.expired++;
        this.resident.delete(id);
        this.pending.delete(entry.row);
        (writes ??= new Map()).set(id, { key: keys[i], value: undefined });
      }
      (misses ??= []).push(i);
      (missIds ??= []).push(id);
    }
    if (misses === undefined || missIds === undefined) return results;
    const stored = await this.store.getMany(misses.map((i) => keys[i]));
    // Per call: the pending sighting count of a key the filter holds back.
    let sightingsOf: Map<string, number> | undefined;
    for (let m = 0; m < misses.length; m++) {
      const i = misses[m];
      const key = keys[i];
      const id = missIds[m];
      const again = this.resident.get(id);
      if (again) {
        // The same key earlier in this call: already read or created.
        sighted(again.row, now);
        results[i] = again.row;
        continue;
      }
      const policy = this.policyFor(key);
      let sightings = sightingsOf?.get(id);
      if (sightings === undefined) {
        const expiredHere = writes?.has(id) ?? false;
        const record = !expiredHere && stored[m] ? decodeRecord(stored[m] as Buffer, key) : undefined;
        const expired = record !== undefined && now - record.lastTouchedMs > policy.ttlMs;
        if (record?.data && !expired) {
          this.assertShape(key, record.dim, record.slotCount);
          results[i] = this.keep(id, this.rowFrom(key, record.data, record.seenCount + 1, now), policy);
          continue;
        }
        if (expired) {
          if (record.kind === KIND_ROW) this.counters.expired++;
          (writes ??= new Map()).set(id, { key, value: undefined });
        }
        sightings = record && !expired ? record.seenCount : 0;
      }
      sightings++;
      if (sightings >= policy.minCount) {
        const row = this.keep(id, this.createRow(key, sightings, now), policy);
        this.counters.created++;
        this.pending.add(row);
        writes?.delete(id);
        results[i] = row;
      } else {
        this.counters.filtered++;
        (sightingsOf ??= new Map()).set(id, sightings);
        (writes ??= new Map()).set(id, { key, value: encodeSighting(sightings, now) });
        results[i] = undefined;
      }
    }
    if (writes === undefined) return results;
    for (const { key, value } of writes.values()) {
      if (value === undefined) await this.store.delete(key);
      else await this.store.put(key, value);
    }
    return results;
  }

  /**
   * Marks rows (values, slots, seenCount, lastTouchedMs) as changed: they are stored as they are
   * at the next writeBack(), and stay resident until then whatever the bound.
   */
  putRows(rows: Iterable<EmbeddingRow>): Promise<void> {
    for (const row of rows) {
      this.pending.add(row);
      // A row handed out before the resident set was last cleared is the one with the updates:
      // the next read must find this object, not bytes it is about to overwrite.
      const id = this.ids.of(row.key);
      if (this.resident.get(id)?.row !== row) this.keep(id, row, this.policyFor(row.key));
    }
    return Promise.resolve();
  }

  /** Puts every row changed since the last call into the store (encoded once each); returns how many. */
  async writeBack(): Promise<number> {
    const count = this.pending.size;
    for (const row of this.pending) {
      await this.store.put(row.key, encodeRow(row.values, row.slots, this.slotCount, row.seenCount, row.lastTouchedMs));
    }
    this.pending.clear();
    return count;
  }

  /**
   * Drops the resident rows, so the next reads decode what the store holds: for a writer that
   * changed row keys in the store directly. Call writeBack() before that writer reads.
   */
  forgetResident(): void {
    if (this.pending.size)
      throw new StateError('STATE_CORRUPT', `forgetResident() with ${this.pending.size} rows not written back would lose their updates`);
    this.resident.clear();
  }

  /**
   * The decoded row object held for `key`, whatever its age, or undefined when none is: for a
   * writer (model sync) that changes rows in place and then putRows() them, instead of writing
   * the store behind this object's back. A key with no resident row holds its latest bytes in the store.
   */
  residentRow(key: Buffer): EmbeddingRow | undefined {
    return this.resident.get(this.ids.of(key))?.row;
  }

  /** Number of rows put or created and not yet written back (what the next writeBack() writes). */
  get pendingCount(): number {
    return this.pending.size;
  }

  private keep(id: string, row: EmbeddingRow, policy: ResolvedPolicy): EmbeddingRow {
    this.resident.set(id, { row, ttlMs: policy.ttlMs });
    return row;
  }

  /**
   * Deletes rows (and held-back sightings) untouched for longer than their namespace's ttlMs.
   * Scans the whole store, so run it on a timer, not per batch. Returns the rows deleted.
   */
  async expire(now: number): Promise<number> {
    if (!Number.isFinite(this.expirySweepIntervalMs)) return 0; // no namespace has a TTL
    // The scan must see every row's latest touch, and a row deleted here must not stay resident.
    await this.writeBack();
    const doomed: Buffer[] = [];
    let rows = 0;
    for await (const [key, value] of this.store.range()) {
      const namespace = rowKeyNamespace(key);
      const header = namespace === undefined ? undefined : decodeHeader(value);
      if (!header || !this.isOwnRecord(header, value.length) || now - header.lastTouchedMs <= this.policyFor(key).ttlMs) continue;
      doomed.push(key);
      if (header.kind === KIND_ROW) rows++;
    }
    // Deleting after the scan keeps the iteration independent of the store's write buffering.
    for (const key of doomed) {
      await this.store.delete(key);
      this.resident.delete(this.ids.of(key));
    }
    this.counters.expired += rows;
    return rows;
  }

  /** A row of this store's shape or a sighting: not some other value that shares the store. */
  private isOwnRecord(header: { kind: number; dim: number; slotCount: number }, length: number): boolean {
    if (header.kind === KIND_ROW) {
      return (
        header.dim === this.dim && header.slotCount === this.slotCount && length === ROW_HEADER_BYTES + this.dim * (1 + this.slotCount) * 4
      );
    }
    return length === ROW_HEADER_BYTES;
  }

  private policyFor(key: Buffer): ResolvedPolicy {
    if (this.policies.size === 0) return this.defaultPolicy;
    const namespace = rowKeyNamespace(key);
    return (namespace !== undefined && this.policies.get(namespace)) || this.defaultPolicy;
  }

  private createRow(key: Buffer, seenCount: number, now: number): EmbeddingRow {
    const data = new Float32Array(this.dim * (1 + this.slotCount));
    const row = this.rowFrom(key, data, seenCount, now);
    fillDeterministic(key, this.seed, row.values, this.distribution, this.scale);
    row.slots.fill(this.slotInitialValue);
    return row;
  }

  private rowFrom(key: Buffer, data: Float32Array, seenCount: number, now: number): EmbeddingRow {
    return {
      key,
      values: data.subarray(0, this.dim),
      slots: data.subarray(this.dim),
      seenCount,
      lastTouchedMs: now,
      backendSlot: -1,
    };
  }

  private assertShape(key: Buffer, dim: number, slotCount: number): void {
    if (dim !== this.dim || slotCount !== this.slotCount) {
      throw new StateError(
        'STATE_CORRUPT',
        `row ${JSON.stringify(key.toString('utf8'))} was stored with dim ${dim} and ${slotCount} slots; ` +
          `the store is configured for dim ${this.dim} and ${this.slotCount} slots (changing them needs fresh state)`,
      );
    }
  }
}

function resolvePolicy(policy: RowPolicy, fallback: ResolvedPolicy, path: string): ResolvedPolicy {
  const minCount =
    policy.minCount === undefined ? fallback.minCount : integerIn(policy.minCount, `${path}/minCount`, { min: 1, max: 0xffffffff });
  const ttlMs = policy.ttlMs ?? fallback.ttlMs;
  if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || ttlMs <= 0) {
    throw new ConfigError(`${path}/ttlMs`, `must be > 0 (Infinity = never expire), got ${String(ttlMs)}`);
  }
  return { minCount, ttlMs };
}

/** RFC 6901 escaping so a namespace like `a/b` still yields an unambiguous pointer. */
function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
