import { StateError } from '../../errors.js';
import type { KeyValueStore } from '../../state/store.js';

const TOTAL_PREFIX = Buffer.from('\u0000model-sync\u0000total\u0000', 'latin1');
const TAG_BYTES = 8;

/**
 * A long block's running total (float64), the float32 total its latest dense record carried,
 * and where the two differ (a flag per index and their count): what its next sparse record lists.
 */
export class BlockTotal {
  readonly unpublished: Uint8Array;
  unpublishedCount = 0;

  constructor(
    readonly total: Float64Array,
    readonly published: Float32Array,
  ) {
    this.unpublished = new Uint8Array(total.length);
    for (let i = 0; i < total.length; i++) this.track(i);
  }

  /** Adds `amounts[k]` to the total at `indices[k]`. */
  add(indices: Uint32Array, amounts: Float32Array): void {
    for (let k = 0; k < indices.length; k++) {
      this.total[indices[k]] += amounts[k];
      this.track(indices[k]);
    }
  }

  /** The indices whose total moved since the latest dense record (ascending), and those totals. */
  unpublishedTotals(): { at: Uint32Array; total: Float32Array } {
    const at = new Uint32Array(this.unpublishedCount);
    const total = new Float32Array(this.unpublishedCount);
    for (let i = 0, k = 0; k < at.length; i++) {
      if (!this.unpublished[i]) continue;
      at[k] = i;
      total[k++] = this.total[i];
    }
    return { at, total };
  }

  /** The whole total as a dense record carries it, from now on the published one (read it, do not keep it). */
  publish(): Float32Array {
    for (let i = 0; i < this.total.length; i++) this.published[i] = this.total[i];
    this.unpublished.fill(0);
    this.unpublishedCount = 0;
    return this.published;
  }

  private track(i: number): void {
    const moved = Math.fround(this.total[i]) !== this.published[i] ? 1 : 0;
    this.unpublishedCount += moved - this.unpublished[i];
    this.unpublished[i] = moved;
  }
}

/**
 * The sum of every increment this task incarnation published, per row and per parameter block:
 * what its records carry as `total`, so a reader of a compacted topic still gets the whole
 * contribution. They live in the task's store, tagged with the incarnation: one under another
 * tag is a dead incarnation's, and the new one starts from zero. Rows' totals are read and
 * written at each sync (rows are unbounded in number); the long blocks' (a fixed set) stay in
 * memory between syncs and are written before each flush (persist), so a sync does not copy
 * every chunk it touched.
 */
export class RunningTotals {
  private readonly blocks = new Map<string, BlockTotal>();
  private readonly dirtyBlocks = new Set<string>();

  constructor(
    private readonly store: KeyValueStore,
    private readonly tag: Buffer,
  ) {}

  /** Rows' totals (zeros where this incarnation has none yet). */
  async rows(rows: readonly { id: string; length: number }[]): Promise<Float64Array[]> {
    if (!rows.length) return [];
    const stored = await this.store.getMany(rows.map(({ id }) => totalKey(id)));
    return stored.map((bytes, at) => this.decode(bytes, rows[at].length)?.total ?? new Float64Array(rows[at].length));
  }

  async putRow(id: string, total: Float64Array): Promise<void> {
    await this.store.put(totalKey(id), this.encode(total));
  }

  /** A long block's total, loaded once per incarnation; call markDirty after changing it. */
  async block(id: string, length: number): Promise<BlockTotal> {
    let block = this.blocks.get(id);
    if (block?.total.length === length) return block;
    const stored = this.decode(await this.store.get(totalKey(id)), length);
    const total = stored?.total ?? new Float64Array(length);
    // Written when every record was dense: the latest one carried the whole total.
    block = new BlockTotal(total, stored?.published ?? Float32Array.from(total));
    this.blocks.set(id, block);
    return block;
  }

  markDirty(id: string): void {
    this.dirtyBlocks.add(id);
  }

  /** Writes the blocks' totals changed since the last call: call before the task's state is flushed. */
  async persist(): Promise<void> {
    for (const id of this.dirtyBlocks) {
      const { total, published } = this.blocks.get(id)!;
      await this.store.put(totalKey(id), this.encode(total, published));
    }
    this.dirtyBlocks.clear();
  }

  /** Undefined when none is stored under this incarnation's tag, or one of another length (the settings changed). */
  private decode(bytes: Buffer | undefined, length: number): { total: Float64Array; published?: Float32Array } | undefined {
    if (!bytes || bytes.length < TAG_BYTES || !this.tag.equals(bytes.subarray(0, TAG_BYTES))) return undefined;
    const size = bytes.length - TAG_BYTES;
    if (size % 4 !== 0) throw new StateError('STATE_CORRUPT', `model-sync total of ${bytes.length} bytes is not a tagged float array`);
    if (size !== 8 * length && size !== 12 * length) return undefined;
    // Host byte order, as encode writes it: the bytes never leave this task's store.
    const total = new Float64Array(length);
    new Uint8Array(total.buffer).set(bytes.subarray(TAG_BYTES, TAG_BYTES + 8 * length));
    if (size === 8 * length) return { total };
    const published = new Float32Array(length);
    new Uint8Array(published.buffer).set(bytes.subarray(TAG_BYTES + 8 * length));
    return { total, published };
  }

  private encode(total: Float64Array, published?: Float32Array): Buffer {
    const out = Buffer.alloc(TAG_BYTES + total.byteLength + (published?.byteLength ?? 0));
    this.tag.copy(out, 0);
    out.set(new Uint8Array(total.buffer, total.byteOffset, total.byteLength), TAG_BYTES);
    if (published) out.set(new Uint8Array(published.buffer, published.byteOffset, published.byteLength), TAG_BYTES + total.byteLength);
    return out;
  }
}

function totalKey(id: string): Buffer {
  return Buffer.concat([TOTAL_PREFIX, Buffer.from(id, 'latin1')]);
}
