import { KeyIds } from './key-ids.js';
import { ConfigError, StateError } from '../errors.js';
import { overlayRange, sortedOverlay } from './overlay-range.js';
import type { ChangedEntry, KeyValueStore, StoreMemory } from './store.js';
import { ValueArena } from './value-arena.js';

/**
 * What one cached entry costs beyond its key and value bytes: the Map slot, the latin1 key
 * string and the value Buffer's objects (the slot of a dirty entry also keeps its key Buffer;
 * it is short-lived). Counting it keeps the byte bound honest for small rows, where the headers
 * rival the payload; the figure is measured, see bench/README.md, "State".
 */
export const CACHE_ENTRY_OVERHEAD_BYTES = 260;

/**
 * What one clean entry whose value lives in the ValueArena costs beyond its key string's bytes
 * and its slot: the Map slot (with the table's growth slack), the id string's header and the
 * KeyIds entry (measured, see bench/README.md, "State"); the unit test "accounts for what a
 * clean entry really costs" keeps this honest.
 */
export const CLEAN_ENTRY_OVERHEAD_BYTES = 112;

export interface CachingStoreOptions {
  /** Bound on cached bytes (keys + values + per-entry overhead), > 0. */
  maxBytes: number;
  /** JSON pointer reported when `maxBytes` is invalid. Default '/cacheBytes'. */
  configPath?: string;
}

interface CacheSlot {
  key: Buffer;
  /** undefined caches "absent": a miss or a delete, so repeated lookups skip the inner store. */
  value: Buffer | undefined;
  bytes: number;
}

/**
 * A bounded write-back cache in front of any KeyValueStore. Clean entries are evicted least
 * recently used first; dirty entries are pinned until flush(), because writing them to the
 * inner store early would leave it holding state newer than its stored offset after a crash.
 * When dirty bytes reach the bound, needsFlush() asks the runtime to commit at the next batch
 * boundary; flush() hands the dirty set to the inner store, which writes it in one batch with
 * the offset.
 *
 * @example
 *   const store = new CachingStore(await openRocksDbStore(dir), { maxBytes: 64 << 20 });
 *   if (store.needsFlush()) await store.flush(lastOffset, publish);
 */
export class CachingStore implements KeyValueStore {
  private readonly ids = new KeyIds();
  readonly name: string;
  private readonly maxBytes: number;
  private readonly dirty = new Map<string, CacheSlot>();
  // Map iteration order is insertion order, so re-inserting on access keeps this LRU-ordered.
  // Values only: clean entries need no key Buffer, the latin1 id is the key, and a slot object
  // per entry would cost more than many rows' payload. A number is the value's slot in `arena`,
  // a Buffer a value too long for the arena, null "known absent".
  private readonly clean = new Map<string, number | Buffer | null>();
  private readonly arena = new ValueArena();
  private dirtyBytes = 0;
  private cleanBytes = 0;
  // Bumped by every flush/restore: inner reads that straddle one may return pre-flush values
  // and must not be cached over what the flush settled.
  private generation = 0;
  private closed = false;

  constructor(
    private readonly inner: KeyValueStore,
    options: CachingStoreOptions,
  ) {
    const path = options.configPath ?? '/cacheBytes';
    if (typeof options.maxBytes !== 'number' || !Number.isFinite(options.maxBytes) || options.maxBytes <= 0) {
      throw new ConfigError(path, `must be a finite number > 0, got ${String(options.maxBytes)}`);
    }
    this.maxBytes = options.maxBytes;
    this.name = inner.name;
  }

  /**
   * Bytes held now, dirty and clean; dirty bytes may exceed the bound until the next flush.
   * `arena` is what the clean values' slabs occupy, free slots included.
   */
  get cachedBytes(): { dirty: number; clean: number; bound: number; arena: number } {
    return { dirty: this.dirtyBytes, clean: this.cleanBytes, bound: this.maxBytes, arena: this.arena.allocatedBytes };
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    return (await this.getMany([key]))[0];
  }

  async getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    this.assertOpen();
    const results = new Array<Buffer | undefined>(keys.length);
    const missesById = new Map<string, { key: Buffer; indexes: number[] }>();
    keys.forEach((key, index) => {
      const id = this.ids.of(key);
      const slot = this.dirty.get(id);
      const cached = slot ? undefined : this.touchClean(id);
      if (slot) results[index] = slot.value;
      else if (cached !== undefined) results[index] = this.valueOf(cached);
      else {
        const miss = missesById.get(id);
        if (miss) miss.indexes.push(index);
        else missesById.set(id, { key, indexes: [index] });
      }
    });
    if (missesById.size === 0) return results;
    const misses = [...missesById.entries()];
    const generation = this.generation;
    const values = await this.inner.getMany(misses.map(([, miss]) => miss.key));
    const cacheable = generation === this.generation;
    misses.forEach(([id, miss], i) => {
      const value = values[i];
      for (const index of miss.indexes) results[index] = value;
      if (cacheable && !this.dirty.has(id) && !this.clean.has(id)) this.insertClean(id, value);
    });
    this.evictClean();
    return results;
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    this.assertOpen();
    this.markDirty(key, value);
  }

  async delete(key: Buffer): Promise<void> {
    this.assertOpen();
    this.markDirty(key, undefined);
  }

  range(options: { gte?: Buffer; lt?: Buffer; limit?: number } = {}): AsyncIterable<[Buffer, Buffer]> {
    this.assertOpen();
    // Clean entries equal the inner store's; only dirty ones need overlaying. The inner range
    // gets no limit because dirty deletes may hide some of its entries.
    const overlay = sortedOverlay(this.dirty, options);
    return overlayRange(this.inner.range({ gte: options.gte, lt: options.lt }), overlay, options.limit);
  }

  async flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    this.assertOpen();
    const flushing = [...this.dirty.entries()];
    // Slots stay dirty (pinned) until the inner flush succeeded; if publish throws, the next
    // flush hands the same writes over again, which is idempotent.
    if (this.inner.flushWith) {
      // A slot is a ChangedEntry (key, value): handed over as it is, in one call.
      await this.inner.flushWith(
        flushing.map(([, slot]) => slot),
        appliedOffset,
        publish,
      );
    } else {
      for (const [, slot] of flushing) {
        if (slot.value === undefined) await this.inner.delete(slot.key);
        else await this.inner.put(slot.key, slot.value);
      }
      await this.inner.flush(appliedOffset, publish);
    }
    this.generation++;
    for (const [id, slot] of flushing) {
      if (this.dirty.get(id) !== slot) continue;
      this.dirty.delete(id);
      this.dirtyBytes -= slot.bytes;
      this.insertClean(id, slot.value);
    }
    this.evictClean();
  }

  appliedOffset(): Promise<number> {
    this.assertOpen();
    return this.inner.appliedOffset();
  }

  async restore(entries: ChangedEntry[], appliedOffset: number): Promise<void> {
    this.assertOpen();
    if (this.dirty.size > 0) {
      throw new StateError('STATE_IO', `restore() called on '${this.name}' with ${this.dirty.size} unflushed writes`);
    }
    await this.inner.restore(entries, appliedOffset);
    this.generation++;
    for (const { key } of entries) {
      const id = this.ids.of(key);
      this.dropClean(id);
    }
  }

  needsFlush(): boolean {
    return this.dirtyBytes >= this.maxBytes || (this.inner.needsFlush?.() ?? false);
  }

  /** What the cache accounts for its dirty and clean entries, plus arena slots freed and not reused; and the inner store's parts. */
  memoryUsage(): StoreMemory {
    return { ...(this.inner.memoryUsage?.() ?? {}), write_back_cache: this.dirtyBytes + this.cleanBytes + this.arena.freeBytes };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dirty.clear();
    this.clean.clear();
    this.arena.clear();
    this.dirtyBytes = 0;
    this.cleanBytes = 0;
    await this.inner.close();
  }

  private markDirty(key: Buffer, value: Buffer | undefined): void {
    const id = this.ids.peek(key);
    this.dropClean(id);
    const previous = this.dirty.get(id);
    if (previous) this.dirtyBytes -= previous.bytes;
    const slot: CacheSlot = { key, value, bytes: bufferEntryBytes(key.length, value) };
    this.dirty.set(id, slot);
    this.dirtyBytes += slot.bytes;
    this.evictClean();
  }

  /** The cached entry (null = known absent) moved to most recent, or undefined when not cached. */
  private touchClean(id: string): number | Buffer | null | undefined {
    const cached = this.clean.get(id);
    if (cached !== undefined) {
      this.clean.delete(id);
      this.clean.set(id, cached);
    }
    return cached;
  }

  private valueOf(cached: number | Buffer | null): Buffer | undefined {
    return typeof cached === 'number' ? this.arena.read(cached) : (cached ?? undefined);
  }

  private insertClean(id: string, value: Buffer | undefined): void {
    if (this.arena.freeBytes > this.maxBytes + ValueArena.SLAB_BYTES) this.compactArena();
    const cached = value === undefined ? null : ValueArena.fits(value.length) ? this.arena.store(value) : value;
    this.clean.set(id, cached);
    this.cleanBytes += this.cleanBytesOf(id, cached);
  }

  /**
   * Drops every clean entry held in the arena and the arena with them, when slots freed by values
   * of sizes no longer stored strand more than the cache's bound: they are a cache, read again
   * on demand, and the memory held stays within about twice the bound.
   */
  private compactArena(): void {
    for (const [id, cached] of this.clean) {
      if (typeof cached !== 'number') continue;
      this.clean.delete(id);
      this.cleanBytes -= this.cleanBytesOf(id, cached);
    }
    this.arena.clear();
  }

  private dropClean(id: string): void {
    const cached = this.clean.get(id);
    if (cached === undefined) return;
    this.clean.delete(id);
    this.release(id, cached);
  }

  private evictClean(): void {
    if (this.cleanBytes + this.dirtyBytes <= this.maxBytes) return;
    for (const [id, cached] of this.clean) {
      this.clean.delete(id);
      this.release(id, cached);
      if (this.cleanBytes + this.dirtyBytes <= this.maxBytes) return;
    }
  }

  private release(id: string, cached: number | Buffer | null): void {
    this.cleanBytes -= this.cleanBytesOf(id, cached);
    if (typeof cached === 'number') this.arena.free(cached);
  }

  private cleanBytesOf(id: string, cached: number | Buffer | null): number {
    if (typeof cached === 'number') return id.length + ValueArena.slotBytes(this.arena.lengthOf(cached)) + CLEAN_ENTRY_OVERHEAD_BYTES;
    return bufferEntryBytes(id.length, cached ?? undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError('STATE_IO', `store '${this.name}' is closed`);
  }
}

/** Accounted cost of an entry holding its value as a Buffer (dirty, or too long for the arena). */
function bufferEntryBytes(keyLength: number, value: Buffer | undefined): number {
  return keyLength + (value?.length ?? 0) + CACHE_ENTRY_OVERHEAD_BYTES;
}
