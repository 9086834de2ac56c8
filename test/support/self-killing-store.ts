import type { ChangedEntry, KeyValueStore } from '../../src/state/store.js';

/** Long enough for the task's other stores to write their batches of the same commit. */
const OTHERS_WRITE_MS = 300;

/**
 * A store that SIGKILLs its own process in its `killOnFlush`-th flush that publishes changes:
 * after its changelog got them, before it writes its own batch, and after a pause in which the
 * task's other stores write theirs. That leaves one store a commit behind the others, a crash
 * point random kills hit only now and then. Everything else is delegated unchanged.
 */
export class SelfKillingStore implements KeyValueStore {
  readonly name: string;
  private publishingFlushes = 0;

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

  flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    if (!publish) return this.inner.flush(appliedOffset);
    return this.inner.flush(appliedOffset, async (changes) => {
      await publish(changes);
      if (++this.publishingFlushes !== this.killOnFlush) return;
      await new Promise((resolve) => setTimeout(resolve, OTHERS_WRITE_MS));
      process.stderr.write(`self-kill before writing flush ${this.publishingFlushes} of '${this.name}' (applied offset ${appliedOffset})\n`);
      process.kill(process.pid, 'SIGKILL');
      // SIGKILL is delivered asynchronously; the write must not start meanwhile.
      await new Promise<never>(() => undefined);
    });
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
