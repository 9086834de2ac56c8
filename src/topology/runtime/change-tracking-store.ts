import type { ChangedEntry, KeyValueStore } from '../../state/store.js';

/**
 * A store that knows whether it was written since its last flush. A task commits all its stores
 * together: it publishes every changelog before any store writes its batch, and only a store
 * with changes publishes from inside flush(), so the task must know beforehand which will.
 */
export class ChangeTrackingStore implements KeyValueStore {
  readonly name: string;
  private written = false;

  constructor(readonly inner: KeyValueStore) {
    this.name = inner.name;
  }

  /** True when put() or delete() ran since the last successful flush or restore. */
  get changed(): boolean {
    return this.written;
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.inner.get(key);
  }

  getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    return this.inner.getMany(keys);
  }

  put(key: Buffer, value: Buffer): Promise<void> {
    this.written = true;
    return this.inner.put(key, value);
  }

  delete(key: Buffer): Promise<void> {
    this.written = true;
    return this.inner.delete(key);
  }

  range(options?: { gte?: Buffer; lt?: Buffer; limit?: number }): AsyncIterable<[Buffer, Buffer]> {
    return this.inner.range(options);
  }

  async flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    // Cleared first: a write racing the flush sets it again and is flushed next time.
    this.written = false;
    try {
      await this.inner.flush(appliedOffset, publish);
    } catch (error) {
      this.written = true;
      throw error;
    }
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

  close(): Promise<void> {
    return this.inner.close();
  }
}
