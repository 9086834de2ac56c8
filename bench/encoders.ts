/**
 * Text-encoder throughput on one synthetic corpus of short agent-request texts, in one run:
 *
 *   - hashed n-gram encoder (the default; word 1+2-grams + char 3-grams, 2^18 buckets)
 *   - transformers encoder on the generated tiny BERT-shaped model (batch 32, cache disabled):
 *     the baseline, i.e. the cheapest possible model-backed path (tokenizer + ONNX Runtime +
 *     pooling); a real sentence encoder is far slower, so the ratio is a lower bound
 *   - transformers encoder with every text already in the content-hash cache
 *   - transformers encoder on WebGPU (`device: 'webgpu'`, ONNX Runtime's WebGPU provider; on
 *     lavapipe, software Vulkan, it only shows that it runs: the tiny model has no compute to move)
 *
 *   npx tsx bench/encoders.ts            (BENCH_SECONDS=1 per measurement by default)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyModel } from '../scripts/make-tiny-model.js';
import { HashedNgramEncoder } from '../src/recommender/features/hashed-ngram-encoder.js';
import { TransformersEncoder } from '../src/recommender/features/transformers-encoder.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const CORPUS_SIZE = 8192;
const BATCH = 32;

function syntheticCorpus(size: number, seed: number): string[] {
  const verbs = ['fix', 'add', 'refactor', 'explain', 'deploy', 'review', 'test', 'rename', 'remove', 'debug', 'book', 'summarize'];
  const objects = [
    'the failing test',
    'the parser',
    'a retry loop',
    'the kafka consumer',
    'the login page',
    'this function',
    'the migration',
    'a flight to paris',
    'the readme',
    'the memory leak',
    'the ci pipeline',
    'the api endpoint',
  ];
  const tails = [
    'in src/server.ts',
    'before the release',
    'please',
    'it times out after 30s',
    'for user 42',
    'and open a pr',
    'on the staging cluster',
    'with a unit test',
    'tomorrow morning',
    '',
  ];
  let state = seed >>> 0;
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const texts: string[] = [];
  for (let i = 0; i < size; i++) {
    // The request number keeps texts distinct, so uncached runs really are uncached.
    texts.push(`${verbs[next(verbs.length)]} ${objects[next(objects.length)]} ${tails[next(tails.length)]} #${i}`.trim());
  }
  return texts;
}

/** Runs `round` (which encodes `textsPerRound` texts) until SECONDS elapse; returns texts/s. */
async function throughput(textsPerRound: number, round: () => unknown): Promise<number> {
  await round(); // warm-up: JIT, ORT session first run
  let texts = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    await round();
    texts += textsPerRound;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < SECONDS);
  return texts / elapsed;
}

async function inBatches(encoder: TransformersEncoder, texts: string[]): Promise<void> {
  for (let i = 0; i < texts.length; i += BATCH) await encoder.encode(texts.slice(i, i + BATCH));
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const corpus = syntheticCorpus(CORPUS_SIZE, 42);
  const meanChars = corpus.reduce((sum, t) => sum + t.length, 0) / corpus.length;
  const root = mkdtempSync(join(tmpdir(), 'agentrec-bench-encoders-'));
  try {
    const { modelDir, hidden } = makeTinyModel(root, 'tiny-bert');

    const hashed = new HashedNgramEncoder({ field: 'request' });
    const hashedRate = await throughput(corpus.length, () => {
      for (const text of corpus) hashed.encodeText(text);
    });

    const uncached = new TransformersEncoder({ field: 'request', modelDir, batchSize: BATCH, cacheSize: 0 });
    await uncached.load();
    const slice = corpus.slice(0, 1024);
    const transformersRate = await throughput(slice.length, () => inBatches(uncached, slice));
    await uncached.close();

    let gpuRate: number | string;
    const onGpu = new TransformersEncoder({ field: 'request', modelDir, batchSize: BATCH, cacheSize: 0, device: 'webgpu' });
    try {
      await onGpu.load();
      gpuRate = await throughput(slice.length, () => inBatches(onGpu, slice));
    } catch (err) {
      gpuRate = (err as Error).message;
    } finally {
      await onGpu.close();
    }

    const cached = new TransformersEncoder({ field: 'request', modelDir, batchSize: BATCH, cacheSize: CORPUS_SIZE });
    await inBatches(cached, corpus); // fill: every later lookup hits
    const cacheHitRate = await throughput(corpus.length, () => inBatches(cached, corpus));
    const stats = cached.cacheStats()!;
    await cached.close();

    const row = (label: string, rate: number, note = '') =>
      console.log(`  ${label.padEnd(58)} ${fmt(rate).padStart(10)} texts/s  ${note}`.trimEnd());
    console.log(`encoders: ${CORPUS_SIZE} synthetic agent requests (mean ${meanChars.toFixed(1)} chars), ${SECONDS}s per measurement`);
    row(`transformers (tiny model, hidden ${hidden}, batch ${BATCH}, no cache)`, transformersRate, '[baseline]');
    row('hashed n-gram (1+2-gram words, char 3-grams, 2^18 buckets)', hashedRate);
    row(`transformers, all cache hits (batch ${BATCH})`, cacheHitRate, `(hits ${stats.hits}, misses ${stats.misses})`);
    if (typeof gpuRate === 'number') row(`transformers on WebGPU (same model, batch ${BATCH}, no cache)`, gpuRate);
    else console.log(`  transformers on WebGPU: unavailable (${gpuRate})`);
    console.log(`  ratio hashed / transformers:     ${(hashedRate / transformersRate).toFixed(1)}x`);
    console.log(`  ratio cache hit / transformers:  ${(cacheHitRate / transformersRate).toFixed(1)}x`);
    if (typeof gpuRate === 'number') console.log(`  ratio WebGPU / CPU transformers: ${(gpuRate / transformersRate).toFixed(2)}x`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
