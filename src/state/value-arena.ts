/**
 * Cached values packed into large slabs instead of one Buffer each.
 *
 * Why: a Buffer per cached value is four objects — the ArrayBuffer, its Uint8Array view, the
 * backing store and its malloc block — about 250 bytes beside a 272-byte embedding row, and a
 * cache that churns 100k+ of them leaves V8's old space and the malloc heap fragmented far past
 * the cache's byte bound (see bench/README.md, "State"). In the arena a cached value is one number
 * (its slot) plus its bytes.
 *
 * Slots come in size classes: the value's length plus a 4-byte length prefix, rounded up to
 * SLOT_ALIGN. New slots of every class are carved one after another from the newest slab (a slab
 * per class would hold 1 MiB for each value size ever seen: a store whose values grow, such as a
 * user's action history, collected hundreds of them). A freed slot goes to its class's free list
 * and is reused by the next value of that class; the slabs themselves are kept, and the caller
 * clears the arena when freed slots strand too much of it (`freeBytes`).
 * Values longer than MAX_VALUE_BYTES do not fit; the caller keeps those as Buffers.
 *
 * Handles are plain numbers: slab index × SLAB_BYTES + byte offset of the slot.
 */
export class ValueArena {
  static readonly SLAB_BYTES = 1 << 20;
  static readonly MAX_VALUE_BYTES = 16 * 1024;
  private static readonly SLOT_ALIGN = 16;
  private static readonly LENGTH_PREFIX_BYTES = 4;

  private readonly slabs: Buffer[] = [];
  private readonly classes = new Map<number, SizeClass>();
  /** Where the next new slot is carved in the newest slab. */
  private carveAt = ValueArena.SLAB_BYTES;
  private freed = 0;

  /** Bytes of slabs allocated: what the arena holds in memory, used or free. */
  get allocatedBytes(): number {
    return this.slabs.length * ValueArena.SLAB_BYTES;
  }

  /** Bytes of slots freed and not reused since: held by the arena, used by no value. */
  get freeBytes(): number {
    return this.freed;
  }

  /** Bytes a value of this length occupies in its slot (prefix and padding included). */
  static slotBytes(length: number): number {
    const align = ValueArena.SLOT_ALIGN;
    return Math.ceil((length + ValueArena.LENGTH_PREFIX_BYTES) / align) * align;
  }

  static fits(length: number): boolean {
    return length <= ValueArena.MAX_VALUE_BYTES;
  }

  /** Copies `value` into a slot; returns the slot's handle. The caller checks fits() first. */
  store(value: Buffer): number {
    const size = ValueArena.slotBytes(value.length);
    const handle = this.allocate(size);
    const slab = this.slabOf(handle);
    const offset = offsetOf(handle);
    slab.writeUInt32LE(value.length, offset);
    value.copy(slab, offset + ValueArena.LENGTH_PREFIX_BYTES);
    return handle;
  }

  /**
   * A copy of the value in `handle`'s slot, in a Buffer of its own (not a view: the slot may be
   * reused as soon as the cache evicts it, and a caller may keep what it read).
   */
  read(handle: number): Buffer {
    const slab = this.slabOf(handle);
    const offset = offsetOf(handle);
    const length = slab.readUInt32LE(offset);
    const start = offset + ValueArena.LENGTH_PREFIX_BYTES;
    // allocUnsafeSlow: not a view on Node's shared 8 KiB pool, which one kept value would pin.
    const copy = Buffer.allocUnsafeSlow(length);
    slab.copy(copy, 0, start, start + length);
    return copy;
  }

  /** Length of the value in `handle`'s slot. */
  lengthOf(handle: number): number {
    return this.slabOf(handle).readUInt32LE(offsetOf(handle));
  }

  /** Returns the slot to its class's free list; the handle must not be used again. */
  free(handle: number): void {
    const size = ValueArena.slotBytes(this.lengthOf(handle));
    this.classFor(size).free.push(handle);
    this.freed += size;
  }

  /** Drops every slab (all handles become invalid). */
  clear(): void {
    this.slabs.length = 0;
    this.classes.clear();
    this.carveAt = ValueArena.SLAB_BYTES;
    this.freed = 0;
  }

  private slabOf(handle: number): Buffer {
    return this.slabs[Math.floor(handle / ValueArena.SLAB_BYTES)];
  }

  private allocate(size: number): number {
    const reused = this.classes.get(size)?.free.pop();
    if (reused !== undefined) {
      this.freed -= size;
      return reused;
    }
    if (this.carveAt + size > ValueArena.SLAB_BYTES) {
      // The newest slab's tail (< MAX_VALUE_BYTES) is left unused. Slabs are not zeroed: every
      // slot is written before it is read.
      this.slabs.push(Buffer.allocUnsafeSlow(ValueArena.SLAB_BYTES));
      this.carveAt = 0;
    }
    const handle = (this.slabs.length - 1) * ValueArena.SLAB_BYTES + this.carveAt;
    this.carveAt += size;
    return handle;
  }

  private classFor(size: number): SizeClass {
    let sizeClass = this.classes.get(size);
    if (!sizeClass) {
      sizeClass = { free: [] };
      this.classes.set(size, sizeClass);
    }
    return sizeClass;
  }
}

function offsetOf(handle: number): number {
  return handle % ValueArena.SLAB_BYTES;
}

/** Slots of one size: the freed ones, reused first. */
interface SizeClass {
  free: number[];
}
