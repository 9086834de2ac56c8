import { createRequire } from 'node:module';
import { StateError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { overlayRange, sortedOverlay } from './overlay-range.js';
import type { ChangedEntry, KeyValueStore, StoreMemory } from './store.js';
import { WrittenKeysFilter } from './written-keys-filter.js';

/** The slice of the rocksdb@5 (abstract-leveldown 7) callback API this store uses. */
interface RocksDbHandle {
  open(options: Record<string, unknown>, callback: (error?: Error | null) => void): void;
  close(callback: (error?: Error | null) => void): void;
  getMany(keys: Buffer[], options: { asBuffer: true }, callback: (error: Error | null, values: (Buffer | undefined)[]) => void): void;
  batch(operations: RocksDbOperation[], options: { sync: boolean }, callback: (error?: Error | null) => void): void;
  iterator(options: Record<string, unknown>): RocksDbIterator;
  /** A RocksDB property (`rocksdb.…`) as a string; '' when the database does not know it. */
  getProperty(property: string): string;
}
interface RocksDbIterator {
  next(callback: (error: Error | null | undefined, key?: Buffer, value?: Buffer) => void): void;
  end(callback: (error?: Error | null) => void): void;
}
type RocksDbOperation = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };
type RocksDbFactory = (location: string) => RocksDbHandle;

// The binding ships no types and is CommonJS; requiring it keeps the untyped surface inside
// the one interface above.
const openBinding = (): RocksDbFactory => createRequire(import.meta.url)('rocksdb') as RocksDbFactory;

// User keys and store metadata share one keyspace; a leading tag byte keeps them apart so no
// user key can ever overwrite the stored offset.
const META_TAG = 0x00;
const USER_TAG = 0x01;
const OFFSET_KEY = Buffer.from([META_TAG, ...Buffer.from('appliedOffset')]);
const USER_LOW = Buffer.from([USER_TAG]);
const USER_HIGH = Buffer.from([USER_TAG + 1]);
const NO_WRITES: readonly ChangedEntry[] = [];

export interface RocksDbStoreOptions {
  /** Store name shown in errors and metrics; defaults to the directory. */
  name?: string;
  /**
   * Buffered (unflushed) bytes past which needsFlush() turns true. The store buffers every
   * write until flush so RocksDB only ever holds state consistent with its stored offset.
   * Default 64 MiB.
   */
  bufferBytes?: number;
  /** RocksDB block cache, bytes. Default 8 MiB (the binding's default). */
  blockCacheBytes?: number;
  /** RocksDB memtable size, bytes. Default 4 MiB. */
  writeBufferBytes?: number;
  /**
   * fsync the WAL on every flush. Off by default: a process crash (kill -9) loses nothing
   * written to the OS; only a machine crash can, and the changelog restores from that.
   */
  syncWrites?: boolean;
  /**
   * A store opened empty (no offset stored yet: nothing was ever written) tracks the keys it
   * writes in a Bloom filter of this many keys (10 bits each), and answers reads of keys it
   * never wrote as absent without a RocksDB read (WrittenKeysFilter says why that matters).
   * Past that many writes the filter is dropped. 0 turns it off. Default 1,000,000 (~1.2 MiB).
   */
  writtenKeysFilterCapacity?: number;
  /**
   * Open without taking the directory's LOCK, for inspecting the state of a running task
   * (tooling, tests). Sees what was flushed when it opened; every write throws.
   */
  readOnly?: boolean;
}

/**
 * Opens (creating if missing) the RocksDB store in `directory`. Fails with STATE_LOCKED when
 * another open store holds the directory and STATE_CORRUPT when its files are damaged; both
 * errors name the directory.
 *
 * @example
 *   const store = await openRocksDbStore('/var/lib/agentrec/recommender/rows/3');
 *   await store.put(key, value);
 *   await store.flush(offset, (changes) => changelog.publish(changes));
 */
export async function openRocksDbStore(directory: string, options: RocksDbStoreOptions = {}): Promise<RocksDbStore> {
  const bufferBytes = options.bufferBytes ?? 64 * 1024 * 1024;
  if (!(bufferBytes > 0)) throw new StateError('STATE_IO', `bufferBytes must be > 0, got ${bufferBytes}`, { directory });
  const db = openBinding()(directory);
  await new Promise<void>((resolve, reject) =>
    db.open(
      {
        createIfMissing: !options.readOnly,
        readOnly: options.readOnly ?? false,
        cacheSize: options.blockCacheBytes ?? 8 * 1024 * 1024,
        writeBufferSize: options.writeBufferBytes ?? 4 * 1024 * 1024,
      },
      (error) => (error ? reject(toStateError(error, directory, 'open')) : resolve()),
    ),
  );
  const store = new RocksDbStore(
    db,
    directory,
    options.name ?? directory,
    bufferBytes,
    options.syncWrites ?? false,
    options.readOnly ?? false,
  );
  try {
    // Reading the offset at open touches the newest table files, so damage that RocksDB's own
    // open checks miss surfaces here as STATE_CORRUPT rather than mid-stream.
    const offset = await store.appliedOffset();
    const capacity = options.writtenKeysFilterCapacity ?? 1_000_000;
    if (offset === -1 && !options.readOnly && capacity > 0) store.trackWrittenKeys(new WrittenKeysFilter(capacity));
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export class RocksDbStore implements KeyValueStore {
  readonly name: string;
  readonly directory: string;
  // Unflushed writes keyed by the user key's latin1 string (byte-exact, byte-ordered).
  private readonly buffered = new Map<string, ChangedEntry>();
  private bufferedBytes = 0;
  private storedOffset: number | undefined;
  /** Every key written since the store was created empty, while that fits (see trackWrittenKeys). */
  private written: WrittenKeysFilter | undefined;
  private reads = 0;
  private closing: Promise<void> | undefined;

  /** Use openRocksDbStore(); the constructor assumes an open handle. */
  constructor(
    private readonly db: RocksDbHandle,
    directory: string,
    name: string,
    private readonly bufferBound: number,
    private readonly syncWrites: boolean,
    private readonly readOnly: boolean,
  ) {
    this.directory = directory;
    this.name = name;
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    return (await this.getMany([key]))[0];
  }

  async getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    this.assertOpen();
    const results = new Array<Buffer | undefined>(keys.length);
    const missIndexes: number[] = [];
    const missKeys: Buffer[] = [];
    const written = this.written;
    keys.forEach((key, index) => {
      const pending = this.buffered.get(key.toString('latin1'));
      if (pending) results[index] = pending.value;
      else if (written && !written.mayContain(key)) results[index] = undefined;
      else {
        missIndexes.push(index);
        missKeys.push(tagged(key));
      }
    });
    if (missKeys.length === 0) return results;
    this.reads++;
    const values = await this.call<(Buffer | undefined)[]>('get', (done) =>
      this.db.getMany(missKeys, { asBuffer: true }, (error, found) => done(error, found)),
    );
    missIndexes.forEach((index, i) => (results[index] = values[i] ?? undefined));
    return results;
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    this.assertWritable();
    this.buffer(key, value);
  }

  async delete(key: Buffer): Promise<void> {
    this.assertWritable();
    this.buffer(key, undefined);
  }

  range(options: { gte?: Buffer; lt?: Buffer; limit?: number } = {}): AsyncIterable<[Buffer, Buffer]> {
    this.assertOpen();
    // Snapshot the buffer now: the base iterator reads an implicit RocksDB snapshot too.
    const overlay = sortedOverlay(this.buffered, options);
    return overlayRange(this.scan(options.gte, options.lt), overlay, options.limit);
  }

  flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    return this.flushWith(NO_WRITES, appliedOffset, publish);
  }

  async flushWith(
    writes: readonly ChangedEntry[],
    appliedOffset: number,
    publish?: (changes: ChangedEntry[]) => Promise<void>,
  ): Promise<void> {
    this.assertWritable();
    const flushing = [...this.buffered.entries()];
    // Buffered writes first, then `writes` (newer): in the batch and the changelog alike the
    // later of two writes to one key wins.
    const changes: ChangedEntry[] = flushing.length === 0 ? (writes as ChangedEntry[]) : flushing.map(([, entry]) => entry).concat(writes);
    if (publish) await publish(changes);
    await this.writeBatch(changes, appliedOffset);
    // A write that raced the publish replaced its entry object and stays for the next flush.
    for (const [id, entry] of flushing) {
      if (this.buffered.get(id) === entry) {
        this.buffered.delete(id);
        this.bufferedBytes -= entryBytes(entry);
      }
    }
    this.storedOffset = appliedOffset;
  }

  async appliedOffset(): Promise<number> {
    this.assertOpen();
    if (this.storedOffset === undefined) {
      const [stored] = await this.call<(Buffer | undefined)[]>('get', (done) =>
        this.db.getMany([OFFSET_KEY], { asBuffer: true }, (error, found) => done(error, found)),
      );
      this.storedOffset = stored ? decodeOffset(stored, this.directory) : -1;
    }
    return this.storedOffset;
  }

  async restore(entries: ChangedEntry[], appliedOffset: number): Promise<void> {
    this.assertWritable();
    if (this.buffered.size > 0) {
      // Restored entries would land under writes that were made against older state.
      throw new StateError('STATE_IO', `restore() called with ${this.buffered.size} unflushed writes`, {
        directory: this.directory,
      });
    }
    await this.writeBatch(entries, appliedOffset);
    this.storedOffset = appliedOffset;
  }

  needsFlush(): boolean {
    return this.bufferedBytes >= this.bufferBound;
  }

  /**
   * RocksDB's own memory (memtables, the index and filter blocks of open table files, the block
   * cache: none of it in the JavaScript heap) and the writes buffered here until the next flush.
   */
  memoryUsage(): StoreMemory {
    if (this.closing) return {};
    const property = (name: string) => Number(this.db.getProperty(name)) || 0;
    return {
      rocksdb_memtables: property('rocksdb.cur-size-all-mem-tables'),
      rocksdb_table_readers: property('rocksdb.estimate-table-readers-mem'),
      rocksdb_block_cache: property('rocksdb.block-cache-usage'),
      unflushed_writes: this.bufferedBytes,
    };
  }

  /** getMany calls that had to read RocksDB (for tests and benchmarks). */
  get diskReads(): number {
    return this.reads;
  }

  /**
   * From now on, reads of keys `filter` does not hold are answered "absent" without RocksDB.
   * Only sound for a store that holds no user key yet: openRocksDbStore calls it when no
   * offset is stored, which every write path writes in the same batch as its keys.
   */
  trackWrittenKeys(filter: WrittenKeysFilter): void {
    this.written = filter;
  }

  /** Unflushed writes are dropped: they were never consistent with a stored offset. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) =>
      this.db.close((error) => (error ? reject(toStateError(error, this.directory, 'close')) : resolve())),
    );
    return this.closing;
  }

  private buffer(key: Buffer, value: Buffer | undefined): void {
    const id = key.toString('latin1');
    const previous = this.buffered.get(id);
    if (previous) this.bufferedBytes -= entryBytes(previous);
    const entry = { key, value };
    this.buffered.set(id, entry);
    this.bufferedBytes += entryBytes(entry);
  }

  private async *scan(gte: Buffer | undefined, lt: Buffer | undefined): AsyncGenerator<[Buffer, Buffer]> {
    const iterator = this.db.iterator({
      gte: gte ? tagged(gte) : USER_LOW,
      lt: lt ? tagged(lt) : USER_HIGH,
      keyAsBuffer: true,
      valueAsBuffer: true,
    });
    try {
      for (;;) {
        const next = await this.call<[Buffer, Buffer] | undefined>('range', (done) =>
          iterator.next((error, key, value) => done(error, key && value ? [key, value] : undefined)),
        );
        if (!next) return;
        yield [next[0].subarray(1), next[1]];
      }
    } finally {
      await new Promise<void>((resolve) => iterator.end(() => resolve()));
    }
  }

  /**
   * `changes` and the offset in one atomic RocksDB batch. The array form, not a chained batch:
   * a binding call per write is faster in isolation but slower inside the recommender (see
   * bench/README.md, "Steady state, the flush path, and where a cold start goes").
   */
  private writeBatch(changes: readonly ChangedEntry[], appliedOffset: number): Promise<void> {
    const operations = new Array<RocksDbOperation>(changes.length + 1);
    const written = this.written;
    for (let i = 0; i < changes.length; i++) {
      const { key, value } = changes[i];
      // Added before the batch is written: a read racing the write may then read RocksDB, never miss it.
      written?.add(key);
      operations[i] = value === undefined ? { type: 'del', key: tagged(key) } : { type: 'put', key: tagged(key), value };
    }
    if (written?.full) this.written = undefined;
    operations[changes.length] = { type: 'put', key: OFFSET_KEY, value: encodeOffset(appliedOffset) };
    return this.call<void>('write', (done) => this.db.batch(operations, { sync: this.syncWrites }, (error) => done(error, undefined)));
  }

  private call<T>(what: string, start: (done: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      start((error, value) => (error ? reject(toStateError(error, this.directory, what)) : resolve(value))),
    );
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readOnly) throw new StateError('STATE_IO', `store '${this.name}' was opened read-only`, { directory: this.directory });
  }

  private assertOpen(): void {
    if (this.closing) throw new StateError('STATE_IO', `store '${this.name}' is closed`, { directory: this.directory });
  }
}

function tagged(key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(key.length + 1);
  out[0] = USER_TAG;
  key.copy(out, 1);
  return out;
}

function entryBytes(entry: ChangedEntry): number {
  // Map slot, entry object and Buffer headers cost about this much beyond the raw bytes.
  return entry.key.length + (entry.value?.length ?? 0) + 128;
}

function encodeOffset(offset: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64BE(BigInt(offset));
  return out;
}

function decodeOffset(bytes: Buffer, directory: string): number {
  if (bytes.length !== 8) throw new StateError('STATE_CORRUPT', `stored offset has ${bytes.length} bytes, expected 8`, { directory });
  return Number(bytes.readBigInt64BE());
}

function toStateError(error: Error, directory: string, operation: string): StateError {
  const message = error.message ?? String(error);
  let code: ErrorCode = 'STATE_IO';
  if (/corruption/i.test(message)) code = 'STATE_CORRUPT';
  else if (operation === 'open' && /lock hold by|While lock file|[/\\]LOCK\b/.test(message)) code = 'STATE_LOCKED';
  const explanation =
    code === 'STATE_LOCKED'
      ? 'another open store (this process or another instance) holds the state directory'
      : code === 'STATE_CORRUPT'
        ? 'RocksDB files are damaged; delete the directory to rebuild it from the changelog'
        : `RocksDB ${operation} failed`;
  return new StateError(code, `${explanation}: ${message}`, { directory, cause: error });
}
