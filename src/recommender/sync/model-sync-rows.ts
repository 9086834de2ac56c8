import { StateError } from '../../errors.js';
import { fillDeterministic } from '../rows/deterministic-init.js';
import { decodeRecord, encodeRow, KIND_ROW } from '../rows/embedding-row-codec.js';
import type { KeyValueStore } from '../../state/store.js';
import type { RecommenderModel } from '../model/recommender-model.js';

export interface SyncedRow {
  values: Float32Array;
  slots: Float32Array;
  seenCount: number;
  lastTouchedMs: number;
}

/**
 * Reads and writes shared embedding rows for model sync, in the byte format of the row store
 * (embedding-row-codec), without the row store's side effects: a sync is neither a sighting nor
 * a touch, so seenCount and lastTouchedMs of existing rows are kept as they are.
 */
export class ModelSyncRows {
  private readonly dim: number;
  private readonly slotCount: number;

  constructor(
    private readonly store: KeyValueStore,
    private readonly model: RecommenderModel,
    /** Whether the optimizer slots are part of what is synced (after the values, slot-major). */
    private readonly withSlots = false,
  ) {
    this.dim = model.rowStore.dim;
    this.slotCount = model.rowStore.slotCount ?? 0;
  }

  /** Floats per synced row: the values, then the slots when they are shared. */
  get rowLength(): number {
    return this.withSlots ? this.dim * (1 + this.slotCount) : this.dim;
  }

  /** What sync compares and moves, as parts laid end to end: the values, then the slots when shared. */
  syncedParts(values: Float32Array, slots: Float32Array): readonly Float32Array[] {
    return this.withSlots ? [values, slots] : [values];
  }

  /** The stored row, or undefined when the key holds nothing or only a held-back sighting. */
  async read(key: Buffer): Promise<SyncedRow | undefined> {
    const bytes = await this.store.get(key);
    if (!bytes) return undefined;
    const record = decodeRecord(bytes, key);
    if (record.kind !== KIND_ROW || !record.data) return undefined;
    if (record.dim !== this.dim || record.slotCount !== this.slotCount) {
      throw new StateError(
        'STATE_CORRUPT',
        `shared row ${JSON.stringify(key.toString('utf8'))} has dim ${record.dim}/${record.slotCount} slots, model expects ${this.dim}/${this.slotCount}`,
      );
    }
    return {
      values: record.data.subarray(0, this.dim),
      slots: record.data.subarray(this.dim),
      seenCount: record.seenCount,
      lastTouchedMs: record.lastTouchedMs,
    };
  }

  /**
   * The stored row, or a new one initialised exactly as the row store would (same key, same seed
   * → same numbers as in every other task), so a peer's delta lands on the base it was taken
   * from. A held-back sighting keeps its count: the row now exists because another task admitted it.
   */
  async readOrCreate(key: Buffer, now: number): Promise<SyncedRow> {
    const existing = await this.read(key);
    if (existing) return existing;
    const bytes = await this.store.get(key);
    const sightings = bytes ? decodeRecord(bytes, key).seenCount : 0;
    const data = new Float32Array(this.dim * (1 + this.slotCount));
    const init = this.model.rowStore.init ?? {};
    const values = data.subarray(0, this.dim);
    fillDeterministic(key, init.seed ?? 0, values, init.distribution ?? 'uniform', init.scale ?? 0.01);
    const slots = data.subarray(this.dim);
    slots.fill(this.model.rowStore.slotInitialValue ?? 0);
    return { values, slots, seenCount: sightings, lastTouchedMs: now };
  }

  async write(key: Buffer, row: SyncedRow): Promise<void> {
    await this.store.put(key, encodeRow(row.values, row.slots, this.slotCount, row.seenCount, row.lastTouchedMs));
  }

  /**
   * values += shift. FTRL derives a weight from its (z, n) slots at every update, so z is moved
   * to the value that yields the shifted weight; otherwise the next local update would undo the
   * sync. Slots move only when they are shared (`shift` then holds values then slots).
   */
  shift(row: SyncedRow, shift: Float64Array): void {
    const { values, slots } = row;
    for (let i = 0; i < values.length; i++) values[i] = values[i] + shift[i];
    if (this.withSlots) for (let i = 0; i < slots.length; i++) slots[i] = slots[i] + shift[values.length + i];
    const optimizer = this.model.sparseOptimizer;
    if (optimizer.kind !== 'ftrl') return;
    const { learningRate: alpha, beta, l1, l2 } = optimizer.config;
    const length = values.length;
    for (let i = 0; i < length; i++) {
      const n = slots[length + i];
      if (n === 0) continue; // ftrlUpdate derives z from the weight itself while n is 0
      const w = values[i];
      const denominator = (beta + Math.sqrt(n)) / alpha + l2;
      slots[i] = w > 0 ? -w * denominator - l1 : w < 0 ? -w * denominator + l1 : 0;
    }
  }
}
