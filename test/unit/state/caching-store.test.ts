import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { CachingStore, CLEAN_ENTRY_OVERHEAD_BYTES } from '../../../src/state/caching-store.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import { openRocksDbStore } from '../../../src/state/rocksdb-store.js';
import type { KeyValueStore } from '../../../src/state/store.js';
import { describeKeyValueStoreContract } from './key-value-store-contract.js';
import { tempDirs } from './temp-dirs.js';
import { ValueArena } from '../../../src/state/value-arena.js';

const newDir = tempDirs('caching');
const b = (text: string): Buffer => Buffer.from(text, 'utf8');

// A 1-byte bound evicts every clean entry at once, so these runs exercise the pinned dirty
// path and the read-through path on every call.
describeKeyValueStoreContract(
  'CachingStore over RocksDbStore (1-byte bound)',
  async () => new CachingStore(await openRocksDbStore(await newDir()), { maxBytes: 1 }),
);
describeKeyValueStoreContract(
  'CachingStore over MemoryStore (1 MiB bound)',
  async () => new CachingStore(new MemoryStore('inner'), { maxBytes: 1 << 20 }),
);

/** Records what reaches the inner store. */
class SpyStore extends MemoryStore {
  getManyCalls: string[][] = [];
  puts = 0;
  override async getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    this.getManyCalls.push(keys.map((key) => key.toString()));
    return super.getMany(keys);
  }
  override async put(key: Buffer, value: Buffer): Promise<void> {
    this.puts++;
    return super.put(key, value);
  }
}

describe('CachingStore', () => {
  const closeLater: KeyValueStore[] = [];
  afterEach(async () => {
    await Promise.all(closeLater.splice(0).map((store) => store.close()));
  });

  it('keeps every dirty entry through flush under a tiny bound, and lands them with the offset in RocksDB', async () => {
    const dir = await newDir();
    const cache = new CachingStore(await openRocksDbStore(dir), { maxBytes: 1000 });
    const count = 500;
    for (let i = 0; i < count; i++) await cache.put(b(`row-${i}`), b(`value-${i}`));
    expect(cache.needsFlush()).toBe(true);
    const values = await cache.getMany(Array.from({ length: count }, (_, i) => b(`row-${i}`)));
    expect(values.every((value, i) => value?.toString() === `value-${i}`)).toBe(true);

    let published = 0;
    await cache.flush(77, async (changes) => {
      published = changes.length;
    });
    expect(published).toBe(count);
    expect(cache.needsFlush()).toBe(false);
    expect(cache.cachedBytes.clean + cache.cachedBytes.dirty).toBeLessThanOrEqual(1000);
    await cache.close();

    const reopened = await openRocksDbStore(dir);
    closeLater.push(reopened);
    expect(await reopened.appliedOffset()).toBe(77);
    const stored = await reopened.getMany(Array.from({ length: count }, (_, i) => b(`row-${i}`)));
    expect(stored.filter((value, i) => value?.toString() === `value-${i}`)).toHaveLength(count);
  });

  it('keeps its arena near the bound when values keep growing, as a per-user history does', async () => {
    const bound = 256 * 1024;
    const cache = new CachingStore(new MemoryStore('inner'), { maxBytes: bound });
    // 200 users whose entries grow 16 bytes per write: every write is a new slot size.
    for (let round = 0; round < 300; round++) {
      for (let user = 0; user < 200; user++) await cache.put(b(`user-${user}`), Buffer.alloc(64 + 16 * round, round & 0xff));
      await cache.flush(round, async () => {});
    }
    expect(cache.cachedBytes.arena).toBeLessThanOrEqual(2 * bound + 2 * ValueArena.SLAB_BYTES);
    expect((await cache.get(b('user-7')))!.equals(Buffer.alloc(64 + 16 * 299, 299 & 0xff))).toBe(true);
  });

  it('does not write dirty entries to the inner store before flush', async () => {
    const inner = new SpyStore();
    const cache = new CachingStore(inner, { maxBytes: 1 });
    await cache.put(b('a'), b('1'));
    await cache.put(b('b'), b('2'));
    expect(inner.puts).toBe(0);
    expect(await inner.get(b('a'))).toBeUndefined();
    await cache.flush(1);
    expect(inner.puts).toBe(2);
    expect((await inner.get(b('a')))?.toString()).toBe('1');
  });

  it('batches the misses of a getMany into one deduplicated inner getMany and serves hits itself', async () => {
    const inner = new SpyStore();
    await inner.put(b('a'), b('1'));
    await inner.put(b('b'), b('2'));
    const cache = new CachingStore(inner, { maxBytes: 1 << 20 });
    await cache.put(b('dirty'), b('d'));

    const first = await cache.getMany([b('a'), b('b'), b('a'), b('absent'), b('dirty')]);
    expect(first.map((v) => v?.toString())).toEqual(['1', '2', '1', undefined, 'd']);
    expect(inner.getManyCalls).toEqual([['a', 'b', 'absent']]);

    const second = await cache.getMany([b('b'), b('absent'), b('a')]);
    expect(second.map((v) => v?.toString())).toEqual(['2', undefined, '1']);
    expect(inner.getManyCalls).toHaveLength(1);
  });

  it('evicts the least recently used clean entry when over its byte bound', async () => {
    const inner = new SpyStore();
    for (const key of ['a', 'b', 'c', 'd']) await inner.put(b(key), Buffer.alloc(100));
    const entryBytes = 1 + ValueArena.slotBytes(100) + CLEAN_ENTRY_OVERHEAD_BYTES;
    const cache = new CachingStore(inner, { maxBytes: entryBytes * 3 });
    await cache.get(b('a'));
    await cache.get(b('b'));
    await cache.get(b('c'));
    await cache.get(b('a')); // a is now more recent than b
    await cache.get(b('d')); // over the bound: b goes
    inner.getManyCalls = [];
    await cache.getMany([b('a'), b('c'), b('d')]);
    expect(inner.getManyCalls).toEqual([]);
    await cache.get(b('b'));
    expect(inner.getManyCalls).toEqual([['b']]);
  });

  it('never evicts dirty entries, however far past the bound they go', async () => {
    const inner = new SpyStore();
    const cache = new CachingStore(inner, { maxBytes: 10 });
    for (let i = 0; i < 50; i++) await cache.put(b(`k${i}`), Buffer.alloc(64, i));
    expect(cache.cachedBytes.dirty).toBeGreaterThan(10);
    const values = await cache.getMany(Array.from({ length: 50 }, (_, i) => b(`k${i}`)));
    expect(values.map((value) => value?.[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(inner.getManyCalls).toEqual([]);
  });

  // RocksDbStore takes the dirty set in one flushWith call, MemoryStore by put() per entry.
  it.each([
    ['flushWith (RocksDbStore)', async (): Promise<KeyValueStore> => openRocksDbStore(await newDir())],
    ['put per entry (MemoryStore)', async (): Promise<KeyValueStore> => new SpyStore()],
  ])('keeps entries dirty when the inner flush fails, so a retry publishes them again: %s', async (_, openInner) => {
    const inner = await openInner();
    const cache = new CachingStore(inner, { maxBytes: 1 << 20 });
    closeLater.push(cache);
    await cache.put(b('x'), b('1'));
    await expect(
      cache.flush(1, async () => {
        throw new Error('no changelog');
      }),
    ).rejects.toThrow('no changelog');
    expect(cache.cachedBytes.dirty).toBeGreaterThan(0);
    let republished: string[] = [];
    await cache.flush(2, async (changes) => {
      republished = changes.map(({ key }) => key.toString());
    });
    expect(republished).toEqual(['x']);
    expect(await cache.appliedOffset()).toBe(2);
  });

  it('rejects a non-positive bound with a ConfigError naming the path', () => {
    expect(() => new CachingStore(new MemoryStore(), { maxBytes: 0, configPath: '/state/cacheBytes' })).toThrow(ConfigError);
    expect(() => new CachingStore(new MemoryStore(), { maxBytes: -5, configPath: '/state/cacheBytes' })).toThrow(/\/state\/cacheBytes/);
  });

  it('evicts with the clean entry cost it accounts (key + arena slot + overhead)', async () => {
    const inner = new SpyStore();
    for (const key of ['a', 'b', 'c']) await inner.put(b(key), Buffer.alloc(100));
    const entryBytes = 1 + ValueArena.slotBytes(100) + CLEAN_ENTRY_OVERHEAD_BYTES;
    const cache = new CachingStore(inner, { maxBytes: entryBytes * 2 });
    await cache.getMany([b('a'), b('b')]);
    expect(cache.cachedBytes.clean).toBe(entryBytes * 2);
    await cache.get(b('c')); // a goes
    inner.getManyCalls = [];
    await cache.getMany([b('b'), b('c')]);
    expect(inner.getManyCalls).toEqual([]);
    await cache.get(b('a'));
    expect(inner.getManyCalls).toEqual([['a']]);
  });

  it('keeps its slabs to what the bound needs while clean entries churn', async () => {
    const rows = 20_000;
    const inner = {
      name: 'generated',
      async getMany(keys: Buffer[]) {
        return keys.map((key) => Buffer.alloc(272, key[key.length - 1]));
      },
    };
    const cache = new CachingStore(inner as unknown as KeyValueStore, { maxBytes: 256 * 1024 });
    for (let i = 0; i < rows; i += 100) {
      const keys = Array.from({ length: 100 }, (_, j) => b(`user-${i + j}`));
      const values = await cache.getMany(keys);
      expect(values.every((value, j) => value?.[0] === keys[j][keys[j].length - 1])).toBe(true);
    }
    // 20k × 288-byte slots would be 5.5 MiB without slot reuse; the bound needs one slab.
    expect(cache.cachedBytes.arena).toBe(ValueArena.SLAB_BYTES);
    expect(cache.cachedBytes.clean).toBeLessThanOrEqual(256 * 1024);
  });

  it('serves values too long for the arena as they are', async () => {
    const inner = new SpyStore();
    const long = Buffer.alloc(ValueArena.MAX_VALUE_BYTES + 1, 7);
    await inner.put(b('long'), long);
    const cache = new CachingStore(inner, { maxBytes: 1 << 20 });
    await cache.get(b('long'));
    const again = await cache.get(b('long'));
    expect(again?.equals(long)).toBe(true);
    expect(inner.getManyCalls).toHaveLength(1);
    expect(cache.cachedBytes.arena).toBe(0);
  });

  it('accounts for what a clean entry really costs in heap and native memory (within 15 %)', async () => {
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const measure = (): number => {
      gc();
      gc();
      const { heapUsed, external } = process.memoryUsage();
      return heapUsed + external;
    };
    const entries = 50_000;
    const inner = {
      name: 'generated',
      async getMany(keys: Buffer[]) {
        return keys.map(() => Buffer.alloc(272, 1));
      },
    };
    const keys = Array.from({ length: entries }, (_, i) => b(`user\u0000user-${1_000_000 + i}`));
    const cache = new CachingStore(inner as unknown as KeyValueStore, { maxBytes: 1 << 30 });
    const before = measure();
    for (let i = 0; i < entries; i += 500) await cache.getMany(keys.slice(i, i + 500));
    const actual = (measure() - before) / entries;
    const accounted = cache.cachedBytes.clean / entries;
    expect(actual / accounted).toBeGreaterThan(0.85);
    expect(actual / accounted).toBeLessThan(1.15);
  });
});
