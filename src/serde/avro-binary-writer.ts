import { CopySlab } from './copy-slab.js';

/**
 * Avro's binary encoding written by hand, primitive by primitive, into one reused buffer: for a
 * hot internal record whose shape is fixed in code, where avsc's generic writer (a record object
 * built per value, a `Buffer.byteLength` call per string, the array and record type dispatch)
 * is the slower path for it (see bench/README.md, "Fewer strings, maps and allocations per
 * event"). The bytes are exactly avsc's, so either can read what the other wrote; tests compare
 * them byte for byte.
 *
 * Arrays are written the way avsc writes them: one block (count, items) then the 0 terminator;
 * an empty array is the terminator alone. Each primitive throws (TypeError, RangeError) on a
 * value avsc would refuse for its type, instead of writing bytes no reader would expect.
 */
export class AvroBinaryWriter {
  private buffer: Buffer;
  private position = 0;
  private readonly copies = new CopySlab();

  constructor(initialBytes = 4096) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Starts a new value at `offset`, keeping the bytes before it (a prefix the caller writes). */
  reset(offset: number): this {
    this.ensure(offset);
    this.position = offset;
    return this;
  }

  /** The scratch buffer itself, for writing a prefix before reset(); valid until the next write. */
  get scratch(): Buffer {
    return this.buffer;
  }

  /**
   * A copy of bytes [0, end): the value and its prefix, owned by the caller (carved from a slab
   * shared with the next copies, as Buffer.from's copies share Node's pool: see CopySlab).
   */
  copy(): Buffer {
    return this.copies.copy(this.buffer.subarray(0, this.position));
  }

  /** Zig-zag varint, as avsc: 32-bit arithmetic while it fits, exact doubles beyond (to 2^53). */
  long(n: number): this {
    if (!Number.isSafeInteger(n)) throw new RangeError(`not a long: ${String(n)}`);
    this.ensure(10);
    const buffer = this.buffer;
    let position = this.position;
    if (n >= -1073741824 && n < 1073741824) {
      let m = n >= 0 ? n << 1 : (~n << 1) | 1;
      while (m > 0x7f) {
        buffer[position++] = (m & 0x7f) | 0x80;
        m >>>= 7;
      }
      buffer[position++] = m;
    } else {
      let f = n >= 0 ? n * 2 : -n * 2 - 1;
      while (f >= 128) {
        buffer[position++] = (f % 128) | 0x80;
        f = Math.floor(f / 128);
      }
      buffer[position++] = f;
    }
    this.position = position;
    return this;
  }

  /** An Avro int: a long in the int32 range. */
  int(n: number): this {
    if ((n | 0) !== n) throw new RangeError(`not an int: ${String(n)}`);
    return this.long(n);
  }

  /** Length-prefixed UTF-8. ASCII (ids, most feature keys) is copied char by char with no length pass. */
  string(value: string): this {
    if (typeof value !== 'string') throw new TypeError(`not a string: ${String(value)}`);
    const length = value.length;
    this.ensure(5 + length);
    const start = this.position;
    this.long(length);
    const buffer = this.buffer;
    let position = this.position;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        this.position = start;
        return this.utf8(value);
      }
      buffer[position++] = code;
    }
    this.position = position;
    return this;
  }

  /** Length-prefixed bytes. */
  bytes(value: Uint8Array): this {
    this.ensure(10 + value.length);
    this.long(value.length);
    this.buffer.set(value, this.position);
    this.position += value.length;
    return this;
  }

  double(value: number): this {
    if (typeof value !== 'number') throw new TypeError(`not a double: ${String(value)}`);
    this.ensure(8);
    this.buffer.writeDoubleLE(value, this.position);
    this.position += 8;
    return this;
  }

  float(value: number): this {
    if (typeof value !== 'number') throw new TypeError(`not a float: ${String(value)}`);
    this.ensure(4);
    this.buffer.writeFloatLE(value, this.position);
    this.position += 4;
    return this;
  }

  /** An array block's item count (nothing for an empty array: the terminator follows at once). */
  arrayStart(count: number): this {
    return count > 0 ? this.long(count) : this;
  }

  /** The 0 that ends an array. */
  arrayEnd(): this {
    return this.long(0);
  }

  /**
   * Non-ASCII, as avsc writes it: the UTF-8 length counted here (a lone surrogate counts 3, as
   * Buffer.byteLength counts it), then up to 64 bytes encoded char by char — two native calls
   * per string cost more than the loop — and longer strings by Buffer#write.
   */
  private utf8(value: string): this {
    const chars = value.length;
    let length = 0;
    for (let i = 0; i < chars; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x80) length += 1;
      else if (code < 0x800) length += 2;
      else if ((code & 0xfc00) === 0xd800 && i + 1 < chars && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        length += 4;
        i++;
      } else length += 3;
    }
    this.long(length);
    this.ensure(length);
    if (length > 64) {
      this.buffer.write(value, this.position, length, 'utf8');
      this.position += length;
      return this;
    }
    const buffer = this.buffer;
    let position = this.position;
    for (let i = 0; i < chars; i++) {
      let code = value.charCodeAt(i);
      if (code < 0x80) {
        buffer[position++] = code;
      } else if (code < 0x800) {
        buffer[position++] = (code >> 6) | 0xc0;
        buffer[position++] = (code & 0x3f) | 0x80;
      } else if ((code & 0xfc00) === 0xd800 && i + 1 < chars && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        code = 0x10000 + ((code & 0x03ff) << 10) + (value.charCodeAt(++i) & 0x03ff);
        buffer[position++] = (code >> 18) | 0xf0;
        buffer[position++] = ((code >> 12) & 0x3f) | 0x80;
        buffer[position++] = ((code >> 6) & 0x3f) | 0x80;
        buffer[position++] = (code & 0x3f) | 0x80;
      } else {
        buffer[position++] = (code >> 12) | 0xe0;
        buffer[position++] = ((code >> 6) & 0x3f) | 0x80;
        buffer[position++] = (code & 0x3f) | 0x80;
      }
    }
    this.position = position;
    return this;
  }

  private ensure(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.position + bytes));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }
}
