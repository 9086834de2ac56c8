/**
 * Row read+update throughput of the state layer — EmbeddingRowStore over the byte-bounded
 * write-back CachingStore over RocksDB — against raw RocksDB getMany/batch of the same row bytes,
 * in one run, on one database, with the same access sequence.
 *
 *   npx tsx bench/state-rows.ts                      # 2,000,000 users, d=32, AdaGrad (1 slot), 64 MiB cache
 *   npx tsx bench/state-rows.ts --users 200000 --batches 400
 *
 * Options: --users N  --dim D  --cache-mib M  --batch B (rows per poll)  --batches K (timed, per
 * side)  --warmup W (untimed polls per side first)  --dist zipf|uniform  --zipf-s S  --commit-every C (polls per flush)  --dir PATH (keep
 * the preloaded database there and reuse it when it already has the rows)  --old-space-mib M (V8
 * old-space limit of the state-layer process, default 128; 0 = V8's default, which lets old space
 * grow to ~4× the live data).
 * Env: BENCH_USERS, BENCH_BATCHES override the defaults the same way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CachingStore } from '../src/state/caching-store.js';
import { EmbeddingRowStore, RESIDENT_ROWS_KEPT, rowKey } from '../src/recommender/rows/embedding-row-store.js';
import type { EmbeddingRow } from '../src/recommender/rows/embedding-row-store.js';
import { ROW_HEADER_BYTES } from '../src/recommender/rows/embedding-row-codec.js';
import { openRocksDbStore } from '../src/state/rocksdb-store.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: process.env.BENCH_USERS ?? '2000000' },
    dim: { type: 'string', default: '32' },
    'cache-mib': { type: 'string', default: '64' },
    batch: { type: 'string', default: '500' },
    batches: { type: 'string', default: process.env.BENCH_BATCHES ?? '2000' },
    warmup: { type: 'string' },
    dist: { type: 'string', default: 'zipf' },
    'zipf-s': { type: 'string', default: '1.0' },
    'commit-every': { type: 'string', default: '20' },
    dir: { type: 'string' },
    /** V8 old-space limit of the state-layer process (--max-old-space-size); 0 = V8's default. */
    'old-space-mib': { type: 'string', default: '128' },
    /** Internal: run one side in this process (main spawns a child per side). */
    phase: { type: 'string' },
  },
});
const users = Number(args.users);
const dim = Number(args.dim);
const cacheBytes = Number(args['cache-mib']) * 1024 * 1024;
const batchSize = Number(args.batch);
const timedBatches = Number(args.batches);
// Long enough by default for the 64 MiB cache to fill under zipf ids (~1000 polls at 2 M users),
// so the timed part measures the steady state a long-running task sits in.
const warmupBatches = Number(args.warmup ?? Math.max(1, Math.min(1000, Math.round(timedBatches / 2))));
const commitEvery = Number(args['commit-every']);
const SLOTS = 1;
const SEED = 20240611;
const MiB = 1024 * 1024;

// The raw baseline must read the very bytes the store wrote: RocksDbStore tags user keys with a
// leading 0x01 byte (rocksdb-store.ts), so the baseline addresses the same physical keys.
const USER_TAG = 0x01;

interface RawDb {
  open(options: object, callback: (error?: Error | null) => void): void;
  close(callback: (error?: Error | null) => void): void;
  getMany(keys: Buffer[], options: object, callback: (error: Error | null, values: (Buffer | undefined)[]) => void): void;
  batch(operations: { type: 'put'; key: Buffer; value: Buffer }[], options: object, callback: (error?: Error | null) => void): void;
}
const rocksdb = createRequire(import.meta.url)('rocksdb') as (location: string) => RawDb;

const rssAtStart = process.memoryUsage().rss;

/** Deterministic uniform [0,1) stream (mulberry32). */
function uniformStream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** User ids, zipf-ranked (hot users) or uniform; ranks are scattered over the id space. */
function idSampler(seed: number): { next: () => number; tableBytes: number } {
  const random = uniformStream(seed);
  let multiplier = 2654435761;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  while (gcd(multiplier, users) !== 1) multiplier += 2;
  const scatter = (rank: number): number => (rank * multiplier) % users;
  if (args.dist === 'uniform') return { next: () => Math.floor(random() * users), tableBytes: 0 };
  const s = Number(args['zipf-s']);
  const cdf = new Float64Array(users);
  let total = 0;
  for (let rank = 0; rank < users; rank++) cdf[rank] = total += 1 / Math.pow(rank + 1, s);
  return {
    tableBytes: cdf.byteLength,
    next: () => {
      const target = random() * total;
      let low = 0;
      let high = users - 1;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (cdf[mid] < target) low = mid + 1;
        else high = mid;
      }
      return scatter(low);
    },
  };
}

/** The same AdaGrad-shaped step on both sides, so only the state path differs. */
function adagradStep(values: Float32Array, accumulators: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    const gradient = 0.1 * values[i] + 0.001;
    accumulators[i] += gradient * gradient;
    values[i] -= (0.05 * gradient) / Math.sqrt(accumulators[i] + 1e-8);
  }
}

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

async function preload(directory: string): Promise<void> {
  const store = await openRocksDbStore(directory);
  const rows = new EmbeddingRowStore(store, { dim, slotCount: SLOTS, slotInitialValue: 0.1, init: { seed: SEED } });
  if ((await store.appliedOffset()) === users) {
    console.log(`preload: reusing ${users.toLocaleString()} rows already in ${directory}`);
    await store.close();
    return;
  }
  const started = performance.now();
  const chunk = 20_000;
  let nextReport = 0.1;
  for (let first = 0; first < users; first += chunk) {
    const keys: Buffer[] = [];
    for (let id = first; id < Math.min(users, first + chunk); id++) keys.push(rowKey('user', `user-${id}`));
    await rows.getRows(keys, Date.now());
    await rows.writeBack(); // created rows reach the store here, as at a commit
    await store.flush(Math.min(users, first + chunk));
    const done = Math.min(users, first + chunk) / users;
    if (done >= nextReport || done === 1) {
      const seconds = (performance.now() - started) / 1000;
      console.log(`preload: ${(done * 100).toFixed(0)}% (${Math.round(done * users).toLocaleString()} rows, ${seconds.toFixed(1)} s)`);
      nextReport += 0.1;
    }
  }
  await store.close();
}

async function runRaw(directory: string): Promise<number> {
  const db = rocksdb(directory);
  await new Promise<void>((resolve, reject) => db.open({ createIfMissing: false }, (e) => (e ? reject(e) : resolve())));
  const sampler = idSampler(SEED);
  const floats = dim * (1 + SLOTS);
  const poll = async (): Promise<void> => {
    const keys: Buffer[] = [];
    for (let i = 0; i < batchSize; i++) {
      const key = rowKey('user', `user-${sampler.next()}`);
      const tagged = Buffer.allocUnsafe(key.length + 1);
      tagged[0] = USER_TAG;
      key.copy(tagged, 1);
      keys.push(tagged);
    }
    const values = await new Promise<(Buffer | undefined)[]>((resolve, reject) =>
      db.getMany(keys, { asBuffer: true }, (e, found) => (e ? reject(e) : resolve(found))),
    );
    const operations = keys.map((key, i) => {
      const stored = values[i] as Buffer;
      const data = new Float32Array(floats);
      new Uint8Array(data.buffer).set(stored.subarray(ROW_HEADER_BYTES));
      adagradStep(data.subarray(0, dim), data.subarray(dim));
      const value = Buffer.alloc(stored.length);
      stored.copy(value, 0, 0, ROW_HEADER_BYTES);
      value.set(new Uint8Array(data.buffer), ROW_HEADER_BYTES);
      return { type: 'put' as const, key, value };
    });
    await new Promise<void>((resolve, reject) => db.batch(operations, { sync: false }, (e) => (e ? reject(e) : resolve())));
  };
  for (let i = 0; i < warmupBatches; i++) await poll();
  const started = performance.now();
  for (let i = 0; i < timedBatches; i++) await poll();
  const seconds = (performance.now() - started) / 1000;
  await new Promise<void>((resolve) => db.close(() => resolve()));
  return (timedBatches * batchSize) / seconds;
}

async function runStateLayer(directory: string): Promise<{ rate: number; cache: CachingStore; flushes: number }> {
  const cache = new CachingStore(await openRocksDbStore(directory), { maxBytes: cacheBytes });
  const rows = new EmbeddingRowStore(cache, { dim, slotCount: SLOTS, slotInitialValue: 0.1, init: { seed: SEED } });
  const sampler = idSampler(SEED);
  let offset = await cache.appliedOffset();
  let flushes = 0;
  let pollsSinceFlush = 0;
  const poll = async (): Promise<void> => {
    const keys: Buffer[] = [];
    for (let i = 0; i < batchSize; i++) keys.push(rowKey('user', `user-${sampler.next()}`));
    const found = await rows.getRows(keys, Date.now());
    const touched = new Set<EmbeddingRow>();
    for (const row of found) {
      if (!row) throw new Error('preloaded row missing');
      adagradStep(row.values, row.slots);
      touched.add(row);
    }
    await rows.putRows(touched);
    offset += batchSize;
    // The runtime commits on an interval and whenever the cache asks to (dirty bytes at the bound).
    if (++pollsSinceFlush >= commitEvery || cache.needsFlush()) {
      await rows.writeBack();
      await cache.flush(offset);
      flushes++;
      pollsSinceFlush = 0;
    }
  };
  for (let i = 0; i < warmupBatches; i++) await poll();
  flushes = 0;
  const started = performance.now();
  for (let i = 0; i < timedBatches; i++) await poll();
  await rows.writeBack();
  await cache.flush(offset);
  const seconds = (performance.now() - started) / 1000;
  return { rate: (timedBatches * batchSize) / seconds, cache, flushes };
}

/**
 * Each side runs in its own child process on the preloaded database, so the state layer's
 * memory is measured from a clean process: the preload (2M row writes) leaves RocksDB memtables,
 * V8 heap and allocator arenas behind that say nothing about the cache bound.
 */
async function main(): Promise<void> {
  const began = performance.now();
  const directory = args.dir ?? (await mkdtemp(join(tmpdir(), 'agentrec-bench-rows-')));
  const rowBytes = ROW_HEADER_BYTES + dim * (1 + SLOTS) * 4;
  console.log(
    `state-rows: ${users.toLocaleString()} users, d=${dim}, ${SLOTS} optimizer slot (${rowBytes} B/row, ` +
      `~${mib(users * rowBytes)} MiB of rows), cache ${mib(cacheBytes)} MiB, ${args.dist} ids` +
      `${args.dist === 'zipf' ? ` (s=${args['zipf-s']})` : ''}, polls of ${batchSize}, ` +
      `${timedBatches} timed polls per side after ${warmupBatches} warm-up, flush every ${commitEvery} polls`,
  );
  try {
    await preload(directory);
    const raw = runPhase('raw', directory);
    console.log(`raw RocksDB getMany+batch:                  ${Math.round(raw.rate).toLocaleString()} rows/s`);
    const state = runPhase('state', directory);
    console.log(
      `EmbeddingRowStore+CachingStore+RocksDbStore: ${Math.round(state.rate).toLocaleString()} rows/s (${state.flushes} flushes in the timed part)`,
    );
    console.log(`ratio state layer / raw: ${(state.rate / raw.rate).toFixed(2)}x`);

    // The stated overhead: what the process needs besides the cache, each part measured or bounded.
    //  - the process at start (Node, imports) and RocksDB's native memory (block cache, memtables,
    //    table readers, allocator) plus the benchmark's zipf table: the raw side's RSS, measured in
    //    this run on the same database and access sequence;
    //  - V8's young generation: two semi-spaces of at most 16 MiB (Node 20 default);
    //  - the row store's resident rows: at most RESIDENT_ROWS_KEPT (plus one poll's) rows, each a
    //    Float32Array of a row's size plus ~300 bytes of objects;
    //  - old-space headroom: V8 keeps garbage between major GCs; bounded by --old-space-mib.
    const youngGeneration = 2 * 16 * MiB;
    const reuseMap = (RESIDENT_ROWS_KEPT + batchSize) * (rowBytes + 300);
    const oldSpaceHeadroom = 32 * MiB;
    const overhead = raw.rss + youngGeneration + reuseMap + oldSpaceHeadroom;
    const ceiling = cacheBytes + overhead;
    console.log(
      `memory (state-layer process, --max-old-space-size=${args['old-space-mib'] === '0' ? 'default' : args['old-space-mib']}): ` +
        `rss ${mib(state.rss)} MiB at the end, ${mib(state.rssAfterGc)} MiB after a full GC; ` +
        `cache holds ${mib(state.cached)} MiB accounted of its ${mib(cacheBytes)} MiB bound (value slabs ${mib(state.arena)} MiB)`,
    );
    console.log(
      `        bound ${mib(cacheBytes)} + stated overhead ${mib(overhead)} MiB (raw side's RSS ${mib(raw.rss)}, ` +
        `V8 young generation ${mib(youngGeneration)}, resident rows ${mib(reuseMap)}, old-space headroom ${mib(oldSpaceHeadroom)}) = ` +
        `${mib(ceiling)} MiB → ${state.rssAfterGc <= ceiling ? 'within' : 'OVER'} the bound after GC, ${state.rss <= ceiling ? 'within' : 'over'} it before GC`,
    );
  } finally {
    if (!args.dir) await rm(directory, { recursive: true, force: true });
  }
  console.log(`total ${((performance.now() - began) / 1000).toFixed(1)} s`);
}

interface PhaseResult {
  rate: number;
  flushes: number;
  rssAtStart: number;
  rss: number;
  rssAfterGc: number;
  cached: number;
  arena: number;
}

function runPhase(phase: 'raw' | 'state', directory: string): PhaseResult {
  const forwarded = process.argv.slice(2).filter((a, i, all) => a !== '--dir' && all[i - 1] !== '--dir');
  const oldSpace = phase === 'state' && args['old-space-mib'] !== '0' ? [`--max-old-space-size=${args['old-space-mib']}`] : [];
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...oldSpace, '--import', 'tsx', fileURLToPath(import.meta.url), ...forwarded, '--dir', directory, '--phase', phase],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * MiB,
    },
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (child.status !== 0 || !line) throw new Error(`${phase} phase failed (exit ${child.status}): ${child.stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as PhaseResult;
}

/** One side, in this (child) process, on an already preloaded database. */
async function runOnePhase(phase: string, directory: string): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (phase === 'raw') {
    const rate = await runRaw(directory);
    console.log(
      `RESULT ${JSON.stringify({ rate, flushes: 0, rssAtStart, rss: process.memoryUsage().rss, rssAfterGc: process.memoryUsage().rss, cached: 0, arena: 0 })}`,
    );
    return;
  }
  const { rate, cache, flushes } = await runStateLayer(directory);
  const rss = process.memoryUsage().rss;
  collect?.();
  const after = process.memoryUsage();
  const { clean, dirty, arena } = cache.cachedBytes;
  console.error(
    `state phase after GC: heapTotal ${mib(after.heapTotal)} heapUsed ${mib(after.heapUsed)} external ${mib(after.external)} arrayBuffers ${mib(after.arrayBuffers)} MiB`,
  );
  console.log(`RESULT ${JSON.stringify({ rate, flushes, rssAtStart, rss, rssAfterGc: after.rss, cached: clean + dirty, arena })}`);
  await cache.close();
}

if (args.phase) await runOnePhase(args.phase, args.dir!);
else await main();
