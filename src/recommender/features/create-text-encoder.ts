import { ConfigError } from '../../errors.js';
import { HashedNgramEncoder } from './hashed-ngram-encoder.js';
import type { TextEncoder } from './text-encoder.js';
import { TransformersEncoder, type TextEncoderDevice } from './transformers-encoder.js';

export interface TextEncoderConfig {
  /** The event field the text comes from. */
  readonly field: string;
  /** A local transformers.js model folder. Absent → the hashed n-gram encoder (the default). */
  readonly modelDir?: string;
  /** Hashed encoder: number of learned rows. */
  readonly buckets?: number;
  /** Hashed encoder: which n-grams (default all: word unigrams, word bigrams, char trigrams). */
  readonly ngrams?: { readonly wordBigrams?: boolean; readonly charTrigrams?: boolean };
  /** Hashed encoder: characters encoded per text. */
  readonly maxChars?: number;
  /** Transformers encoder: texts per model run. */
  readonly batchSize?: number;
  /** Transformers encoder: cached vectors (0 disables). */
  readonly cacheSize?: number;
  /** Transformers encoder: 'cpu' (default) or 'webgpu'. */
  readonly device?: TextEncoderDevice;
  /** JSON pointer of this config in the topology, for ConfigError paths. Default `/encode`. */
  readonly configPath?: string;
}

/**
 * Picks the text encoder a topology asked for. The hashed n-gram encoder is the default because
 * it needs no model files, starts instantly and learns its rows online; a pretrained model is
 * opt-in by naming its folder. Options meant for the other encoder are rejected rather than
 * ignored, so a typo in a topology does not silently change what gets encoded.
 *
 * @example
 * const encoder = createTextEncoder({ field: 'request' });                                // hashed
 * const dense = createTextEncoder({ field: 'request', modelDir: '.models/tiny-bert' });  // transformers
 */
export function createTextEncoder(config: TextEncoderConfig): TextEncoder {
  const at = config.configPath ?? '/encode';
  if (config.modelDir === undefined) {
    rejectOption(config.batchSize, `${at}/batchSize`, 'only applies with modelDir');
    rejectOption(config.cacheSize, `${at}/cacheSize`, 'only applies with modelDir');
    rejectOption(config.device, `${at}/device`, 'only applies with modelDir');
    return new HashedNgramEncoder({
      field: config.field,
      buckets: config.buckets,
      wordBigrams: config.ngrams?.wordBigrams,
      charTrigrams: config.ngrams?.charTrigrams,
      maxChars: config.maxChars,
      configPath: at,
    });
  }
  rejectOption(config.buckets, `${at}/buckets`, 'only applies without modelDir (hashed encoder)');
  rejectOption(config.maxChars, `${at}/maxChars`, 'only applies without modelDir (hashed encoder)');
  rejectOption(config.ngrams, `${at}/ngrams`, 'only applies without modelDir (hashed encoder)');
  return new TransformersEncoder({
    field: config.field,
    modelDir: config.modelDir,
    batchSize: config.batchSize,
    cacheSize: config.cacheSize,
    device: config.device,
    configPath: at,
  });
}

function rejectOption(value: unknown, path: string, why: string): void {
  if (value !== undefined) throw new ConfigError(path, why);
}
