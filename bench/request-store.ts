/**
 * What keeping scored requests for their feedback costs the state layer: the chunked request
 * store (RequestChunkStore) against the layout it replaced — one stored value per request, one
 * tombstone per purged request — over the same write-back cache and RocksDB, in one run, with
 * the same requests. Both sides store N requests with a commit every --commit-every requests
 * (the changelog's records and bytes counted from what each commit publishes), look up
 * --lookups feedback ids (the latest requests, as feedback mostly answers), then purge them
 * all. The chunked side also reopens its store and rebuilds its index (a restart).
 *
 *   npm run build && node dist/bench/request-store.js [--requests 500000] [--commit-every 20000] [--lookups 100000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RequestChunkStore } from '../src/recommender/requests/request-chunk-store.js';
import { decodeRequestSnapshot, encodeRequestSnapshot } from '../src/recommender/requests/request-snapshot-codec.js';
import type { RequestSnapshot } from '../src/recommender/types.js';
import { CachingStore } from '../src/state/caching-store.js';
import { openRocksDbStore } from '../src/state/rocksdb-store.js';
import type { ChangedEntry, KeyValueStore } from '../src/state/store.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '500000' },
    'commit-every': { type: 'string', default: '20000' },
    lookups: { type: 'string', default: '100000' },
  },
});
const count = Number(args.requests);
const commitEvery = Number(args['commit-every']);
const lookups = Math.min(count, Number(args.lookups));
const TTL = 3600_000;
const T0 = Date.UTC(2026, 11, 2);

/** Requests shaped like the simulated traffic's: 13 features, 20 candidates. */
function request(i: number): RequestSnapshot {
  return {
    requestId: `req-${i}-${(i * 2654435761) >>> 0}`,
    userId: `user-${i % 2000}`,
    eventTime: T0 + i,
    features: Array.from({ length: 13 }, (_, k) => ({ key: `feature-${(i + k * 7) % 500}`, weight: 1 })),
    candidates: Array.from({ length: 20 }, (_, k) => `action-${(i + k * 13) % 300}`),
  };
}

interface Side {
  store(snapshot: RequestSnapshot): Promise<void>;
  beforeCommit(): Promise<void>;
  find(ids: string[]): Promise<(RequestSnapshot | undefined)[]>;
  purge(now: number): Promise<number>;
}

interface Measured {
  storeSeconds: number;
  records: number;
  bytes: number;
  lookupSeconds: number;
  found: number;
  purgeSeconds: number;
  purged: number;
  purgeRecords: number;
}

async function measure(
  name: string,
  open: (store: KeyValueStore) => Promise<Side>,
  dir: string,
): Promise<{ measured: Measured; cache: CachingStore }> {
  const cache = await openCache(dir);
  const side = await open(cache);
  let records = 0;
  let bytes = 0;
  let offset = 0;
  const publish = async (changes: ChangedEntry[]) => {
    records += changes.length;
    for (const change of changes) bytes += change.key.length + (change.value?.length ?? 0);
  };
  const commit = async () => {
    await side.beforeCommit();
    await cache.flush(offset++, publish);
  };
  const requests = Array.from({ length: count }, (_, i) => request(i));
  let started = performance.now();
  for (let i = 0; i < count; i++) {
    await side.store(requests[i]);
    if ((i + 1) % commitEvery === 0) await commit();
  }
  await commit();
  const storeSeconds = (performance.now() - started) / 1000;
  const ids = Array.from({ length: lookups }, (_, k) => requests[count - 1 - k].requestId);
  started = performance.now();
  // In batches of 100, as a poll's feedback is looked up.
  let found = 0;
  for (let at = 0; at < ids.length; at += 100) found += (await side.find(ids.slice(at, at + 100))).filter(Boolean).length;
  const lookupSeconds = (performance.now() - started) / 1000;
  const recordsBeforePurge = records;
  started = performance.now();
  const purged = await side.purge(T0 + count + 2 * TTL);
  await commit();
  const purgeSeconds = (performance.now() - started) / 1000;
  console.error(`${name}: done`);
  return {
    measured: {
      storeSeconds,
      records: recordsBeforePurge,
      bytes,
      lookupSeconds,
      found,
      purgeSeconds,
      purged,
      purgeRecords: records - recordsBeforePurge,
    },
    cache,
  };
}

/** The layout before chunks: the request id is the key, the snapshot the value. */
async function perRequest(store: KeyValueStore): Promise<Side> {
  const stored: { key: Buffer; time: number }[] = [];
  return {
    async store(snapshot) {
      const key = Buffer.from(snapshot.requestId);
      await store.put(key, encodeRequestSnapshot(snapshot));
      stored.push({ key, time: snapshot.eventTime });
    },
    async beforeCommit() {},
    async find(ids) {
      return (await store.getMany(ids.map((id) => Buffer.from(id)))).map((value) => (value ? decodeRequestSnapshot(value) : undefined));
    },
    async purge(now) {
      // The expiry index it had: keys in time order, popped when due.
      let purged = 0;
      for (const { key, time } of stored) {
        if (!(now - time > TTL)) break;
        await store.delete(key);
        purged++;
      }
      return purged;
    },
  };
}

/** The runtime's stack under a recommender's requests: a 64 MiB write-back cache over RocksDB. */
async function openCache(dir: string): Promise<CachingStore> {
  return new CachingStore(await openRocksDbStore(dir), { maxBytes: 64 << 20 });
}

/** A chunked request store over `store`, loaded (its index rebuilt from what the store holds). */
async function openChunks(store: KeyValueStore): Promise<RequestChunkStore> {
  const requests = new RequestChunkStore(store, { ttlMs: TTL, maxStoredRequests: 16_000_000 });
  await requests.load();
  return requests;
}

async function chunked(store: KeyValueStore): Promise<Side> {
  const requests = await openChunks(store);
  return {
    store: async (snapshot) => void (await requests.add(snapshot)),
    beforeCommit: async () => void (await requests.writeBack()),
    find: (ids) => requests.find(ids),
    // Closed chunks go; the open one (the newest) stays.
    purge: (now) => requests.purge(now),
  };
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'agentrec-bench-requests-'));
  try {
    console.log(
      `${count.toLocaleString('en')} scored requests (13 features, 20 candidates), a commit every ${commitEvery.toLocaleString('en')}, ${lookups.toLocaleString('en')} lookups, RocksDB under a 64 MiB write-back cache`,
    );
    const baseline = await measure('one value per request', perRequest, join(root, 'per-request'));
    await baseline.cache.close();
    const ours = await measure('chunks', chunked, join(root, 'chunked'));
    await ours.cache.close();
    // A restart: the index is rebuilt from what the store holds (here the chunks of a second run, before any purge).
    const restartDir = join(root, 'restart');
    const filled = await openCache(restartDir);
    const writer = await openChunks(filled);
    for (let i = 0; i < count; i++) await writer.add(request(i));
    await writer.writeBack();
    await filled.flush(0);
    await filled.close();
    const reopened = await openCache(restartDir);
    const started = performance.now();
    const loaded = await openChunks(reopened);
    const loadSeconds = (performance.now() - started) / 1000;
    await reopened.close();

    const row = (label: string, m: Measured) =>
      `| ${label} | ${((m.storeSeconds / count) * 1e6).toFixed(2)} µs | ${((m.records / count) * 1000).toFixed(1)} | ${(m.bytes / count).toFixed(0)} B | ${((m.lookupSeconds / lookups) * 1e6).toFixed(1)} µs (${m.found}/${lookups}) | ${m.purged.toLocaleString('en')} in ${m.purgeSeconds.toFixed(2)} s, ${m.purgeRecords.toLocaleString('en')} tombstones |`;
    console.log(
      '| layout | store + commit, per request | changelog records per 1k requests | changelog bytes per request | lookup, per id | purge |',
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    console.log(row('one value per request (baseline)', baseline.measured));
    console.log(row('chunks', ours.measured));
    const b = baseline.measured;
    const o = ours.measured;
    console.log(
      `store + commit: chunks take ${(o.storeSeconds / b.storeSeconds).toFixed(2)}× the baseline's time; changelog records ${(o.records / b.records).toFixed(4)}×; lookups ${(o.lookupSeconds / b.lookupSeconds).toFixed(2)}×`,
    );
    console.log(
      `restart: rebuilding the index from ${count.toLocaleString('en')} stored requests took ${loadSeconds.toFixed(2)} s (${loaded.size.toLocaleString('en')} found)`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
