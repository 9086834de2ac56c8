import { afterEach, describe, expect, it } from 'vitest';
import type { ChangedEntry, KeyValueStore } from '../../../src/state/store.js';

/**
 * Behaviour every KeyValueStore must show, run against each implementation so the in-memory
 * backend used by fast tests cannot drift from RocksDB (and the caching wrapper from both).
 */
export function describeKeyValueStoreContract(label: string, openStore: () => Promise<KeyValueStore>): void {
  describe(`KeyValueStore contract: ${label}`, () => {
    const opened: KeyValueStore[] = [];
    const open = async (): Promise<KeyValueStore> => {
      const store = await openStore();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    const b = (text: string): Buffer => Buffer.from(text, 'utf8');
    const text = (value: Buffer | undefined): string | undefined => value?.toString('utf8');
    const collect = async (iterable: AsyncIterable<[Buffer, Buffer]>): Promise<[string, string][]> => {
      const out: [string, string][] = [];
      for await (const [key, value] of iterable) out.push([key.toString('hex'), value.toString('utf8')]);
      return out;
    };

    it('reads back what was put, before and after flush, and reports missing keys as undefined', async () => {
      const store = await open();
      await store.put(b('alpha'), b('1'));
      await store.put(b('beta'), b('2'));
      expect(text(await store.get(b('alpha')))).toBe('1');
      await store.flush(0);
      await store.put(b('beta'), b('2b'));
      expect((await store.getMany([b('beta'), b('missing'), b('alpha'), b('beta')])).map(text)).toEqual(['2b', undefined, '1', '2b']);
      expect(await store.get(b('missing'))).toBeUndefined();
    });

    it('delete hides a key whether or not its value was flushed', async () => {
      const store = await open();
      await store.put(b('kept'), b('k'));
      await store.put(b('gone'), b('g'));
      await store.flush(3);
      await store.delete(b('gone'));
      expect(await store.get(b('gone'))).toBeUndefined();
      await store.flush(4);
      expect(await store.get(b('gone'))).toBeUndefined();
      expect(text(await store.get(b('kept')))).toBe('k');
    });

    it('ranges in byte order over binary keys, honouring gte, lt and limit, across flushed and unflushed writes', async () => {
      const store = await open();
      const keys = [[0xff], [0x00], [0x00, 0x00], [0x7f, 0x01], [0x80], [0x01, 0xff], [0x01]].map((bytes) => Buffer.from(bytes));
      for (const [i, key] of keys.slice(0, 4).entries()) await store.put(key, b(`v${i}`));
      await store.flush(10);
      for (const [i, key] of keys.slice(4).entries()) await store.put(key, b(`v${i + 4}`));
      await store.delete(Buffer.from([0x00, 0x00]));
      await store.put(Buffer.from([0x7f, 0x01]), b('v3-updated'));

      const all = await collect(store.range());
      expect(all.map(([key]) => key)).toEqual(['00', '01', '01ff', '7f01', '80', 'ff']);
      expect(all.find(([key]) => key === '7f01')?.[1]).toBe('v3-updated');

      const middle = await collect(store.range({ gte: Buffer.from([0x01]), lt: Buffer.from([0x80]) }));
      expect(middle.map(([key]) => key)).toEqual(['01', '01ff', '7f01']);
      const limited = await collect(store.range({ gte: Buffer.from([0x01]), limit: 2 }));
      expect(limited.map(([key]) => key)).toEqual(['01', '01ff']);
    });

    it('publishes exactly the changes since the previous flush, deletes as undefined, then records the offset', async () => {
      const store = await open();
      const published: ChangedEntry[][] = [];
      const publish = async (changes: ChangedEntry[]): Promise<void> => {
        published.push(changes);
      };
      expect(await store.appliedOffset()).toBe(-1);
      await store.put(b('a'), b('1'));
      await store.put(b('b'), b('2'));
      await store.put(b('a'), b('1b'));
      await store.flush(100, publish);
      expect(await store.appliedOffset()).toBe(100);
      await store.delete(b('b'));
      await store.put(b('c'), b('3'));
      await store.flush(250, publish);
      expect(await store.appliedOffset()).toBe(250);

      const summary = published.map((changes) => changes.map(({ key, value }) => [key.toString('utf8'), value?.toString('utf8')]).sort());
      expect(summary).toEqual([
        [
          ['a', '1b'],
          ['b', '2'],
        ],
        [
          ['b', undefined],
          ['c', '3'],
        ],
      ]);
    });

    it('keeps the offset and the pending changes when publish throws, and hands them over again next time', async () => {
      const store = await open();
      await store.put(b('a'), b('1'));
      await store.flush(5);
      await store.put(b('b'), b('2'));
      await expect(
        store.flush(6, async () => {
          throw new Error('changelog down');
        }),
      ).rejects.toThrow('changelog down');
      expect(await store.appliedOffset()).toBe(5);
      await store.put(b('c'), b('3'));
      let retried: string[] = [];
      await store.flush(7, async (changes) => {
        retried = changes.map(({ key }) => key.toString('utf8')).sort();
      });
      expect(retried).toEqual(['b', 'c']);
      expect(await store.appliedOffset()).toBe(7);
    });

    it('restore writes entries (deletes included) together with their offset', async () => {
      const store = await open();
      await store.restore(
        [
          { key: b('x'), value: b('10') },
          { key: b('y'), value: b('20') },
          { key: b('x'), value: undefined },
        ],
        42,
      );
      expect(await store.appliedOffset()).toBe(42);
      expect(await store.get(b('x'))).toBeUndefined();
      expect(text(await store.get(b('y')))).toBe('20');
    });

    it('close is idempotent and later use fails with a StateError', async () => {
      const store = await open();
      await store.close();
      await store.close();
      await expect(store.get(b('a'))).rejects.toMatchObject({ code: 'STATE_IO' });
    });
  });
}
