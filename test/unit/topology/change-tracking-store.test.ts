import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/state/memory-store.js';
import { ChangeTrackingStore } from '../../../src/topology/runtime/change-tracking-store.js';

describe('ChangeTrackingStore', () => {
  it('knows whether it was written since the last flush', async () => {
    const store = new ChangeTrackingStore(new MemoryStore('s'));
    expect(store.changed).toBe(false);
    await store.get(Buffer.from('k'));
    expect(store.changed).toBe(false);
    await store.put(Buffer.from('k'), Buffer.from('v'));
    expect(store.changed).toBe(true);
    await store.flush(3);
    expect(store.changed).toBe(false);
    expect(await store.appliedOffset()).toBe(3);
    await store.delete(Buffer.from('k'));
    expect(store.changed).toBe(true);
  });

  it('stays changed when a flush fails, so the next commit retries it', async () => {
    const store = new ChangeTrackingStore(new MemoryStore('s'));
    await store.put(Buffer.from('k'), Buffer.from('v'));
    await expect(
      store.flush(1, async () => {
        throw new Error('changelog unavailable');
      }),
    ).rejects.toThrow('changelog unavailable');
    expect(store.changed).toBe(true);
    expect(await store.appliedOffset()).toBe(-1);
  });
});
