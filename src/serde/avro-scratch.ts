import type { Type } from 'avsc';

/**
 * A reused buffer Avro values are encoded into, for writers that copy out what they keep: one
 * allocation per value (the copy) instead of avsc's toBuffer sizing, allocating and copying.
 * Grows to the largest value written, keeping the bytes before the body (a header, a prefix).
 * Not for values kept across calls: the view it returns is overwritten by the next encode.
 */
export class AvroScratch {
  private buffer: Buffer;

  constructor(initialBytes: number, prefix?: Buffer) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
    prefix?.copy(this.buffer);
  }

  /** Encodes `value` at `offset`; returns bytes [0, end) of the scratch buffer, valid until the next call. */
  encode(type: Type, value: unknown, offset: number): Buffer {
    let end = type.encode(value, this.buffer, offset);
    if (end < 0) {
      // avsc reports how many bytes were missing; grow once and write again.
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.buffer.length - end));
      this.buffer.copy(grown, 0, 0, offset);
      this.buffer = grown;
      end = type.encode(value, this.buffer, offset);
    }
    return this.buffer.subarray(0, end);
  }
}
