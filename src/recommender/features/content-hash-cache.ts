import { createHash } from 'node:crypto';
import { AgentrecError, ConfigError } from '../../errors.js';
import type { CacheStats } from './text-encoder.js';

/**
 * A bounded LRU from text content to an encoder's result. Keys are SHA-1 digests, not the texts:
 * agent traffic carries long code snippets and tool outputs, and holding 10k of those as keys
 * would cost more memory than the vectors the cache exists for. SHA-1 is fast, collisions are
 * negligible at this size, and nothing here is security-relevant.
 *
 * Recency is Map insertion order: a hit re-inserts its entry, eviction drops the oldest.
 *
 * @example
 * const cache = new ContentHashCache<Float32Array>(10_000);
 * const vectors = await cache.resolve(texts, (misses) => model.embed(misses));
 */
export class ContentHashCache<V> {
  readonly capacity: number;
  private readonly entries = new Map<string, V>();
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  /** Callers that want no cache should not create one, so `capacity` must be positive;
   * `configPath` is where it came from in the topology config, for the error. */
  constructor(capacity: number, configPath = '/cacheSize') {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new ConfigError(configPath, `must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  static keyOf(text: string): string {
    return createHash('sha1').update(text).digest('base64');
  }

  get(text: string): V | undefined {
    return this.lookup(ContentHashCache.keyOf(text));
  }

  set(text: string, value: V): void {
    this.store(ContentHashCache.keyOf(text), value);
  }

  /**
   * Results for `texts` in order, calling `compute` once with the distinct texts not cached.
   * A text repeated within one call is computed once; its repeats count as hits, since they
   * are served without computing.
   */
  async resolve(texts: readonly string[], compute: (misses: string[]) => Promise<V[]>): Promise<V[]> {
    const results = new Array<V>(texts.length);
    const missIndex = new Map<string, number>();
    const missTexts: string[] = [];
    const pending: { position: number; missSlot: number }[] = [];
    for (let position = 0; position < texts.length; position++) {
      const key = ContentHashCache.keyOf(texts[position]);
      const cached = this.lookup(key);
      if (cached !== undefined) {
        results[position] = cached;
        continue;
      }
      let missSlot = missIndex.get(key);
      if (missSlot === undefined) {
        missSlot = missTexts.length;
        missIndex.set(key, missSlot);
        missTexts.push(texts[position]);
      } else {
        // lookup() counted this repeat as a miss, but it will not be computed again.
        this.misses--;
        this.hits++;
      }
      pending.push({ position, missSlot });
    }
    if (missTexts.length === 0) return results;
    const computed = await compute(missTexts);
    if (computed.length !== missTexts.length) {
      throw new AgentrecError('ENCODE_FAILED', `encoder returned ${computed.length} results for ${missTexts.length} texts`);
    }
    for (const { position, missSlot } of pending) results[position] = computed[missSlot];
    for (const [key, missSlot] of missIndex) this.store(key, computed[missSlot]);
    return results;
  }

  stats(): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      size: this.entries.size,
      capacity: this.capacity,
    };
  }

  clear(): void {
    this.entries.clear();
  }

  private lookup(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  private store(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictions++;
    }
  }
}
