/**
 * One GPU buffer reused across batches: grown by doubling when a batch needs more, never shrunk,
 * so a stream of similar batches allocates nothing after the first few.
 */
export class GrowableBuffer {
  private buffer?: GPUBuffer;
  private capacity = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly label: string,
    private readonly minimumBytes = 256,
  ) {}

  /** A buffer of at least `bytes` (4-byte aligned); the old one is destroyed when it grows. */
  ensure(bytes: number): GPUBuffer {
    const needed = Math.max(this.minimumBytes, Math.ceil(bytes / 4) * 4);
    if (this.buffer && needed <= this.capacity) return this.buffer;
    let capacity = Math.max(this.capacity, this.minimumBytes);
    while (capacity < needed) capacity *= 2;
    this.buffer?.destroy();
    this.buffer = this.device.createBuffer({ size: capacity, usage: this.usage, label: this.label });
    this.capacity = capacity;
    return this.buffer;
  }

  get bytes(): number {
    return this.capacity;
  }

  destroy(): void {
    this.buffer?.destroy();
    this.buffer = undefined;
    this.capacity = 0;
  }
}
