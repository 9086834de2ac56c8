import { ForwardingStore } from '../../src/state/forwarding-store.js';
import type { ChangedEntry, KeyValueStore } from '../../src/state/store.js';

/** Long enough for the task's other stores to write their batches of the same commit. */
const OTHERS_WRITE_MS = 300;

/**
 * A store that SIGKILLs its own process in its `killOnFlush`-th flush that publishes changes:
 * after its changelog got them, before it writes its own batch, and after a pause in which the
 * task's other stores write theirs. That leaves one store a commit behind the others, a crash
 * point random kills hit only now and then. Everything else is delegated unchanged.
 */
export class SelfKillingStore extends ForwardingStore {
  private publishingFlushes = 0;

  constructor(
    inner: KeyValueStore,
    private readonly killOnFlush: number,
  ) {
    super(inner);
  }

  override flush(appliedOffset: number, publish?: (changes: ChangedEntry[]) => Promise<void>): Promise<void> {
    if (!publish) return this.inner.flush(appliedOffset);
    return this.inner.flush(appliedOffset, async (changes) => {
      await publish(changes);
      // A flush with nothing to publish still calls publish (for the marker); it does not count.
      if (changes.length === 0 || ++this.publishingFlushes !== this.killOnFlush) return;
      await new Promise((resolve) => setTimeout(resolve, OTHERS_WRITE_MS));
      process.stderr.write(
        `self-kill before writing flush ${this.publishingFlushes} of '${this.name}' (applied offset ${appliedOffset})\n`,
      );
      process.kill(process.pid, 'SIGKILL');
      // SIGKILL is delivered asynchronously; the write must not start meanwhile.
      await new Promise<never>(() => undefined);
    });
  }
}
