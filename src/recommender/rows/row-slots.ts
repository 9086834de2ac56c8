import { rowKey } from './row-key.js';
import type { EmbeddingRow } from './embedding-row-store.js';

export type SlotNamespace = 'user' | 'feature' | 'action';

/** One row key of the lookup step, and the row read for it in the current batch. */
export interface RowSlot {
  readonly key: Buffer;
  /** The row this batch read for the key (undefined: none yet, or held back by the filter). */
  row: EmbeddingRow | undefined;
  /** Batch number in which `row` was read; `row` means nothing in any other batch. */
  readIn: number;
  /** Batch number in which the key was last listed for the batch's prefetch. */
  listedIn: number;
}

/**
 * Bound on the slots kept, over all namespaces; past it they are dropped between batches. A
 * slot costs ~250 bytes (key, id, entry), and feature ids (text n-grams, action pairs) never stop
 * arriving, so this is what one task's lookup may hold: ~2.4 MiB. At 50,000 the slots took ten
 * minutes of a soak to fill, and the old space grew with them (bench/README.md, "Soak: key caches").
 */
export const MAX_SLOTS = 10_000;

/**
 * The lookup step's row keys by namespace and id, each built once, carrying the row the current
 * batch read for it: one map lookup per row per event finds the key bytes, whether the batch
 * already read the row, and whether the key is already listed for prefetch — where three maps
 * (id → key, key → live row, the batch's key set) each cost a lookup per row per event.
 */
export class RowSlots {
  private readonly byNamespace = {
    user: new Map<string, RowSlot>(),
    feature: new Map<string, RowSlot>(),
    action: new Map<string, RowSlot>(),
  };
  private batch = 0;
  /** Keys listed since beginBatch(), each once: what the batch may read. */
  readonly listed: Buffer[] = [];
  /** Slots given a row this batch: let go of at the next, so a slot never keeps a row alive past its batch. */
  private readonly holding: RowSlot[] = [];

  /** Starts a batch: rows read in earlier batches no longer count as read. */
  beginBatch(): void {
    this.batch++;
    this.listed.length = 0;
    for (const slot of this.holding) slot.row = undefined;
    this.holding.length = 0;
    if (this.size > MAX_SLOTS) for (const slots of Object.values(this.byNamespace)) slots.clear();
  }

  /** Slots held now, over all namespaces. */
  get size(): number {
    const { user, feature, action } = this.byNamespace;
    return user.size + feature.size + action.size;
  }

  /** The slot of (namespace, id), listing its key for this batch's prefetch on first use. */
  slot(namespace: SlotNamespace, id: string): RowSlot {
    const slots = this.byNamespace[namespace];
    let slot = slots.get(id);
    if (!slot) slots.set(id, (slot = { key: rowKey(namespace, id), row: undefined, readIn: 0, listedIn: 0 }));
    if (slot.listedIn !== this.batch) {
      slot.listedIn = this.batch;
      this.listed.push(slot.key);
    }
    return slot;
  }

  /** The row this batch read for the slot, if any. */
  readThisBatch(slot: RowSlot): EmbeddingRow | undefined {
    return slot.readIn === this.batch ? slot.row : undefined;
  }

  /** Records what this batch read for the slot (undefined: nothing to reuse). */
  setRead(slot: RowSlot, row: EmbeddingRow | undefined): void {
    if (row && slot.row === undefined) this.holding.push(slot);
    slot.row = row;
    slot.readIn = row ? this.batch : 0;
  }
}
