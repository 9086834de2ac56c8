import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { CachingStore } from './caching-store.js';
import { MemoryStore } from './memory-store.js';
import { openRocksDbStore } from './rocksdb-store.js';
import type { RocksDbStoreOptions } from './rocksdb-store.js';
import type { KeyValueStore } from './store.js';

/**
 * Write-back cache per store and partition unless configured. Small on purpose: an instance has
 * partitions × stores of them, and RocksDB's block cache and the OS page cache serve what falls
 * out (a 4× larger cache read rows no faster on a working set 10× its size: bench/README.md).
 */
export const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024;

export interface PartitionStateOptions {
  /** Root of all local state, e.g. `.state` or `/var/lib/agentrec`. */
  stateDir: string;
  /** Topology name (one path segment). */
  topology: string;
  /** Store name from the step's StoreSpec (one path segment). */
  store: string;
  partition: number;
  /** Write-back cache bound in bytes (rocksdb backend). Default DEFAULT_CACHE_BYTES (16 MiB). */
  cacheBytes?: number;
  /** Default 'rocksdb'. */
  backend?: 'rocksdb' | 'memory';
  /** Passed to the RocksDB store. */
  rocksdb?: Omit<RocksDbStoreOptions, 'name'>;
}

/**
 * Opens the store one task (= one partition) owns: RocksDB in
 * `${stateDir}/${topology}/${store}/${partition}` behind a bounded write-back cache, or an
 * in-memory store. The name `${topology}/${store}/${partition}` labels errors and metrics.
 *
 * @example
 *   const store = await openPartitionStore({ stateDir: '.state', topology: 'recommender', store: 'rows', partition: 3 });
 */
export async function openPartitionStore(options: PartitionStateOptions): Promise<KeyValueStore> {
  if (typeof options.stateDir !== 'string' || options.stateDir.length === 0) {
    throw new ConfigError('/stateDir', 'must be a non-empty path');
  }
  const topology = pathSegment(options.topology, '/topology');
  const store = pathSegment(options.store, '/store');
  if (!Number.isInteger(options.partition) || options.partition < 0) {
    throw new ConfigError('/partition', `must be an integer >= 0, got ${String(options.partition)}`);
  }
  const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const backend = options.backend ?? 'rocksdb';
  const name = `${topology}/${store}/${options.partition}`;
  if (backend === 'memory') return new MemoryStore(name);
  if (backend !== 'rocksdb') throw new ConfigError('/backend', `must be 'rocksdb' or 'memory', got ${JSON.stringify(backend)}`);
  // Validated before touching the disk so a bad config leaves no half-open RocksDB behind.
  const cacheOptions = { maxBytes: cacheBytes, configPath: '/cacheBytes' };
  if (!(typeof cacheBytes === 'number' && cacheBytes > 0 && Number.isFinite(cacheBytes))) {
    throw new ConfigError('/cacheBytes', `must be a finite number > 0, got ${String(cacheBytes)}`);
  }
  const directory = join(options.stateDir, topology, store, String(options.partition));
  await mkdir(directory, { recursive: true });
  const rocks = await openRocksDbStore(directory, { ...options.rocksdb, name });
  return new CachingStore(rocks, cacheOptions);
}

function pathSegment(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(path, 'must be a non-empty name');
  if (/[/\\\0]/.test(value) || value === '.' || value === '..') {
    throw new ConfigError(path, `must be a single path segment (no '/', '\\', NUL, '.' or '..'), got ${JSON.stringify(value)}`);
  }
  return value;
}
