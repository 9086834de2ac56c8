/**
 * What the scorer gets from a piece of free text (a user request, an agent response, a code
 * snippet): sparse keys it learns one embedding row for, a dense vector from a pretrained
 * encoder, or both. Encoders are created per task; none keeps module-level state.
 */

/** One hashed or exact feature: `key` names the embedding row, `weight` scales it. */
export interface SparseFeature {
  readonly key: string;
  readonly weight: number;
}

/**
 * Values may be shared with an encoder's cache: treat them as immutable. Copying every cached
 * vector on every hit would cost more than the lookup it saves.
 */
export interface EncodedText {
  readonly sparse?: readonly SparseFeature[];
  readonly dense?: Float32Array;
}

export interface TextEncoder {
  /** Stable identifier for describe(), metrics and error messages, e.g. `hashed-ngram/request`. */
  readonly name: string;
  readonly kind: 'sparse' | 'dense';
  /** Length of `dense` vectors; undefined for sparse encoders and for dense ones not loaded yet. */
  readonly dim?: number;
  /** One result per input text, in input order. */
  encode(texts: readonly string[]): Promise<EncodedText[]>;
  /** Releases native resources (model sessions). Idempotent. */
  close(): Promise<void>;
}

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly size: number;
  readonly capacity: number;
}
