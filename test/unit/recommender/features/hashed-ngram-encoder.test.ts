import { describe, expect, it } from 'vitest';
import { BadRecordError, ConfigError } from '../../../../src/errors.js';
import { HashedNgramEncoder } from '../../../../src/recommender/features/hashed-ngram-encoder.js';
import type { SparseFeature } from '../../../../src/recommender/features/text-encoder.js';

const l2 = (features: readonly SparseFeature[]) => Math.sqrt(features.reduce((sum, f) => sum + f.weight * f.weight, 0));
const keys = (features: readonly SparseFeature[]) => new Set(features.map((f) => f.key));

describe('HashedNgramEncoder', () => {
  it('is deterministic across calls and across instances', async () => {
    const text = 'Please fix the failing test in src/parser.ts';
    const first = new HashedNgramEncoder({ field: 'request' });
    const second = new HashedNgramEncoder({ field: 'request' });
    const once = first.encodeText(text);
    first.encodeText('something else entirely, to dirty the scratch buffer');
    expect(first.encodeText(text)).toEqual(once);
    expect(second.encodeText(text)).toEqual(once);
    const [viaEncode] = await second.encode([text]);
    expect(viaEncode.sparse).toEqual(once);
  });

  it('names keys text.<field>#<bucket> with buckets inside the configured range, sorted and unique', () => {
    const encoder = new HashedNgramEncoder({ field: 'response', buckets: 1000 });
    const features = encoder.encodeText('Deploying version 2 to the staging cluster now');
    expect(features.length).toBeGreaterThan(0);
    const buckets = features.map((f) => {
      const match = /^text\.response#(\d+)$/.exec(f.key);
      expect(match).not.toBeNull();
      return Number(match![1]);
    });
    for (const bucket of buckets) expect(bucket).toBeLessThan(1000);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(new Set(buckets).size).toBe(buckets.length);
  });

  it('gives different texts different keys, and related texts overlapping keys', () => {
    const encoder = new HashedNgramEncoder({ field: 'request' });
    const a = keys(encoder.encodeText('book a flight to paris'));
    const b = keys(encoder.encodeText('book a flight to tokyo'));
    const c = keys(encoder.encodeText('refactor the database migration'));
    const overlap = (x: Set<string>, y: Set<string>) => [...x].filter((k) => y.has(k)).length;
    expect(a).not.toEqual(b);
    expect(overlap(a, b)).toBeGreaterThan(overlap(a, c));
    expect(overlap(a, b)).toBeLessThan(a.size);
  });

  it('normalises weights to unit L2 length, 1/sqrt(n) when all n-grams are distinct', () => {
    const encoder = new HashedNgramEncoder({ field: 'request' });
    for (const text of ['x', 'fix it', 'the the the the', 'a much longer request about kafka consumer lag and retries']) {
      expect(l2(encoder.encodeText(text))).toBeCloseTo(1, 6);
    }
    // "ab cd": unigrams ab, cd; bigram ab_cd; trigrams <ab ab> <cd cd> → 7 distinct n-grams.
    const distinct = new HashedNgramEncoder({ field: 'f', buckets: 2 ** 32 }).encodeText('ab cd');
    expect(distinct).toHaveLength(7);
    for (const f of distinct) expect(f.weight).toBeCloseTo(1 / Math.sqrt(7), 6);
  });

  it('counts repeated n-grams: a repeated word weighs more than a word seen once', () => {
    const encoder = new HashedNgramEncoder({ field: 'f', buckets: 2 ** 32, charTrigrams: false, wordBigrams: false });
    const features = encoder.encodeText('retry retry retry timeout');
    expect(features).toHaveLength(2);
    const weights = features.map((f) => f.weight).sort((a, b) => a - b);
    expect(weights[1] / weights[0]).toBeCloseTo(3, 6);
  });

  it('lowercases and splits on punctuation', () => {
    const encoder = new HashedNgramEncoder({ field: 'f' });
    expect(encoder.encodeText('Fix THE Bug!')).toEqual(encoder.encodeText('fix the bug'));
    expect(encoder.encodeText('fix,the;bug')).toEqual(encoder.encodeText('fix the bug'));
    expect(encoder.encodeText('fix_the_bug')).not.toEqual(encoder.encodeText('fix the bug'));
  });

  it('returns no features for empty, whitespace-only and punctuation-only text', async () => {
    const encoder = new HashedNgramEncoder({ field: 'f' });
    expect(encoder.encodeText('')).toEqual([]);
    expect(encoder.encodeText('  \n\t ')).toEqual([]);
    expect(encoder.encodeText('?!...')).toEqual([]);
    expect(await encoder.encode(['', 'ok'])).toHaveLength(2);
  });

  it('encodes only the first maxChars characters', () => {
    const encoder = new HashedNgramEncoder({ field: 'f', maxChars: 10 });
    expect(encoder.encodeText('fix parser' + ' and a lot more text after it')).toEqual(encoder.encodeText('fix parser'));
  });

  it('keeps non-ASCII words', () => {
    const encoder = new HashedNgramEncoder({ field: 'f' });
    expect(encoder.encodeText('réservez un vol')).not.toEqual(encoder.encodeText('r servez un vol'));
    expect(encoder.encodeText('日本語')).not.toEqual([]);
  });

  it('maps to different buckets under a different seed or field name', () => {
    const text = 'open a pull request';
    const base = new HashedNgramEncoder({ field: 'f' }).encodeText(text);
    const reseeded = new HashedNgramEncoder({ field: 'f', seed: 1 }).encodeText(text);
    const otherField = new HashedNgramEncoder({ field: 'g' }).encodeText(text);
    expect(reseeded.map((f) => f.key)).not.toEqual(base.map((f) => f.key));
    expect(otherField.map((f) => f.key.replace('text.g#', ''))).toEqual(base.map((f) => f.key.replace('text.f#', '')));
  });

  it('rejects non-string input as a bad record naming the field', () => {
    const encoder = new HashedNgramEncoder({ field: 'request' });
    expect(() => encoder.encodeText(null as unknown as string)).toThrow(BadRecordError);
    expect(() => encoder.encodeText(42 as unknown as string)).toThrow(/field 'request'/);
  });

  it('validates its config with JSON-pointer paths', () => {
    expect(() => new HashedNgramEncoder({ field: 'f', buckets: 0 })).toThrow(ConfigError);
    expect(() => new HashedNgramEncoder({ field: 'f', buckets: 1.5 })).toThrow(/\/encode\/buckets/);
    expect(() => new HashedNgramEncoder({ field: '', configPath: '/topology/encode/text' })).toThrow(/\/topology\/encode\/text\/field/);
    expect(() => new HashedNgramEncoder({ field: 'a#b' })).toThrow(/\/encode\/field/);
    expect(() => new HashedNgramEncoder({ field: 'f', maxChars: -1 })).toThrow(/\/encode\/maxChars/);
    expect(() => new HashedNgramEncoder({ field: 'f', wordUnigrams: false, wordBigrams: false, charTrigrams: false })).toThrow(ConfigError);
  });
});
