import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { FeatureExtractionPipeline } from '@huggingface/transformers';
import { AgentrecError, ConfigError } from '../../errors.js';
import { ContentHashCache } from './content-hash-cache.js';
import type { CacheStats, EncodedText, TextEncoder } from './text-encoder.js';

export interface TransformersEncoderOptions {
  /** The event field the text comes from; part of the encoder's name. */
  readonly field: string;
  /**
   * A local model folder in the transformers.js layout (`config.json`, `tokenizer.json`,
   * `tokenizer_config.json`, `onnx/model.onnx`). Its last path segment is the model name.
   */
  readonly modelDir: string;
  /** Texts per model run. Default 32. */
  readonly batchSize?: number;
  /** Distinct texts whose vectors are kept (LRU by content hash). 0 disables the cache. Default 10 000. */
  readonly cacheSize?: number;
  /** ONNX Runtime intra-op threads; unset lets ORT use every core. */
  readonly threads?: number;
  /**
   * Where ONNX Runtime runs the model: 'cpu' (default) or 'webgpu' (its WebGPU execution
   * provider, which brings its own Dawn: any Vulkan driver serves, lavapipe included). A device
   * that cannot start fails the load with MODEL_LOAD_FAILED, as a bad model does.
   */
  readonly device?: TextEncoderDevice;
  /** JSON pointer of these options in the topology config, used in ConfigError paths. Default `/encode`. */
  readonly configPath?: string;
}

export type TextEncoderDevice = 'cpu' | 'webgpu';
export const TEXT_ENCODER_DEVICES: readonly TextEncoderDevice[] = ['cpu', 'webgpu'];

const DEFAULT_BATCH_SIZE = 32;
const DEFAULT_CACHE_SIZE = 10_000;
// What transformers.js accepts as a model id (utils/hub/constants.js REPO_ID_REGEX, minus the
// owner prefix): anything else is treated as a URL/path relative to the cwd, not to the folder.
const MODEL_NAME = /^[\w.-]{1,96}$/;
const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', join('onnx', 'model.onnx')];

/**
 * Dense sentence vectors from a pretrained encoder run by @huggingface/transformers
 * (feature-extraction pipeline, mean pooling, L2-normalised) from a LOCAL model folder only:
 * remote model loading is switched off, since production and CI cannot reach a model hub and
 * a silent download would be worse than a clear failure.
 *
 * The model loads once, on `load()` or the first `encode()`; a failed load is remembered and
 * every later call rejects with the same MODEL_LOAD_FAILED error naming the folder. Texts go
 * through the content-hash cache first; misses run in batches of `batchSize`.
 *
 * transformers.js keeps `env.localModelPath` process-wide and reads it while loading, so
 * encoders whose model folders have different parents must not load concurrently.
 *
 * @example
 * const encoder = new TransformersEncoder({ field: 'request', modelDir: '.models/tiny-bert' });
 * const [{ dense }] = await encoder.encode(['run the failing test again']);
 * // dense: Float32Array(encoder.dim), unit length
 */
export class TransformersEncoder implements TextEncoder {
  readonly name: string;
  readonly kind = 'dense' as const;
  readonly modelDir: string;
  readonly batchSize: number;
  private readonly threads?: number;
  readonly device: TextEncoderDevice;
  private readonly cache?: ContentHashCache<EncodedText>;
  private loading?: Promise<FeatureExtractionPipeline>;
  private hiddenSize?: number;
  private closed = false;

  constructor(options: TransformersEncoderOptions) {
    const at = options.configPath ?? '/encode';
    if (typeof options.field !== 'string' || options.field.length === 0) {
      throw new ConfigError(`${at}/field`, 'must be a non-empty string');
    }
    if (typeof options.modelDir !== 'string' || options.modelDir.length === 0) {
      throw new ConfigError(`${at}/modelDir`, 'must be a path to a local model folder');
    }
    this.modelDir = resolve(options.modelDir);
    const modelName = basename(this.modelDir);
    if (!MODEL_NAME.test(modelName) || modelName.includes('..') || modelName.includes('--')) {
      throw new ConfigError(`${at}/modelDir`, `folder name '${modelName}' must match ${MODEL_NAME} (no '..' or '--')`);
    }
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(this.batchSize) || this.batchSize <= 0) {
      throw new ConfigError(`${at}/batchSize`, `must be a positive integer, got ${options.batchSize}`);
    }
    const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      throw new ConfigError(`${at}/cacheSize`, `must be a non-negative integer, got ${options.cacheSize}`);
    }
    if (cacheSize > 0) this.cache = new ContentHashCache(cacheSize, `${at}/cacheSize`);
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads <= 0)) {
      throw new ConfigError(`${at}/threads`, `must be a positive integer, got ${options.threads}`);
    }
    this.threads = options.threads;
    this.device = options.device ?? 'cpu';
    if (!TEXT_ENCODER_DEVICES.includes(this.device)) {
      throw new ConfigError(`${at}/device`, `must be one of ${TEXT_ENCODER_DEVICES.join(', ')}, got ${String(options.device)}`);
    }
    this.name = `transformers/${modelName}/${options.field}`;
  }

  /** `hidden_size` from the model's config.json; undefined until loaded. */
  get dim(): number | undefined {
    return this.hiddenSize;
  }

  /** Loads the model (once). Rejects with AgentrecError MODEL_LOAD_FAILED naming the folder. */
  async load(): Promise<void> {
    await this.model();
  }

  async encode(texts: readonly string[]): Promise<EncodedText[]> {
    for (const text of texts) {
      if (typeof text !== 'string') {
        throw new AgentrecError('ENCODE_FAILED', `expected a string, got ${text === null ? 'null' : typeof text}`, {
          field: this.name,
        });
      }
    }
    const model = await this.model();
    if (!this.cache) return this.embed(model, texts);
    return this.cache.resolve(texts, (misses) => this.embed(model, misses));
  }

  /** Undefined when the cache is disabled (`cacheSize: 0`). */
  cacheStats(): CacheStats | undefined {
    return this.cache?.stats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache?.clear();
    const loading = this.loading;
    if (!loading) return;
    const model = await loading.catch(() => undefined);
    await model?.dispose();
  }

  private model(): Promise<FeatureExtractionPipeline> {
    if (this.closed) {
      return Promise.reject(new AgentrecError('ENCODE_FAILED', `encoder ${this.name} is closed`));
    }
    this.loading ??= this.loadModel();
    return this.loading;
  }

  private async loadModel(): Promise<FeatureExtractionPipeline> {
    const fail = (reason: string, cause?: unknown) =>
      new AgentrecError('MODEL_LOAD_FAILED', `cannot load model folder ${this.modelDir}: ${reason}`, { cause });
    if (!existsSync(this.modelDir) || !statSync(this.modelDir).isDirectory()) throw fail('no such directory');
    const missing = REQUIRED_FILES.filter((file) => !existsSync(join(this.modelDir, file)));
    if (missing.length > 0) throw fail(`missing ${missing.join(', ')}`);
    let hiddenSize: unknown;
    try {
      hiddenSize = (JSON.parse(readFileSync(join(this.modelDir, 'config.json'), 'utf8')) as { hidden_size?: unknown }).hidden_size;
    } catch (err) {
      throw fail('config.json is not valid JSON', err);
    }
    if (!Number.isInteger(hiddenSize) || (hiddenSize as number) <= 0) {
      throw fail('config.json has no positive integer hidden_size');
    }

    try {
      // Imported on first load, not at module load: it pulls in ONNX Runtime's native binding,
      // which topologies using only the hashed encoder should never pay for.
      const { env, pipeline } = await import('@huggingface/transformers');
      env.allowLocalModels = true;
      env.allowRemoteModels = false;
      env.localModelPath = dirname(this.modelDir);
      const model = await pipeline('feature-extraction', basename(this.modelDir), {
        dtype: 'fp32',
        local_files_only: true,
        device: this.device,
        ...(this.threads ? { session_options: { intraOpNumThreads: this.threads } } : {}),
      });
      this.hiddenSize = hiddenSize as number;
      return model;
    } catch (err) {
      throw fail(err instanceof Error ? err.message : String(err), err);
    }
  }

  private async embed(model: FeatureExtractionPipeline, texts: readonly string[]): Promise<EncodedText[]> {
    const results: EncodedText[] = [];
    const dim = this.hiddenSize as number;
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      const output = await model(batch, { pooling: 'mean', normalize: true });
      if (output.dims.length !== 2 || output.dims[0] !== batch.length || output.dims[1] !== dim) {
        throw new AgentrecError(
          'ENCODE_FAILED',
          `model ${this.modelDir} returned shape [${output.dims.join(', ')}], expected [${batch.length}, ${dim}]`,
        );
      }
      const data = output.data as Float32Array;
      // slice, not subarray: a cached vector must not pin its whole batch's buffer in memory.
      for (let row = 0; row < batch.length; row++) results.push({ dense: data.slice(row * dim, (row + 1) * dim) });
      output.dispose();
    }
    return results;
  }
}
