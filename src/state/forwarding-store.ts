import type { ChangedEntry, KeyValueStore, StoreMemory } from './store.js';

/**
 * Passes every call to the store it wraps. Wrappers that change one or two operations (change
 * tracking, metering, test fault injection) extend it and override only those.
 */
export class ForwardingStore implements KeyValueStore {
  readonly name: string;

  constructor(readonly inner: KeyValueStore) {
    this.name = inner.name;
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.inner.get(key);
  }

  getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    return this.inner.getMany(keys);
  }

  put(key: Buffer, value: Buffer): Promise<void> {
    return this.inner.put(key, value);
  }

  delete(key: Buffer): Promise<void> {
    return this.inner.delete(key);
  }

  range(options?: { gte?: Buffer; lt?: Buffer; limit?: number }): AsyncIterable<[Buffer, Buffer]> {
    return this.inner.range(options);
  }

  flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    return this.inner.flush(appliedOffset, publish);
  }

  appliedOffset(): Promise<number> {
    return this.inner.appliedOffset();
  }

  restore(entries: ChangedEntry[], appliedOffset: number): Promise<void> {
    return this.inner.restore(entries, appliedOffset);
  }

  needsFlush(): boolean {
    return this.inner.needsFlush?.() ?? false;
  }

  memoryUsage(): StoreMemory {
    return this.inner.memoryUsage?.() ?? {};
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
