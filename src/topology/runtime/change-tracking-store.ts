import { ForwardingStore } from '../../state/forwarding-store.js';
import type { ChangedEntry } from '../../state/store.js';

/**
 * A store that knows whether it was written since its last flush. A task commits all its stores
 * together: it publishes every changelog before any store writes its batch, and only a store
 * with changes publishes from inside flush(), so the task must know beforehand which will.
 */
export class ChangeTrackingStore extends ForwardingStore {
  private written = false;

  /** True when put() or delete() ran since the last successful flush or restore. */
  get changed(): boolean {
    return this.written;
  }

  override put(key: Buffer, value: Buffer): Promise<void> {
    this.written = true;
    return this.inner.put(key, value);
  }

  override delete(key: Buffer): Promise<void> {
    this.written = true;
    return this.inner.delete(key);
  }

  override async flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    // Cleared first: a write racing the flush sets it again and is flushed next time.
    this.written = false;
    try {
      await this.inner.flush(appliedOffset, publish);
    } catch (error) {
      this.written = true;
      throw error;
    }
  }
}
