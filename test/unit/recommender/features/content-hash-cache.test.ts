import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { CachedEncoder } from '../../../../src/recommender/features/cached-encoder.js';
import { ContentHashCache } from '../../../../src/recommender/features/content-hash-cache.js';
import type { EncodedText, TextEncoder } from '../../../../src/recommender/features/text-encoder.js';

/** Records every batch it is asked to encode; the vector encodes the text length. */
class RecordingEncoder implements TextEncoder {
  readonly name = 'recording';
  readonly kind = 'dense' as const;
  readonly dim = 1;
  readonly calls: string[][] = [];
  closed = 0;
  async encode(texts: readonly string[]): Promise<EncodedText[]> {
    this.calls.push([...texts]);
    return texts.map((text) => ({ dense: Float32Array.of(text.length) }));
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

describe('ContentHashCache', () => {
  it('computes only misses, once per distinct text, and returns results in input order', async () => {
    const cache = new ContentHashCache<number>(10);
    const seen: string[][] = [];
    const compute = async (texts: string[]) => (seen.push(texts), texts.map((t) => t.length));
    expect(await cache.resolve(['aa', 'b', 'aa', 'cccc'], compute)).toEqual([2, 1, 2, 4]);
    expect(seen).toEqual([['aa', 'b', 'cccc']]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 3, size: 3 });

    expect(await cache.resolve(['cccc', 'dd', 'b'], compute)).toEqual([4, 2, 1]);
    expect(seen[1]).toEqual(['dd']);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 4, size: 4 });
  });

  it('skips compute entirely when everything is cached', async () => {
    const cache = new ContentHashCache<number>(10);
    await cache.resolve(['x'], async (t) => t.map(() => 1));
    let called = false;
    await cache.resolve(['x', 'x'], async (t) => ((called = true), t.map(() => 2)));
    expect(called).toBe(false);
  });

  it('evicts the least recently used entry when full', async () => {
    const cache = new ContentHashCache<string>(2);
    cache.set('a', 'A');
    cache.set('b', 'B');
    expect(cache.get('a')).toBe('A'); // a is now more recent than b
    cache.set('c', 'C');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    expect(cache.get('c')).toBe('C');
    expect(cache.stats()).toMatchObject({ evictions: 1, size: 2, capacity: 2 });
  });

  it('keys by content: equal strings built differently share an entry', () => {
    const cache = new ContentHashCache<number>(4);
    cache.set(['run', 'tests'].join(' '), 7);
    expect(cache.get('run tests')).toBe(7);
    expect(cache.get('run tests ')).toBeUndefined();
  });

  it('rejects a non-positive capacity with the config path', () => {
    expect(() => new ContentHashCache(0, '/encode/cacheSize')).toThrow(ConfigError);
    expect(() => new ContentHashCache(1.5, '/x/cacheSize')).toThrow(/\/x\/cacheSize/);
  });
});

describe('CachedEncoder', () => {
  it('passes only uncached texts to the wrapped encoder and counts hits', async () => {
    const inner = new RecordingEncoder();
    const encoder = new CachedEncoder(inner, { capacity: 100 });
    const first = await encoder.encode(['fix bug', 'deploy']);
    const second = await encoder.encode(['deploy', 'fix bug', 'rollback']);
    expect(inner.calls).toEqual([['fix bug', 'deploy'], ['rollback']]);
    expect(second[0].dense).toEqual(first[1].dense);
    expect(second[2].dense).toEqual(Float32Array.of(8));
    expect(encoder.cacheStats()).toMatchObject({ hits: 2, misses: 3 });
    expect(encoder).toMatchObject({ name: 'recording', kind: 'dense', dim: 1 });
    await encoder.close();
    expect(inner.closed).toBe(1);
  });
});
