import { BadRecordError, ConfigError } from '../../errors.js';
import { murmur3, murmur3CodeUnits3, murmur3Int2 } from './murmur3.js';
import type { EncodedText, SparseFeature, TextEncoder } from './text-encoder.js';

export interface HashedNgramEncoderOptions {
  /** The event field the text comes from; keys read `text.<field>#<bucket>`. */
  readonly field: string;
  /** Hash space size = number of learned rows for this field. Default 2^18. */
  readonly buckets?: number;
  readonly wordUnigrams?: boolean;
  readonly wordBigrams?: boolean;
  /** Trigrams of each word padded as `<word>`: robust to typos, inflections and identifiers. */
  readonly charTrigrams?: boolean;
  /** Only the first `maxChars` characters are encoded, so one pasted log cannot stall a batch. Default 4096. */
  readonly maxChars?: number;
  /** Changing the seed re-maps every bucket: a way to decorrelate two encoders sharing a field. */
  readonly seed?: number;
  /** JSON pointer of these options in the topology config, used in ConfigError paths. Default `/encode`. */
  readonly configPath?: string;
}

const DEFAULT_BUCKETS = 1 << 18;
/** Bound on the bucket → key string cache (~60 bytes an entry). */
const MAX_CACHED_BUCKET_KEYS = 100_000;
const DEFAULT_MAX_CHARS = 4096;
const WORD_START = 0x3c; // '<'
const WORD_END = 0x3e; // '>'
// Per-family salts: the same string as a word and as a trigram (e.g. "fix") must not be forced
// into the same bucket, or the model could never tell the two signals apart.
const UNIGRAM_SALT = 0x9e3779b1;
const BIGRAM_SALT = 0x85ebca77;
const TRIGRAM_SALT = 0xc2b2ae3d;

/**
 * The default text encoder (used when no model folder is configured): lowercased word unigrams
 * and bigrams plus character trigrams, hashed with murmur3 into `buckets` learned rows. The
 * scorer learns one embedding row per bucket, so the "encoder" is trained online with the rest
 * of the model instead of being frozen.
 *
 * Weights: each bucket's weight is its occurrence count divided by the L2 norm of all counts
 * (so 1/sqrt(n) when the n n-grams are distinct). The vector has unit length whatever the text
 * length, which keeps a factorization machine's linear and pairwise terms on one scale for a
 * two-word request and a 200-word one. Repeats and collisions add up before normalising.
 *
 * Deterministic: same text, options and seed → same keys and weights, on every platform.
 * Empty or whitespace-only text → no features.
 *
 * @example
 * const encoder = new HashedNgramEncoder({ field: 'request', buckets: 1 << 16 });
 * encoder.encodeText('Fix the failing test');
 * // → [{ key: 'text.request#1043', weight: 0.2294 }, …] (sorted by bucket)
 */
export class HashedNgramEncoder implements TextEncoder {
  readonly name: string;
  readonly kind = 'sparse' as const;
  readonly field: string;
  readonly buckets: number;
  private readonly wordUnigrams: boolean;
  private readonly wordBigrams: boolean;
  private readonly charTrigrams: boolean;
  private readonly maxChars: number;
  private readonly seed: number;
  private readonly keyPrefix: string;
  // Reused between calls: encodeText is synchronous, so no two calls can interleave on it.
  private scratch = new Uint32Array(256);
  /**
   * Feature key per bucket, built once: the same string object every time lets the row lookup
   * use its cached hash instead of flattening and hashing a fresh concatenation per n-gram.
   */
  private readonly bucketKeys = new Map<number, string>();

  constructor(options: HashedNgramEncoderOptions) {
    const at = options.configPath ?? '/encode';
    if (typeof options.field !== 'string' || options.field.length === 0 || /[#\s]/.test(options.field)) {
      throw new ConfigError(`${at}/field`, 'must be a non-empty string without "#" or whitespace');
    }
    this.field = options.field;
    this.buckets = options.buckets ?? DEFAULT_BUCKETS;
    if (!Number.isInteger(this.buckets) || this.buckets <= 0 || this.buckets > 2 ** 32) {
      throw new ConfigError(`${at}/buckets`, `must be an integer in [1, 2^32], got ${options.buckets}`);
    }
    this.maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    if (!Number.isInteger(this.maxChars) || this.maxChars <= 0) {
      throw new ConfigError(`${at}/maxChars`, `must be a positive integer, got ${options.maxChars}`);
    }
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.seed)) throw new ConfigError(`${at}/seed`, `must be an integer, got ${options.seed}`);
    this.wordUnigrams = options.wordUnigrams ?? true;
    this.wordBigrams = options.wordBigrams ?? true;
    this.charTrigrams = options.charTrigrams ?? true;
    if (!this.wordUnigrams && !this.wordBigrams && !this.charTrigrams) {
      throw new ConfigError(`${at}/wordUnigrams`, 'at least one of wordUnigrams, wordBigrams, charTrigrams must be enabled');
    }
    this.name = `hashed-ngram/${this.field}`;
    this.keyPrefix = `text.${this.field}#`;
  }

  async encode(texts: readonly string[]): Promise<EncodedText[]> {
    return texts.map((text) => ({ sparse: this.encodeText(text) }));
  }

  /** The synchronous core, for callers that encode inline in a batch loop. */
  encodeText(text: string): SparseFeature[] {
    const { bucketIds, count } = this.hashBuckets(text);
    if (count === 0) return [];
    const sorted = bucketIds.subarray(0, count).sort();
    let sumOfSquares = 0;
    let runStart = 0;
    for (let i = 1; i <= count; i++) {
      if (i === count || sorted[i] !== sorted[runStart]) {
        const occurrences = i - runStart;
        sumOfSquares += occurrences * occurrences;
        runStart = i;
      }
    }
    const inverseNorm = 1 / Math.sqrt(sumOfSquares);
    const features: SparseFeature[] = [];
    runStart = 0;
    for (let i = 1; i <= count; i++) {
      if (i === count || sorted[i] !== sorted[runStart]) {
        features.push({ key: this.bucketKey(sorted[runStart]), weight: (i - runStart) * inverseNorm });
        runStart = i;
      }
    }
    return features;
  }

  private bucketKey(bucket: number): string {
    let key = this.bucketKeys.get(bucket);
    if (key === undefined) {
      if (this.bucketKeys.size >= MAX_CACHED_BUCKET_KEYS) this.bucketKeys.clear();
      key = this.keyPrefix + bucket;
      this.bucketKeys.set(bucket, key);
    }
    return key;
  }

  /** Bucket of every n-gram occurrence (unsorted, with repeats) in the first `count` slots of
   * the shared scratch array, valid until the next call. */
  private hashBuckets(text: string): { bucketIds: Uint32Array; count: number } {
    if (typeof text !== 'string') {
      throw new BadRecordError('ENCODE_FAILED', `expected a string, got ${text === null ? 'null' : typeof text}`, {
        field: this.field,
      });
    }
    const lowered = (text.length > this.maxChars ? text.slice(0, this.maxChars) : text).toLowerCase();
    const length = lowered.length;
    // Upper bound of n-grams: per word of length L at most 1 unigram + 1 bigram + L trigrams.
    const bound = length * 3 + 2;
    if (this.scratch.length < bound) this.scratch = new Uint32Array(Math.max(bound, this.scratch.length * 2));
    const out = this.scratch;
    const buckets = this.buckets;
    const unigramSeed = (this.seed ^ UNIGRAM_SALT) >>> 0;
    const bigramSeed = (this.seed ^ BIGRAM_SALT) >>> 0;
    const trigramSeed = (this.seed ^ TRIGRAM_SALT) >>> 0;
    let count = 0;
    let previousWordHash = 0;
    let hasPreviousWord = false;
    let i = 0;
    while (i < length) {
      while (i < length && !isWordChar(lowered.charCodeAt(i))) i++;
      if (i >= length) break;
      const start = i;
      while (i < length && isWordChar(lowered.charCodeAt(i))) i++;
      const end = i;
      const wordHash = murmur3(lowered, unigramSeed, start, end);
      if (this.wordUnigrams) out[count++] = wordHash % buckets;
      if (this.wordBigrams && hasPreviousWord) out[count++] = murmur3Int2(previousWordHash, wordHash, bigramSeed) % buckets;
      previousWordHash = wordHash;
      hasPreviousWord = true;
      if (this.charTrigrams) {
        // Padded word `<w…>` has (end - start + 2) units and (end - start) trigrams.
        for (let p = start - 1; p + 2 <= end; p++) {
          const a = p < start ? WORD_START : lowered.charCodeAt(p);
          const b = lowered.charCodeAt(p + 1);
          const c = p + 2 < end ? lowered.charCodeAt(p + 2) : WORD_END;
          out[count++] = murmur3CodeUnits3(a, b, c, trigramSeed) % buckets;
        }
      }
    }
    return { bucketIds: out, count };
  }

  async close(): Promise<void> {}
}

/** ASCII letters/digits/underscore (identifiers stay whole) and every non-ASCII code unit, so
 * accented and CJK text is not dropped; ASCII punctuation and whitespace separate words. */
function isWordChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x5f || code >= 0x80 || (code >= 0x41 && code <= 0x5a)
  );
}
