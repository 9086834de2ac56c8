/**
 * Copies of short byte strings (encoded records) carved out of large slabs, one after another.
 *
 * Why: `Buffer.from(bytes)` takes short copies from Node's shared 8 KiB pool and allocates a new
 * pool (an off-heap ArrayBuffer the GC must track and free) every few records, and the
 * recommender copies a score record and a request snapshot per request (see bench/README.md,
 * "A young generation that holds a batch"). A 64 KiB slab serves ~100 records. The copies it hands
 * out are records written together and dropped together (a batch's outputs, once librdkafka has
 * copied them; request snapshots, once the commit moved them into the store's arena), so a slab
 * is not pinned long by one survivor; like a copy from Node's pool, a value kept for good should
 * be copied out (the store's cache does). 64 KiB, not more: glibc serves it from its heap
 * without an mmap and page faults per slab (its default mmap threshold is 128 KiB).
 */
export class CopySlab {
  /** Longer copies get a Buffer of their own: one would waste the rest of a slab. */
  static readonly MAX_COPY_BYTES = 8 * 1024;

  private slab: Buffer = Buffer.alloc(0);
  private used = 0;

  constructor(private readonly slabBytes = 64 * 1024) {}

  /** A Buffer of its own holding `bytes` (it does not change when `bytes` is written again). */
  copy(bytes: Uint8Array): Buffer {
    const length = bytes.length;
    if (length > CopySlab.MAX_COPY_BYTES) return Buffer.from(bytes);
    if (this.used + length > this.slab.length) {
      // Not zeroed: every byte handed out is written first.
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    const start = this.used;
    this.slab.set(bytes, start);
    // Each copy starts 8-byte aligned, so a typed-array view over a copy is aligned too.
    this.used = (start + length + 7) & ~7;
    return this.slab.subarray(start, start + length);
  }
}
