export type { CacheStats, EncodedText, SparseFeature, TextEncoder } from './text-encoder.js';
export { HashedNgramEncoder, type HashedNgramEncoderOptions } from './hashed-ngram-encoder.js';
export { TransformersEncoder, type TransformersEncoderOptions } from './transformers-encoder.js';
export { CachedEncoder, type CachedEncoderOptions } from './cached-encoder.js';
export { ContentHashCache } from './content-hash-cache.js';
export { createTextEncoder, type TextEncoderConfig } from './create-text-encoder.js';
export { murmur3, murmur3CodeUnits3, murmur3Int2 } from './murmur3.js';
