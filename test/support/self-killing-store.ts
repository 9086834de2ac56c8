import type { ChangedEntry, KeyValueStore } from '../../src/state/store.js';

/**
 * A store that SIGKILLs its own process right after its `killOnFlush`-th flush wrote to disk:
 * a deterministic crash at the exact point between two stores' commits, where a random kill
 * lands only rarely. Everything else is delegated unchanged.
 */
export class SelfKillingStore implements KeyValueStore {
  readonly name: string;
  private flushes = 0;

  constructor(
    private readonly inner: KeyValueStore,
    private readonly killOnFlush: number,
  ) {
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

  async flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    await this.inner.flush(appliedOffset, publish);
    if (++this.flushes === this.killOnFlush) {
      process.stderr.write(`self-kill after flush ${this.flushes} of '${this.name}' (applied offset ${appliedOffset})\n`);
      process.kill(process.pid, 'SIGKILL');
      // SIGKILL is delivered asynchronously; nothing after the flush may run meanwhile.
      await new Promise<never>(() => undefined);
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
