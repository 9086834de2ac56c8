import { describe, expect, it } from 'vitest';
import { CopySlab } from '../../../src/serde/copy-slab.js';

describe('CopySlab', () => {
  it('hands out copies that later writes to the source or to other copies leave alone', () => {
    const slab = new CopySlab(1024);
    const source = Buffer.alloc(100);
    const copies: Buffer[] = [];
    // Past one slab's worth, so copies come from several slabs.
    for (let i = 0; i < 40; i++) {
      source.fill(i, 0, 37 + i);
      copies.push(slab.copy(source.subarray(0, 37 + i)));
    }
    source.fill(255);
    for (const [i, copy] of copies.entries()) {
      expect(copy.length).toBe(37 + i);
      expect(copy.every((byte) => byte === i)).toBe(true);
      copy.fill(200); // a copy is the caller's to write: it must not reach the next one
      if (i + 1 < copies.length) expect(copies[i + 1][0]).toBe(i + 1);
    }
    expect(new Set(copies.map((copy) => copy.buffer)).size).toBeGreaterThan(1);
  });

  it('shares a slab between short copies, aligned to 8 bytes, and gives a long copy its own buffer', () => {
    const slab = new CopySlab(4096);
    const a = slab.copy(Buffer.from('abc'));
    const b = slab.copy(Buffer.from('defgh'));
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset - a.byteOffset).toBe(8);
    expect([a.toString(), b.toString()]).toEqual(['abc', 'defgh']);
    const long = Buffer.alloc(CopySlab.MAX_COPY_BYTES + 1, 7);
    const copied = slab.copy(long);
    expect(copied.buffer).not.toBe(a.buffer);
    expect(copied.equals(long)).toBe(true);
    long[0] = 0;
    expect(copied[0]).toBe(7);
  });

  it('copies an empty value', () => {
    expect(new CopySlab().copy(Buffer.alloc(0)).length).toBe(0);
  });
});
