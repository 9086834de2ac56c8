import { describe, expect, it } from 'vitest';
import { deriveSeed, fillGlorotUniform, fnv1a32, splitmix32 } from '../../../../../src/recommender/model/kernels/prng.js';

describe('prng', () => {
  it('splitmix32 is reproducible per seed and differs across seeds', () => {
    const a = splitmix32(123);
    const b = splitmix32(123);
    const c = splitmix32(124);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('nextFloat is uniform in [0, 1) and nextGaussian has unit variance', () => {
    const random = splitmix32(0);
    let sum = 0;
    let min = 1;
    let max = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = random.nextFloat();
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / n).toBeGreaterThan(0.49);
    expect(sum / n).toBeLessThan(0.51);
    let squares = 0;
    for (let i = 0; i < n; i++) squares += random.nextGaussian() ** 2;
    expect(squares / n).toBeGreaterThan(0.95);
    expect(squares / n).toBeLessThan(1.05);
  });

  it('fnv1a32 matches the published FNV-1a test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(fnv1a32(new TextEncoder().encode('foobar'))).toBe(0xbf9cf968);
  });

  it('derived seeds separate named blocks', () => {
    expect(deriveSeed(1, 'dcn/cross')).not.toBe(deriveSeed(1, 'dcn/mlp'));
    expect(deriveSeed(1, 'dcn/cross')).not.toBe(deriveSeed(2, 'dcn/cross'));
    expect(deriveSeed(1, 'dcn/cross')).toBe(deriveSeed(1, 'dcn/cross'));
  });

  it('Glorot init stays within its limit and touches only its block', () => {
    const out = new Float32Array(2 + 12 + 2);
    fillGlorotUniform(out, splitmix32(9), 3, 4, 2);
    const limit = Math.sqrt(6 / 7);
    expect([out[0], out[1], out[14], out[15]]).toEqual([0, 0, 0, 0]);
    expect(out.subarray(2, 14).every((v) => v !== 0 && Math.abs(v) <= limit)).toBe(true);
  });
});
