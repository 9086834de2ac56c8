import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { CachingStore } from '../../../src/state/caching-store.js';
import { MemoryStore } from '../../../src/state/memory-store.js';
import { openPartitionStore } from '../../../src/state/open-partition-state.js';
import { tempDirs } from './temp-dirs.js';

const newDir = tempDirs('partition');

describe('openPartitionStore', () => {
  it('opens a cached RocksDB store in stateDir/topology/store/partition that keeps flushed state', async () => {
    const stateDir = join(await newDir(), 'nested', 'state');
    const options = { stateDir, topology: 'recommender', store: 'rows', partition: 3, cacheBytes: 1 << 20 };
    const store = await openPartitionStore(options);
    expect(store).toBeInstanceOf(CachingStore);
    expect(store.name).toBe('recommender/rows/3');
    expect((await stat(join(stateDir, 'recommender', 'rows', '3', 'CURRENT'))).isFile()).toBe(true);
    await store.put(Buffer.from('k'), Buffer.from('v'));
    await store.flush(12);
    await store.close();

    const reopened = await openPartitionStore(options);
    expect(await reopened.appliedOffset()).toBe(12);
    expect((await reopened.get(Buffer.from('k')))?.toString()).toBe('v');
    await reopened.close();
  });

  it('gives each partition its own directory', async () => {
    const stateDir = await newDir();
    const base = { stateDir, topology: 't', store: 's' };
    const [zero, one] = await Promise.all([openPartitionStore({ ...base, partition: 0 }), openPartitionStore({ ...base, partition: 1 })]);
    await zero.put(Buffer.from('k'), Buffer.from('zero'));
    await zero.flush(1);
    expect(await one.get(Buffer.from('k'))).toBeUndefined();
    expect(await one.appliedOffset()).toBe(-1);
    await Promise.all([zero.close(), one.close()]);
  });

  it('opens a memory store without touching the disk', async () => {
    const store = await openPartitionStore({
      stateDir: '/nonexistent/never-created',
      topology: 't',
      store: 's',
      partition: 0,
      backend: 'memory',
    });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.name).toBe('t/s/0');
  });

  it.each([
    [{ topology: '../escape' }, '/topology'],
    [{ topology: '..' }, '/topology'],
    [{ store: 'a/b' }, '/store'],
    [{ store: 'a\\b' }, '/store'],
    [{ store: '' }, '/store'],
    [{ partition: -1 }, '/partition'],
    [{ partition: 1.5 }, '/partition'],
    [{ cacheBytes: 0 }, '/cacheBytes'],
    [{ stateDir: '' }, '/stateDir'],
  ])('rejects %j with a ConfigError at %s', async (override, path) => {
    const error = await openPartitionStore({ stateDir: await newDir(), topology: 't', store: 's', partition: 0, ...override }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
  });
});
