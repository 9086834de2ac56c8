import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { openTaskStore } from '../../../src/topology/runtime/open-task-store.js';
import { resolveRunnerConfig } from '../../../src/topology/runtime/runner-config.js';
import { batchStep } from '../../../src/topology/step.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import type { StoreSpec } from '../../../src/topology/types.js';

const withStores = (stores: StoreSpec[]) =>
  topology('cached')
    .from('in', { topic: 'cached.in', partitions: 1 })
    .step(
      batchStep<RawRecord, Buffer>(
        'keep',
        'keep',
        () => (batch) => ({
          partition: batch.partition,
          records: batch.records.map((r) => ({ meta: r.meta, value: r.value.value ?? Buffer.alloc(0) })),
        }),
        { stores },
      ),
    )
    .to('out', { topic: 'cached.out', serde: bytesSerde() });

describe('a store’s write-back cache', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('is the runtime’s cacheBytes, or the store’s maxCacheBytes where that is smaller', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'agentrec-task-store-'));
    dirs.push(stateDir);
    const t = withStores([{ name: 'small', maxCacheBytes: 4096 }, { name: 'large', maxCacheBytes: 1 << 30 }, { name: 'plain' }]);
    const config = resolveRunnerConfig('cached', { stateDir, cacheBytes: 64 * 1024 });
    const value = Buffer.alloc(8 * 1024, 1);
    // A cache asks for a commit once its dirty bytes reach its bound: that is what shows the bound.
    const dirtyPastBound = async (name: string, puts: number) => {
      const store = await openTaskStore(t, name, 0, config);
      try {
        for (let i = 0; i < puts; i++) await store.put(Buffer.from(`k${i}`), value);
        return store.needsFlush?.() ?? false;
      } finally {
        await store.close();
      }
    };
    expect(await dirtyPastBound('small', 1)).toBe(true);
    expect(await dirtyPastBound('plain', 1)).toBe(false);
    expect(await dirtyPastBound('plain', 8)).toBe(true);
    expect(await dirtyPastBound('large', 1)).toBe(false);
    expect(await dirtyPastBound('large', 8)).toBe(true);
  });

  it('refuses a maxCacheBytes that is not an integer of at least 1 KiB, naming the store', () => {
    expect(() => withStores([{ name: 'tiny', maxCacheBytes: 10 }])).toThrow(ConfigError);
    expect(() => withStores([{ name: 'tiny', maxCacheBytes: 1.5e6 + 0.5 }])).toThrow(/\/steps\/keep\/stores\/tiny\/maxCacheBytes/);
  });
});
