import { StateError } from '../errors.js';
import type { ChangedEntry, KeyValueStore } from './store.js';

/**
 * A KeyValueStore held in process memory: the zero-setup backend for the embedded log and the
 * topology test driver. It keeps the same flush contract as the RocksDB store (changes since
 * the last flush go to `publish` before the offset moves) so code tested against it behaves the
 * same on RocksDB; it is simply not durable across processes.
 *
 * @example
 *   const store = new MemoryStore('users');
 *   await store.put(Buffer.from('a'), Buffer.from('1'));
 *   await store.flush(41, async (changes) => changelog.send(changes));
 */
export class MemoryStore implements KeyValueStore {
  readonly name: string;
  // Keyed by latin1 strings: byte-exact and ordered like the bytes (see overlay-range.ts).
  private readonly entries = new Map<string, ChangedEntry & { value: Buffer }>();
  private readonly changedSinceFlush = new Map<string, ChangedEntry>();
  private offset = -1;
  private closed = false;

  constructor(name = 'memory') {
    this.name = name;
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    this.assertOpen();
    return this.entries.get(key.toString('latin1'))?.value;
  }

  async getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    this.assertOpen();
    return keys.map((key) => this.entries.get(key.toString('latin1'))?.value);
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    this.assertOpen();
    const id = key.toString('latin1');
    this.entries.set(id, { key, value });
    this.changedSinceFlush.set(id, { key, value });
  }

  async delete(key: Buffer): Promise<void> {
    this.assertOpen();
    const id = key.toString('latin1');
    this.entries.delete(id);
    this.changedSinceFlush.set(id, { key, value: undefined });
  }

  async *range(options: { gte?: Buffer; lt?: Buffer; limit?: number } = {}): AsyncIterable<[Buffer, Buffer]> {
    this.assertOpen();
    const low = options.gte?.toString('latin1');
    const high = options.lt?.toString('latin1');
    const limit = options.limit ?? Infinity;
    // Snapshot the matching keys first so writes made while the caller iterates do not
    // reorder or repeat entries.
    const ids = [...this.entries.keys()].filter((id) => (low === undefined || id >= low) && (high === undefined || id < high)).sort();
    let emitted = 0;
    for (const id of ids) {
      if (emitted >= limit) return;
      const entry = this.entries.get(id);
      if (!entry) continue;
      emitted++;
      yield [entry.key, entry.value];
    }
  }

  async flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    this.assertOpen();
    const flushing = [...this.changedSinceFlush.entries()];
    if (publish) await publish(flushing.map(([, entry]) => entry));
    // Only entries unchanged since the snapshot are settled; a write that raced the publish
    // stays pending for the next flush.
    for (const [id, entry] of flushing) {
      if (this.changedSinceFlush.get(id) === entry) this.changedSinceFlush.delete(id);
    }
    this.offset = appliedOffset;
  }

  async appliedOffset(): Promise<number> {
    this.assertOpen();
    return this.offset;
  }

  async restore(entries: ChangedEntry[], appliedOffset: number): Promise<void> {
    this.assertOpen();
    for (const { key, value } of entries) {
      const id = key.toString('latin1');
      if (value === undefined) this.entries.delete(id);
      else this.entries.set(id, { key, value });
    }
    this.offset = appliedOffset;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new StateError('STATE_IO', `store '${this.name}' is closed`);
  }
}
