import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, StateError } from '../../../../src/errors.js';
import { CachingStore } from '../../../../src/state/caching-store.js';
import { EmbeddingRowStore, RESIDENT_ROWS_KEPT, rowKey } from '../../../../src/recommender/rows/embedding-row-store.js';
import type { EmbeddingRowStoreConfig } from '../../../../src/recommender/rows/embedding-row-store.js';
import { decodeRecord } from '../../../../src/recommender/rows/embedding-row-codec.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';
import { openRocksDbStore } from '../../../../src/state/rocksdb-store.js';
import type { KeyValueStore } from '../../../../src/state/store.js';
import { tempDirs } from '../../state/temp-dirs.js';

const newDir = tempDirs('rows');
const T0 = 1_700_000_000_000;
const bytesOf = (values: Float32Array): string => Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex');

describe('EmbeddingRowStore', () => {
  const opened: KeyValueStore[] = [];
  const rocks = async (dir?: string): Promise<KeyValueStore> => {
    const store = new CachingStore(await openRocksDbStore(dir ?? (await newDir())), { maxBytes: 1 << 20 });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  it.each(['uniform', 'normal'] as const)(
    'initialises a missing row identically from (key, seed) in two separate stores (%s)',
    async (distribution) => {
      const config: EmbeddingRowStoreConfig = { dim: 16, slotCount: 2, slotInitialValue: 0.1, init: { distribution, scale: 0.5, seed: 7 } };
      const a = new EmbeddingRowStore(await rocks(), config);
      const b = new EmbeddingRowStore(new MemoryStore(), config);
      const keys = [rowKey('user', 'u1'), rowKey('feature', 'tool=git×domain=web')];
      const [rowsA, rowsB] = [await a.getRows(keys, T0), await b.getRows(keys, T0 + 5)];
      for (let i = 0; i < keys.length; i++) {
        expect(bytesOf(rowsA[i]!.values)).toBe(bytesOf(rowsB[i]!.values));
        expect(rowsA[i]!.values.some((value) => value !== 0)).toBe(true);
        expect(Array.from(rowsA[i]!.slots)).toEqual(new Array(32).fill(Math.fround(0.1)));
      }
      expect(bytesOf(rowsA[0]!.values)).not.toBe(bytesOf(rowsA[1]!.values));
      const bound = distribution === 'uniform' ? 0.5 : 0.5 * 6;
      expect(rowsA.every((row) => row!.values.every((value) => Math.abs(value) <= bound))).toBe(true);

      const otherSeed = new EmbeddingRowStore(new MemoryStore(), { ...config, init: { ...config.init, seed: 8 } });
      const [reseeded] = await otherSeed.getRows([keys[0]], T0);
      expect(bytesOf(reseeded!.values)).not.toBe(bytesOf(rowsA[0]!.values));
    },
  );

  it('spreads uniform initial values over ±scale rather than clustering', async () => {
    const rows = new EmbeddingRowStore(new MemoryStore(), { dim: 64, init: { scale: 1 } });
    const keys = Array.from({ length: 200 }, (_, i) => rowKey('user', `user-${i}`));
    const values = (await rows.getRows(keys, T0)).flatMap((row) => Array.from(row!.values));
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(variance).toBeGreaterThan(1 / 3 - 0.02);
    expect(variance).toBeLessThan(1 / 3 + 0.02);
    expect(new Set(values).size).toBeGreaterThan(values.length * 0.99);
  });

  it('persists updates made through putRows, and returns one shared object for a key repeated in a call', async () => {
    const dir = await newDir();
    const kv = await rocks(dir);
    const rows = new EmbeddingRowStore(kv, { dim: 4, slotCount: 1 });
    const key = rowKey('user', 'u42');
    const [first, again] = await rows.getRows([key, key], T0);
    expect(first).toBe(again);
    first!.values.set([1, 2, 3, 4]);
    first!.slots.set([0.5, 0.5, 0.5, 0.5]);
    await rows.putRows([first!]);
    await rows.writeBack();
    await kv.flush(10);
    await kv.close();

    const reopened = new EmbeddingRowStore(await rocks(dir), { dim: 4, slotCount: 1 });
    const [loaded] = await reopened.getRows([key], T0 + 1000);
    expect(Array.from(loaded!.values)).toEqual([1, 2, 3, 4]);
    expect(Array.from(loaded!.slots)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(loaded!.seenCount).toBe(3);
    expect(loaded!.lastTouchedMs).toBe(T0 + 1000);
    expect(reopened.counters.created).toBe(0);
  });

  it('keeps rows decoded between calls and puts each changed row into the store once, at writeBack', async () => {
    const kv = new MemoryStore();
    const rows = new EmbeddingRowStore(kv, { dim: 4, slotCount: 1 });
    const key = rowKey('user', 'u1');
    const [row] = await rows.getRows([key], T0);
    row!.values.set([1, 2, 3, 4]);
    await rows.putRows([row!]);
    const [again] = await rows.getRows([key], T0 + 1);
    expect(again).toBe(row); // no bytes in between: the same object, with its update
    expect(await kv.get(key)).toBeUndefined(); // created and put, but not written back yet
    expect(rows.pendingCount).toBe(1);

    again!.values[0] = 5;
    await rows.putRows([again!]);
    await rows.writeBack();
    expect(rows.pendingCount).toBe(0);
    const record = decodeRecord((await kv.get(key))!, key);
    expect(Array.from(record.data!.subarray(0, 4))).toEqual([5, 2, 3, 4]);
    expect(record.seenCount).toBe(2);
    expect(record.lastTouchedMs).toBe(T0 + 1);
  });

  it('residentRows serves and stamps resident live rows like getRows, and touches nothing when any key needs the store', async () => {
    const rows = new EmbeddingRowStore(new MemoryStore(), { dim: 4, slotCount: 1, ttlMs: 1000 });
    const [u1, u2] = [rowKey('user', 'u1'), rowKey('user', 'u2')];
    const [row1] = await rows.getRows([u1], T0);
    expect(rows.residentRows([u1, u2], T0 + 1)).toBeUndefined(); // u2 was never read
    expect([row1!.seenCount, row1!.lastTouchedMs]).toEqual([1, T0]); // so u1 was not stamped
    const [row2] = await rows.getRows([u2], T0 + 2);
    const served = rows.residentRows([u1, u2, u1], T0 + 3)!;
    expect(served).toEqual([row1, row2, row1]);
    expect(served[0]).toBe(row1);
    expect([row1!.seenCount, row1!.lastTouchedMs, row2!.seenCount]).toEqual([3, T0 + 3, 2]);
    // Past the ttl the row must go through getRows, which expires it.
    expect(rows.residentRows([u1], T0 + 3 + 1001)).toBeUndefined();
    expect(row1!.seenCount).toBe(3);
    const [fresh] = await rows.getRows([u1], T0 + 3 + 1001);
    expect(fresh).not.toBe(row1);
    expect(rows.counters.expired).toBe(1);
  });

  it('serves what another writer put into the store only after forgetResident, and refuses to forget unwritten rows', async () => {
    const kv = new MemoryStore();
    const rows = new EmbeddingRowStore(kv, { dim: 4 });
    const key = rowKey('feature', 'shared');
    const [row] = await rows.getRows([key], T0);
    await rows.putRows([row!]);
    expect(() => rows.forgetResident()).toThrow(StateError);
    await rows.writeBack();

    // Another writer (model sync) rewrites the row's values in the store.
    const other = new EmbeddingRowStore(kv, { dim: 4 });
    const [copy] = await other.getRows([key], T0);
    copy!.values.fill(7);
    await other.putRows([copy!]);
    await other.writeBack();

    expect(Array.from((await rows.getRows([key], T0))[0]!.values)).not.toContain(7);
    rows.forgetResident();
    expect(Array.from((await rows.getRows([key], T0))[0]!.values)).toEqual([7, 7, 7, 7]);
  });

  it('bounds its resident rows, and a row handed out before they were dropped stays the one served once put', async () => {
    const kv = new MemoryStore();
    const rows = new EmbeddingRowStore(kv, { dim: 2 });
    const kept = rowKey('user', 'kept');
    const many = Array.from({ length: RESIDENT_ROWS_KEPT }, (_, i) => rowKey('feature', `f${i}`));
    const [keptRow, before] = await rows.getRows([kept, ...many], T0);
    await rows.putRows([keptRow!]);
    // Past the bound: the next read writes every changed row back and drops the decoded copies.
    await rows.getRows([rowKey('user', 'next')], T0 + 1);
    expect(rows.pendingCount).toBe(1); // only the row created by that read
    expect(await kv.get(kept)).toBeDefined();
    expect(await kv.get(many[0])).toBeDefined();
    const [after] = await rows.getRows([many[0]], T0 + 2);
    expect(after).not.toBe(before);
    expect(bytesOf(after!.values)).toBe(bytesOf(before!.values));

    // keptRow was handed out before the drop and is updated after it: it must not be decoded
    // afresh from the bytes its update is about to overwrite.
    keptRow!.values.fill(3);
    await rows.putRows([keptRow!]);
    expect((await rows.getRows([kept], T0 + 3))[0]).toBe(keptRow);
  });

  it('holds a feature back until its minCount-th sighting, counting across calls and restarts, per namespace', async () => {
    const dir = await newDir();
    const config: EmbeddingRowStoreConfig = { dim: 8, namespaces: { feature: { minCount: 3 } } };
    const kv = await rocks(dir);
    const rows = new EmbeddingRowStore(kv, config);
    const feature = rowKey('feature', 'repo=rare');
    const user = rowKey('user', 'new-user');

    const [firstFeature, firstUser] = await rows.getRows([feature, user], T0);
    expect(firstFeature).toBeUndefined();
    expect(firstUser).toBeDefined(); // users keep the default minCount of 1
    expect(await rows.getRows([feature], T0 + 1)).toEqual([undefined]);
    expect(rows.counters).toEqual({ created: 1, expired: 0, filtered: 2 });
    await kv.flush(1);
    await kv.close();

    const restarted = new EmbeddingRowStore(await rocks(dir), config);
    const [admitted] = await restarted.getRows([feature], T0 + 2);
    expect(admitted).toBeDefined();
    expect(admitted!.seenCount).toBe(3);
    expect(restarted.counters).toEqual({ created: 1, expired: 0, filtered: 0 });

    const fresh = new EmbeddingRowStore(new MemoryStore(), config);
    const [one, two, sameInit] = await fresh.getRows([rowKey('feature', 'repo=rare'), feature, feature], T0);
    expect([one, two]).toEqual([undefined, undefined]);
    expect(sameInit).toBeDefined(); // the third sighting in one call admits it too
    expect(bytesOf(sameInit!.values)).toBe(bytesOf(admitted!.values));
  });

  it('expires rows untouched past their namespace ttl, on read and by scan, and counts them', async () => {
    const kv = new MemoryStore();
    const rows = new EmbeddingRowStore(kv, { dim: 4, ttlMs: 1000, namespaces: { user: { ttlMs: 10_000 } } });
    const stale = rowKey('feature', 'stale');
    const scanned = rowKey('feature', 'scanned');
    const user = rowKey('user', 'u');
    const created = await rows.getRows([stale, scanned, user], T0);
    created[0]!.values.fill(9);
    await rows.putRows(created.map((row) => row!));

    // On read: the stale row is dropped and comes back freshly initialised, not with its 9s.
    const [reborn] = await rows.getRows([stale], T0 + 1500);
    expect(Array.from(reborn!.values)).not.toContain(9);
    expect(rows.counters.expired).toBe(1);

    // By scan: 'scanned' is past the feature ttl, the user row is within its longer ttl.
    expect(await rows.expire(T0 + 2000)).toBe(1);
    expect(rows.counters).toMatchObject({ expired: 2, created: 4 });
    expect(await kv.get(scanned)).toBeUndefined();
    expect(await kv.get(user)).toBeDefined();
    expect(await kv.get(stale)).toBeDefined();
    expect(await rows.expire(T0 + 20_000)).toBe(2);
    expect(await kv.get(user)).toBeUndefined();
  });

  it('sweeps by scan only its own records: values of another shape sharing the store stay', async () => {
    const kv = new MemoryStore();
    const rows = new EmbeddingRowStore(kv, { dim: 4, ttlMs: 1000 });
    // A foreign value whose first bytes read as an old row header (kind 1, lastTouched 0).
    const foreign = Buffer.alloc(40);
    foreign[0] = 1;
    await kv.put(rowKey('model', 'dense'), foreign);
    const [row] = await rows.getRows([rowKey('user', 'u')], T0);
    await rows.putRows([row!]);
    expect(await rows.expire(T0 + 5000)).toBe(1);
    expect(await kv.get(rowKey('user', 'u'))).toBeUndefined();
    expect((await kv.get(rowKey('model', 'dense')))?.equals(foreign)).toBe(true);
  });

  it('spaces expiry sweeps a quarter of the shortest finite ttl apart', () => {
    expect(new EmbeddingRowStore(new MemoryStore(), { dim: 4 }).expirySweepIntervalMs).toBe(Infinity);
    const rows = new EmbeddingRowStore(new MemoryStore(), {
      dim: 4,
      ttlMs: 8000,
      namespaces: { user: { ttlMs: 4000 }, model: { ttlMs: Infinity } },
    });
    expect(rows.expirySweepIntervalMs).toBe(1000);
  });

  it('forgets held-back sightings once they are older than the ttl', async () => {
    const rows = new EmbeddingRowStore(new MemoryStore(), { dim: 4, minCount: 2, ttlMs: 1000 });
    const key = rowKey('feature', 'f');
    expect(await rows.getRows([key], T0)).toEqual([undefined]);
    expect(await rows.getRows([key], T0 + 5000)).toEqual([undefined]);
    expect(await rows.getRows([key], T0 + 5001)).not.toEqual([undefined]);
  });

  it('refuses rows stored with another dim or slot count with STATE_CORRUPT', async () => {
    const kv = new MemoryStore();
    const key = rowKey('user', 'u');
    const narrow = new EmbeddingRowStore(kv, { dim: 4 });
    await narrow.putRows((await narrow.getRows([key], T0)).map((row) => row!));
    await narrow.writeBack();
    const wide = new EmbeddingRowStore(kv, { dim: 8 });
    const error = await wide.getRows([key], T0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect(error).toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it.each([
    [{ dim: 0 }, '/state/dim'],
    [{ dim: 2.5 }, '/state/dim'],
    [{ dim: 8, slotCount: -1 }, '/state/slotCount'],
    [{ dim: 8, minCount: 0 }, '/state/minCount'],
    [{ dim: 8, ttlMs: 0 }, '/state/ttlMs'],
    [{ dim: 8, init: { scale: Number.NaN } }, '/state/init/scale'],
    [{ dim: 8, init: { seed: -1 } }, '/state/init/seed'],
    [{ dim: 8, namespaces: { feature: { minCount: 1.5 } } }, '/state/namespaces/feature/minCount'],
  ] as [EmbeddingRowStoreConfig, string][])('rejects %j with a ConfigError at %s', (config, path) => {
    const error = (() => {
      try {
        new EmbeddingRowStore(new MemoryStore(), config);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
  });
});
