/**
 * The one way state is reached. Keys and values are bytes; the recommender's embedding-row store
 * and anything else typed sits on top. Implementations: RocksDB
 * (rocksdb-store.ts, the only file that imports the binding) and in-memory (memory-store.ts).
 * Wrappers stack: raw → changelogging → caching → metered.
 */
export interface KeyValueStore {
  readonly name: string;
  get(key: Buffer): Promise<Buffer | undefined>;
  getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]>;
  put(key: Buffer, value: Buffer): Promise<void>;
  delete(key: Buffer): Promise<void>;
  /** Entries with gte <= key < lt in key order. */
  range(options?: { gte?: Buffer; lt?: Buffer; limit?: number }): AsyncIterable<[Buffer, Buffer]>;
  /**
   * Makes every write so far durable in one atomic batch together with `appliedOffset`, the last
   * input offset whose effects those writes contain. Before that batch is written, `publish`
   * (when given) is awaited with what changed since the previous flush (value undefined =
   * deleted; empty when nothing did): the runtime sends it to the changelog topic first, so the
   * changelog is never behind local state and a partition that moves loses nothing. The writes
   * flushed are those made before the call, taken synchronously: writes made while `publish` is
   * awaited stay for the next flush, so a task may go on processing while its commit waits.
   */
  flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void>;
  /**
   * Optional: flush() as if each of `writes` (value undefined = delete) had been put() or
   * deleted in order just before it — without buffering them one by one. A write-back cache
   * hands its dirty entries over this way at commit (one call instead of an awaited put() per
   * entry, and no second copy of the dirty set in the store's own buffer). Until it resolves,
   * reads of this store may not see `writes`: the caller keeps serving them, as the cache does.
   */
  flushWith?(writes: readonly ChangedEntry[], appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void>;
  /** Last input offset made durable by flush(), or -1 for a fresh store. */
  appliedOffset(): Promise<number>;
  /** Writes restored entries and the offset they are consistent with, atomically. */
  restore(entries: ChangedEntry[], appliedOffset: number): Promise<void>;
  /**
   * True when buffered writes have grown past the store's bound; the runtime then flushes at the
   * next batch boundary (only there is the offset consistent with the writes).
   */
  needsFlush?(): boolean;
  /**
   * Optional: bytes this store holds in memory now, by part (`write_back_cache`,
   * `rocksdb_memtables`, …), for the `agentrec_state_memory_bytes` gauge. Wrappers add their own
   * parts to the inner store's.
   */
  memoryUsage?(): StoreMemory;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Bytes in memory by part of a store; parts a store does not have are absent. */
export type StoreMemory = Partial<Record<StoreMemoryPart, number>>;
export const STORE_MEMORY_PARTS = [
  'write_back_cache',
  'rocksdb_memtables',
  'rocksdb_table_readers',
  'rocksdb_block_cache',
  'unflushed_writes',
] as const;
export type StoreMemoryPart = (typeof STORE_MEMORY_PARTS)[number];

export interface ChangedEntry {
  key: Buffer;
  value: Buffer | undefined;
}
