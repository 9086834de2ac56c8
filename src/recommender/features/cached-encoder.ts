import type { CacheStats, EncodedText, TextEncoder } from './text-encoder.js';
import { ContentHashCache } from './content-hash-cache.js';

export interface CachedEncoderOptions {
  /** Most distinct texts remembered (LRU). */
  readonly capacity: number;
  /** JSON pointer of `capacity` in the topology config, for ConfigError. Default `/encode/cacheSize`. */
  readonly configPath?: string;
}

/**
 * Puts a content-hash LRU in front of any TextEncoder: agents repeat themselves (retries, the
 * same tool call, boilerplate system text), and a cached vector costs a SHA-1 instead of a model
 * run. Only texts missing from the cache reach the inner encoder, in one call, deduplicated.
 * Worth it for model-backed encoders; the hashed n-gram encoder is about as fast as the hash.
 *
 * @example
 * const encoder = new CachedEncoder(new TransformersEncoder({ field: 'request', modelDir, cacheSize: 0 }), { capacity: 50_000 });
 * const [vector] = await encoder.encode(['open a PR for the fix']);
 */
export class CachedEncoder implements TextEncoder {
  readonly name: string;
  readonly kind: 'sparse' | 'dense';
  private readonly cache: ContentHashCache<EncodedText>;

  constructor(
    private readonly inner: TextEncoder,
    options: CachedEncoderOptions,
  ) {
    this.name = inner.name;
    this.kind = inner.kind;
    this.cache = new ContentHashCache(options.capacity, options.configPath ?? '/encode/cacheSize');
  }

  get dim(): number | undefined {
    return this.inner.dim;
  }

  encode(texts: readonly string[]): Promise<EncodedText[]> {
    return this.cache.resolve(texts, (misses) => this.inner.encode(misses));
  }

  cacheStats(): CacheStats {
    return this.cache.stats();
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.inner.close();
  }
}
