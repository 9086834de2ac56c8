import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateError } from '../../../src/errors.js';
import { openRocksDbStore } from '../../../src/state/rocksdb-store.js';
import type { RocksDbStore } from '../../../src/state/rocksdb-store.js';
import { describeKeyValueStoreContract } from './key-value-store-contract.js';
import { tempDirs } from './temp-dirs.js';

const newDir = tempDirs('rocksdb');
const b = (text: string): Buffer => Buffer.from(text, 'utf8');

describeKeyValueStoreContract('RocksDbStore', async () => openRocksDbStore(await newDir()));

describe('RocksDbStore durability', () => {
  const opened: RocksDbStore[] = [];
  const open = async (dir: string, options = {}): Promise<RocksDbStore> => {
    const store = await openRocksDbStore(dir, options);
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  it('after reopening holds exactly what was flushed and its offset; writes after the last flush are gone', async () => {
    const dir = await newDir();
    const first = await open(dir);
    await first.put(b('flushed'), b('yes'));
    await first.put(b('overwritten'), b('old'));
    await first.flush(17);
    await first.put(b('overwritten'), b('new-unflushed'));
    await first.put(b('unflushed'), b('lost'));
    await first.delete(b('flushed'));
    await first.close();

    const reopened = await open(dir);
    expect(await reopened.appliedOffset()).toBe(17);
    expect((await reopened.getMany([b('flushed'), b('overwritten'), b('unflushed')])).map((v) => v?.toString())).toEqual([
      'yes',
      'old',
      undefined,
    ]);
  });

  it('runs publish before writing the batch, and writes nothing when publish throws', async () => {
    const dir = await newDir();
    const store = await open(dir);
    await store.put(b('a'), b('1'));
    await store.flush(1);
    await store.put(b('b'), b('2'));

    let seenDuringPublish: { offset: number; b: string | undefined } | undefined;
    await store.flush(2, async () => {
      // A read-only view sees only what is on disk: the batch must not have landed yet.
      const onDisk = await openRocksDbStore(dir, { readOnly: true });
      seenDuringPublish = { offset: await onDisk.appliedOffset(), b: (await onDisk.get(b('b')))?.toString() };
      await onDisk.close();
    });
    expect(seenDuringPublish).toEqual({ offset: 1, b: undefined });

    await store.put(b('c'), b('3'));
    await expect(
      store.flush(3, async () => {
        throw new Error('changelog unavailable');
      }),
    ).rejects.toThrow('changelog unavailable');
    await store.close();

    const reopened = await open(dir);
    expect(await reopened.appliedOffset()).toBe(2);
    expect((await reopened.get(b('b')))?.toString()).toBe('2');
    expect(await reopened.get(b('c'))).toBeUndefined();
  });

  it('flushWith writes its entries after the buffered ones, publishes both in that order, and nothing when publish throws', async () => {
    const dir = await newDir();
    const store = await open(dir);
    await store.put(b('gone'), b('here until deleted'));
    await store.flush(1);
    await store.put(b('k'), b('buffered'));
    await expect(
      store.flushWith([{ key: b('x'), value: b('never') }], 2, async () => {
        throw new Error('changelog unavailable');
      }),
    ).rejects.toThrow('changelog unavailable');

    const published: [string, string | undefined][] = [];
    const writes = [
      { key: b('k'), value: b('handed over') },
      { key: b('gone'), value: undefined },
      { key: b('fresh'), value: b('new') },
    ];
    await store.flushWith(writes, 3, async (changes) => {
      published.push(...changes.map((c): [string, string | undefined] => [c.key.toString(), c.value?.toString()]));
    });
    expect(published).toEqual([
      ['k', 'buffered'],
      ['k', 'handed over'],
      ['gone', undefined],
      ['fresh', 'new'],
    ]);
    await store.close();

    const reopened = await open(dir);
    expect(await reopened.appliedOffset()).toBe(3);
    expect((await reopened.getMany([b('k'), b('gone'), b('fresh'), b('x')])).map((v) => v?.toString())).toEqual([
      'handed over',
      undefined,
      'new',
      undefined,
    ]);
  });

  it('created empty, answers keys it never wrote without reading RocksDB, and finds every key it wrote', async () => {
    const dir = await newDir();
    const store = await open(dir);
    expect(await store.getMany([b('never-1'), b('never-2')])).toEqual([undefined, undefined]);
    expect(store.diskReads).toBe(0);
    await store.put(b('a'), b('1'));
    await store.flush(1);
    await store.flushWith([{ key: b('b'), value: b('2') }], 2);
    expect((await store.getMany([b('a'), b('b'), b('never-3')])).map((v) => v?.toString())).toEqual(['1', '2', undefined]);
    expect(store.diskReads).toBe(1);
    await store.close();

    // Opened with state on disk it cannot know what is there: every miss reads RocksDB.
    const reopened = await open(dir);
    expect(await reopened.get(b('never-1'))).toBeUndefined();
    expect(reopened.diskReads).toBe(1);
  });

  it('past its written-keys capacity drops the filter and still finds every key', async () => {
    const store = await open(await newDir(), { writtenKeysFilterCapacity: 2 });
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) await store.flushWith([{ key: b(name), value: b(`v${i}`) }], i);
    expect((await store.getMany([b('a'), b('b'), b('c'), b('d')])).map((v) => v?.toString())).toEqual(['v0', 'v1', 'v2', 'v3']);
    expect(await store.get(b('never'))).toBeUndefined();
    expect(store.diskReads).toBe(2);
  });

  it('keeps user keys apart from its metadata, whatever bytes they start with', async () => {
    const dir = await newDir();
    const store = await open(dir);
    const lookalikes = [Buffer.from([0x00]), Buffer.from('\u0000appliedOffset', 'latin1'), Buffer.alloc(0), Buffer.from([0x01])];
    for (const [i, key] of lookalikes.entries()) await store.put(key, Buffer.from(`value-${i}`));
    await store.flush(9);
    await store.close();

    const reopened = await open(dir);
    expect(await reopened.appliedOffset()).toBe(9);
    const keys: string[] = [];
    for await (const [key] of reopened.range()) keys.push(key.toString('hex'));
    expect(keys).toEqual(['', '00', '00' + Buffer.from('appliedOffset').toString('hex'), '01']);
  });

  it('restore is atomic with its offset and survives reopen', async () => {
    const dir = await newDir();
    const store = await open(dir);
    await store.restore([{ key: b('r'), value: b('restored') }], 1234);
    await store.close();
    const reopened = await open(dir);
    expect(await reopened.appliedOffset()).toBe(1234);
    expect((await reopened.get(b('r')))?.toString()).toBe('restored');
  });

  it('reports needsFlush once buffered bytes reach its bound', async () => {
    const store = await open(await newDir(), { bufferBytes: 2000 });
    expect(store.needsFlush()).toBe(false);
    for (let i = 0; i < 10 && !store.needsFlush(); i++) await store.put(b(`k${i}`), Buffer.alloc(300));
    expect(store.needsFlush()).toBe(true);
    await store.flush(0);
    expect(store.needsFlush()).toBe(false);
  });

  it('refuses a directory another open store holds with STATE_LOCKED naming the directory', async () => {
    const dir = await newDir();
    await open(dir);
    const error = await openRocksDbStore(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect(error).toMatchObject({ code: 'STATE_LOCKED', directory: dir });
    expect((error as Error).message).toContain(dir);
  });

  it.each(['CURRENT', 'MANIFEST', 'sst'])('refuses a directory with a damaged %s file with STATE_CORRUPT naming it', async (target) => {
    const dir = await newDir();
    const store = await openRocksDbStore(dir);
    for (let i = 0; i < 200; i++) await store.put(b(`key-${i}`), Buffer.alloc(100, i));
    await store.flush(1);
    await store.close();
    // Reopening flushes the WAL into a table file, so there is an .sst to damage.
    await (await openRocksDbStore(dir)).close();
    const files = await readdir(dir);
    const victim = files.find((file) =>
      target === 'CURRENT' ? file === 'CURRENT' : target === 'MANIFEST' ? file.startsWith('MANIFEST-') : file.endsWith('.sst'),
    );
    expect(victim, `no ${target} file among ${files.join(', ')}`).toBeDefined();
    await writeFile(join(dir, victim as string), Buffer.alloc(512, 0x5a));

    const error = await openRocksDbStore(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect(error).toMatchObject({ code: 'STATE_CORRUPT', directory: dir });
    expect((error as Error).message).toContain(dir);
  });

  it('close is idempotent and releases the lock', async () => {
    const dir = await newDir();
    const store = await openRocksDbStore(dir);
    await Promise.all([store.close(), store.close()]);
    await store.close();
    const again = await open(dir);
    expect(await again.appliedOffset()).toBe(-1);
  });
});

describe('RocksDbStore memory report', () => {
  it('reports buffered writes until the flush, then RocksDB memtables holding them; nothing once closed', async () => {
    const store = await openRocksDbStore(await newDir());
    try {
      const empty = store.memoryUsage();
      const value = Buffer.alloc(1000, 7);
      for (let i = 0; i < 200; i++) await store.put(b(`key-${i}`), value);
      const buffered = store.memoryUsage();
      expect(buffered.unflushed_writes).toBeGreaterThanOrEqual(200 * 1000);
      await store.flush(1);
      const flushed = store.memoryUsage();
      expect(flushed.unflushed_writes).toBe(0);
      expect(flushed.rocksdb_memtables).toBeGreaterThan((empty.rocksdb_memtables ?? 0) + 200 * 1000);
      expect(flushed.rocksdb_block_cache).toBeGreaterThanOrEqual(0);
      expect(flushed.rocksdb_table_readers).toBeGreaterThanOrEqual(0);
    } finally {
      await store.close();
    }
    expect(store.memoryUsage()).toEqual({});
  });
});
