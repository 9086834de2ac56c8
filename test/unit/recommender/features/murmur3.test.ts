import { describe, expect, it } from 'vitest';
import { murmur3, murmur3CodeUnits3, murmur3Int2 } from '../../../../src/recommender/features/murmur3.js';

/** Packs little-endian bytes into UTF-16 code units, so the published byte-level MurmurHash3
 * x86_32 test vectors (SMHasher / Wikipedia) can check our code-unit implementation. */
function fromBytes(bytes: number[]): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 2) text += String.fromCharCode(bytes[i] | ((bytes[i + 1] ?? 0) << 8));
  return text;
}

describe('murmur3', () => {
  it('matches the reference MurmurHash3 x86_32 vectors', () => {
    expect(murmur3('', 0)).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3(fromBytes([0, 0, 0, 0]), 0)).toBe(0x2362f9de);
    expect(murmur3(fromBytes([0x21, 0x43, 0x65, 0x87]), 0)).toBe(0xf55b516b);
    expect(murmur3(fromBytes([0x21, 0x43, 0x65, 0x87]), 0x5082edee)).toBe(0x2362f9de);
    expect(murmur3(fromBytes([0x61, 0x61, 0x61, 0x61]), 0x9747b28c)).toBe(0x5a97808a);
    expect(murmur3(fromBytes([0x61, 0x62, 0x63, 0x64]), 0x9747b28c)).toBe(0xf0478627);
    expect(murmur3(fromBytes([0x61, 0x62]), 0x9747b28c)).toBe(0x74875592);
  });

  it('hashes a range exactly like the same substring', () => {
    const text = 'refactor the parser module';
    expect(murmur3(text, 7, 9, 15)).toBe(murmur3(text.slice(9, 15), 7));
    expect(murmur3(text, 7, 9, 14)).toBe(murmur3(text.slice(9, 14), 7));
  });

  it('hashes three code units and two ints like the equivalent strings', () => {
    expect(murmur3CodeUnits3(0x3c, 0x66, 0x69, 42)).toBe(murmur3('<fi', 42));
    const a = 0xdeadbeef;
    const b = 0x01234567;
    const asUnits = String.fromCharCode(a & 0xffff, a >>> 16, b & 0xffff, b >>> 16);
    expect(murmur3Int2(a, b, 3)).toBe(murmur3(asUnits, 3));
    expect(murmur3Int2(a, b, 3)).not.toBe(murmur3Int2(b, a, 3));
  });
});
