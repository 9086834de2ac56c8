export type { ChangedEntry, KeyValueStore } from './store.js';
export { MemoryStore } from './memory-store.js';
export { openRocksDbStore, RocksDbStore } from './rocksdb-store.js';
export type { RocksDbStoreOptions } from './rocksdb-store.js';
export { CachingStore, CACHE_ENTRY_OVERHEAD_BYTES } from './caching-store.js';
export type { CachingStoreOptions } from './caching-store.js';
export { openPartitionStore } from './open-partition-state.js';
export type { PartitionStateOptions } from './open-partition-state.js';
