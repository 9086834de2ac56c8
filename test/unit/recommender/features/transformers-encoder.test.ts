import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../scripts/make-tiny-model.js';
import { AgentrecError, ConfigError } from '../../../../src/errors.js';
import { createTextEncoder } from '../../../../src/recommender/features/create-text-encoder.js';
import { HashedNgramEncoder } from '../../../../src/recommender/features/hashed-ngram-encoder.js';
import { TransformersEncoder } from '../../../../src/recommender/features/transformers-encoder.js';
import { skipGpu } from '../../../support/webgpu-adapter.js';

const HIDDEN = 32;
let root: string;
let modelDir: string;
let encoder: TransformersEncoder;

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i], 0);
const norm = (a: Float32Array) => Math.sqrt(cosine(a, a));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'agentrec-encoders-'));
  modelDir = makeTinyModel(root, 'tiny-bert', { hidden: HIDDEN }).modelDir;
  encoder = new TransformersEncoder({ field: 'request', modelDir, batchSize: 4, cacheSize: 100 });
  await encoder.load();
});

afterAll(async () => {
  await encoder?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('makeTinyModel', () => {
  it('writes byte-identical files for the same seed, different weights for another seed', () => {
    const again = makeTinyModel(root, 'tiny-bert-again', { hidden: HIDDEN });
    const other = makeTinyModel(root, 'tiny-bert-other', { hidden: HIDDEN, seed: 7 });
    const onnx = (dir: string) => readFileSync(join(dir, 'onnx', 'model.onnx'));
    expect(onnx(again.modelDir).equals(onnx(modelDir))).toBe(true);
    expect(onnx(other.modelDir).equals(onnx(modelDir))).toBe(false);
    expect(JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'))).toMatchObject({
      model_type: 'bert',
      hidden_size: HIDDEN,
    });
  });
});

describe('TransformersEncoder on the generated tiny model', () => {
  it('returns one dim-length unit vector per text, dim taken from the model config', async () => {
    expect(encoder.dim).toBe(HIDDEN);
    const texts = ['fix the failing test', 'deploy to kubernetes', '', 'x'];
    const encoded = await encoder.encode(texts);
    expect(encoded).toHaveLength(texts.length);
    for (const { dense, sparse } of encoded) {
      expect(sparse).toBeUndefined();
      expect(dense).toBeInstanceOf(Float32Array);
      expect(dense!.length).toBe(HIDDEN);
      expect(norm(dense!)).toBeCloseTo(1, 5);
    }
    expect(encoded[0].dense).not.toEqual(encoded[1].dense);
  });

  it('gives the same vectors batched (with padding across texts of different lengths) as one by one', async () => {
    const batched = new TransformersEncoder({ field: 'request', modelDir, batchSize: 3, cacheSize: 0 });
    const single = new TransformersEncoder({ field: 'request', modelDir, batchSize: 1, cacheSize: 0 });
    const texts = [
      'run the tests',
      'please refactor the parser module and update the readme before the release',
      'book a cheap hotel in tokyo',
      'why does the kafka consumer timeout',
      'ok',
    ];
    const [many, oneByOne] = await Promise.all([batched.encode(texts), single.encode(texts)]);
    for (let i = 0; i < texts.length; i++) {
      const a = many[i].dense!;
      const b = oneByOne[i].dense!;
      for (let d = 0; d < HIDDEN; d++) expect(a[d]).toBeCloseTo(b[d], 5);
    }
    await Promise.all([batched.close(), single.close()]);
  });

  it('serves identical texts from the content-hash cache', async () => {
    const cached = new TransformersEncoder({ field: 'request', modelDir, cacheSize: 10 });
    const [first] = await cached.encode(['merge the branch']);
    expect(cached.cacheStats()).toMatchObject({ hits: 0, misses: 1, size: 1 });
    const [again, other] = await cached.encode(['merge the branch', 'revert the commit']);
    expect(cached.cacheStats()).toMatchObject({ hits: 1, misses: 2, size: 2 });
    expect(again.dense).toBe(first.dense);
    expect(other.dense).not.toEqual(first.dense);
    await cached.close();
  });

  it('places texts that share tokens closer than unrelated ones', async () => {
    const [parser, lexer, flight] = await encoder.encode([
      'fix the failing test in the parser',
      'fix the failing test in the lexer',
      'book a cheap flight to paris tomorrow',
    ]);
    const related = cosine(parser.dense!, lexer.dense!);
    expect(related).toBeGreaterThan(cosine(parser.dense!, flight.dense!));
    expect(related).toBeGreaterThan(cosine(lexer.dense!, flight.dense!));
  });

  it('fails with MODEL_LOAD_FAILED naming the folder when it does not exist', async () => {
    const missing = join(root, 'no-such-model');
    const broken = new TransformersEncoder({ field: 'request', modelDir: missing });
    const error = await broken.encode(['hi']).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AgentrecError);
    expect((error as AgentrecError).code).toBe('MODEL_LOAD_FAILED');
    expect((error as AgentrecError).message).toContain(missing);
    // The failure is remembered: no reload attempt, same error.
    expect(await broken.load().catch((err: unknown) => err)).toBe(error);
  });

  it('fails with MODEL_LOAD_FAILED when the folder lacks the ONNX file', async () => {
    const partial = makeTinyModel(root, 'tiny-bert-partial').modelDir;
    unlinkSync(join(partial, 'onnx', 'model.onnx'));
    const error = await new TransformersEncoder({ field: 'f', modelDir: partial }).load().catch((err: unknown) => err);
    expect((error as AgentrecError).code).toBe('MODEL_LOAD_FAILED');
    expect((error as AgentrecError).message).toContain(partial);
    expect((error as AgentrecError).message).toContain('model.onnx');
  });

  it('fails with MODEL_LOAD_FAILED when the ONNX file is corrupt', async () => {
    const corrupt = makeTinyModel(root, 'tiny-bert-corrupt').modelDir;
    const onnxPath = join(corrupt, 'onnx', 'model.onnx');
    const bytes = readFileSync(onnxPath);
    writeFileSync(onnxPath, bytes.subarray(0, 100));
    const error = await new TransformersEncoder({ field: 'f', modelDir: corrupt }).load().catch((err: unknown) => err);
    expect((error as AgentrecError).code).toBe('MODEL_LOAD_FAILED');
    expect((error as AgentrecError).message).toContain(corrupt);
  });

  it('rejects encode after close', async () => {
    const closing = new TransformersEncoder({ field: 'f', modelDir });
    await closing.load();
    await closing.close();
    await closing.close();
    await expect(closing.encode(['x'])).rejects.toThrow(/closed/);
  });

  it('validates its config with JSON-pointer paths', () => {
    expect(() => new TransformersEncoder({ field: 'f', modelDir, batchSize: 0 })).toThrow(/\/encode\/batchSize/);
    expect(() => new TransformersEncoder({ field: 'f', modelDir, cacheSize: -1 })).toThrow(/\/encode\/cacheSize/);
    expect(() => new TransformersEncoder({ field: 'f', modelDir: join(root, 'bad--name') })).toThrow(ConfigError);
    expect(() => new TransformersEncoder({ field: 'f', modelDir: '' })).toThrow(/\/encode\/modelDir/);
    expect(() => new TransformersEncoder({ field: 'f', modelDir, device: 'cuda' as 'cpu' })).toThrow(/\/encode\/device.*cpu, webgpu/);
  });

  it.skipIf(skipGpu)("runs on WebGPU (ONNX Runtime's provider) and gives the vectors the CPU gives", async () => {
    const texts = ['run the failing test again', 'deploy the api server', 'explain this function'];
    const gpu = new TransformersEncoder({ field: 'request', modelDir, cacheSize: 0, device: 'webgpu' });
    try {
      const [onCpu, onGpu] = [await encoder.encode(texts), await gpu.encode(texts)];
      expect(gpu.device).toBe('webgpu');
      onGpu.forEach((encoded, i) => {
        const [a, b] = [encoded.dense!, onCpu[i].dense!];
        expect(a.length).toBe(HIDDEN);
        for (let k = 0; k < HIDDEN; k++) expect(Math.abs(a[k] - b[k])).toBeLessThan(1e-4);
      });
    } finally {
      await gpu.close();
    }
  });
});

describe('createTextEncoder', () => {
  it('defaults to the hashed n-gram encoder and picks transformers when a model folder is given', async () => {
    expect(createTextEncoder({ field: 'request' })).toBeInstanceOf(HashedNgramEncoder);
    const dense = createTextEncoder({ field: 'request', modelDir, cacheSize: 0 });
    expect(dense).toBeInstanceOf(TransformersEncoder);
    const [encoded] = await dense.encode(['list open tickets']);
    expect(encoded.dense!.length).toBe(HIDDEN);
    await dense.close();
  });

  it('rejects options that belong to the other encoder', () => {
    expect(() => createTextEncoder({ field: 'f', batchSize: 8 })).toThrow(/\/encode\/batchSize/);
    expect(() => createTextEncoder({ field: 'f', device: 'webgpu' })).toThrow(/\/encode\/device/);
    expect(() => createTextEncoder({ field: 'f', modelDir, buckets: 16, configPath: '/steps/enc' })).toThrow(/\/steps\/enc\/buckets/);
  });
});
