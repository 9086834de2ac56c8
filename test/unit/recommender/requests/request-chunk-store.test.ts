import { describe, expect, it } from 'vitest';
import { AgentrecError } from '../../../../src/errors.js';
import {
  encodeRequestChunk,
  RequestChunkView,
  requestChunkKey,
  requestChunkSequence,
} from '../../../../src/recommender/requests/request-chunk-codec.js';
import { RequestChunkStore } from '../../../../src/recommender/requests/request-chunk-store.js';
import { RequestIdIndex, requestIdHash } from '../../../../src/recommender/requests/request-id-index.js';
import type { RequestSnapshot } from '../../../../src/recommender/types.js';
import { MemoryStore } from '../../../../src/state/memory-store.js';

const T0 = Date.UTC(2026, 11, 2);
const TTL = 60_000;
const CHUNK = 8;

function snapshot(requestId: string, eventTime: number, candidates = ['a', 'b']): RequestSnapshot {
  return { requestId, userId: `user-of-${requestId}`, eventTime, features: [{ key: 'tool=git', weight: 1 }], candidates };
}

function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

async function contents(store: MemoryStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [key, value] of store.range()) out.set(key.toString('latin1'), value.toString('hex'));
  return out;
}

async function opened(
  store: MemoryStore,
  options: Partial<ConstructorParameters<typeof RequestChunkStore>[1]> = {},
): Promise<RequestChunkStore> {
  const requests = new RequestChunkStore(store, { ttlMs: TTL, maxStoredRequests: 1_000_000, chunkRequests: CHUNK, ...options });
  await requests.load();
  return requests;
}

/** Which request each stored id resolves to, by a model that knows only chunk numbers. */
class Reference {
  /** Every stored request, in order, with the chunk it went to. */
  readonly stored: { snapshot: RequestSnapshot; chunk: number }[] = [];
  readonly dropped = new Set<number>();

  add(snapshot: RequestSnapshot): void {
    this.stored.push({ snapshot, chunk: Math.floor(this.stored.length / CHUNK) });
  }

  /** Closed chunks (not the newest) whose every request is past the TTL at `now`. */
  purge(now: number): number {
    const newest = new Map<number, number>();
    for (const { snapshot, chunk } of this.stored) newest.set(chunk, Math.max(newest.get(chunk) ?? -Infinity, snapshot.eventTime));
    const open = Math.floor((this.stored.length - 1) / CHUNK);
    let purged = 0;
    for (const [chunk, time] of newest) {
      if (chunk === open || this.dropped.has(chunk) || !(now - time > TTL)) continue;
      this.dropped.add(chunk);
      purged += this.stored.filter((s) => s.chunk === chunk).length;
    }
    return purged;
  }

  find(id: string): RequestSnapshot | undefined {
    for (let i = this.stored.length - 1; i >= 0; i--) {
      const { snapshot, chunk } = this.stored[i];
      if (snapshot.requestId === id && !this.dropped.has(chunk)) return snapshot;
    }
    return undefined;
  }
}

describe('RequestChunkStore', () => {
  it('finds the latest stored request per id and purges exactly the closed chunks wholly past the TTL, across late events, re-stored ids and restarts', async () => {
    const random = seeded(11);
    const store = new MemoryStore('requests');
    let requests = await opened(store);
    const reference = new Reference();
    let now = T0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 30; i++) {
        // Mostly in time order, some late, and ids that come back (stored again, older or newer).
        const id = random() < 0.2 ? `req-${Math.floor(random() * round * 30)}` : `req-${round * 30 + i}`;
        const time = now - Math.floor(random() < 0.1 ? random() * 2 * TTL : random() * 1000);
        const request = snapshot(id, time, [`a-${round}`, `b-${i}`]);
        expect(await requests.add(request)).toBe(0);
        reference.add(request);
      }
      now += TTL / 4;
      expect(await requests.purge(now), `round ${round}`).toBe(reference.purge(now));
      await requests.writeBack();
      // A restart (or a crash right after a commit) rebuilds everything from the stored chunks.
      if (round % 7 === 6) requests = await opened(store);
      const ids = Array.from({ length: (round + 1) * 30 + 5 }, (_, k) => `req-${k}`);
      expect(await requests.find(ids), `round ${round}`).toEqual(ids.map((id) => reference.find(id)));
      expect(requests.size).toBe(reference.stored.filter((s) => !reference.dropped.has(s.chunk)).length);
    }
    expect(reference.dropped.size).toBeGreaterThan(10);
    expect(requests.size).toBeGreaterThan(0);
  });

  it('stores the same bytes however often it was written back, and after a restart from any commit', async () => {
    const random = seeded(5);
    const all = Array.from({ length: 203 }, (_, i) => snapshot(`r-${i}`, T0 + i * 100 - Math.floor(random() * 500)));
    const once = new MemoryStore('once');
    const onceRequests = await opened(once);
    for (const request of all) await onceRequests.add(request);
    await onceRequests.writeBack();

    const often = new MemoryStore('often');
    let requests = await opened(often);
    for (let i = 0; i < all.length; i++) {
      await requests.add(all[i]);
      if (random() < 0.1) await requests.writeBack();
      // A crash after a commit: what was added since is replayed onto the reopened store.
      if (random() < 0.05) {
        await requests.writeBack();
        requests = await opened(often);
      }
    }
    await requests.writeBack();
    expect(await contents(often)).toEqual(await contents(once));
    expect((await contents(once)).size).toBe(Math.ceil(all.length / CHUNK));
  });

  it('closes a chunk by bytes as well as by count', async () => {
    const store = new MemoryStore('requests');
    const many = Array.from({ length: 40 }, (_, k) => `action-${k}`);
    const requests = await opened(store, { chunkRequests: 1000, chunkBytes: 2048 });
    for (let i = 0; i < 20; i++) await requests.add(snapshot(`big-${i}`, T0 + i, many));
    await requests.writeBack();
    const sizes: number[] = [];
    for await (const [, value] of store.range()) sizes.push(value.length);
    expect(sizes.length).toBeGreaterThan(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(2048 + 12 + 8 * 20);
    expect((await requests.find(['big-0', 'big-19'])).map((r) => r?.requestId)).toEqual(['big-0', 'big-19']);
  });

  it('past maxStoredRequests drops the oldest chunks first, and their ids are no longer found', async () => {
    const store = new MemoryStore('requests');
    const requests = await opened(store, { maxStoredRequests: 20 });
    let evicted = 0;
    for (let i = 0; i < 100; i++) evicted += await requests.add(snapshot(`r-${i}`, T0 + i));
    expect(requests.size).toBeLessThanOrEqual(20 + CHUNK);
    expect(evicted).toBe(100 - requests.size);
    const found = await requests.find(Array.from({ length: 100 }, (_, i) => `r-${i}`));
    const kept = found.flatMap((r, i) => (r ? [i] : []));
    expect(kept).toEqual(Array.from({ length: requests.size }, (_, k) => 100 - requests.size + k));
  });

  it('tells ids that share a hash apart', async () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const id = `req-${i}`;
      const other = seen.get(requestIdHash(id));
      if (other) pair = [other, id];
      else seen.set(requestIdHash(id), id);
    }
    const store = new MemoryStore('requests');
    const requests = await opened(store);
    await requests.add(snapshot(pair[0], T0));
    for (let i = 0; i < CHUNK; i++) await requests.add(snapshot(`filler-${i}`, T0));
    await requests.add(snapshot(pair[1], T0 + 1));
    expect((await requests.find([pair[0], pair[1], 'never-stored'])).map((r) => r?.requestId)).toEqual([pair[0], pair[1], undefined]);
  });

  it('refuses a store holding something other than request chunks, or a chunk cut short', async () => {
    const foreign = new MemoryStore('requests');
    await foreign.put(Buffer.from('req-1'), Buffer.from('not a chunk'));
    await expect(opened(foreign)).rejects.toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringContaining("key 'req-1'") });
    const cut = new MemoryStore('requests');
    await cut.put(requestChunkKey(3), encodeRequestChunk([Buffer.from('abc')], [7], T0).subarray(0, 20));
    await expect(opened(cut)).rejects.toBeInstanceOf(AgentrecError);
  });
});

describe('request chunk layout', () => {
  it('round-trips entries, hashes, the newest time and the key number', () => {
    const entries = [Buffer.from('first'), Buffer.alloc(0), Buffer.from('third entry')];
    const view = new RequestChunkView(encodeRequestChunk(entries, [1, 0x3fffffff, 42], T0), 'requests');
    expect([view.count, view.newestTime]).toEqual([3, T0]);
    expect([0, 1, 2].map((i) => view.hash(i))).toEqual([1, 0x3fffffff, 42]);
    expect([0, 1, 2].map((i) => view.entry(i).toString())).toEqual(['first', '', 'third entry']);
    expect(requestChunkSequence(requestChunkKey(1234567), 'requests')).toBe(1234567);
    // Keys sort by number, so a range scan lists chunks oldest first.
    expect(Buffer.compare(requestChunkKey(9), requestChunkKey(10))).toBeLessThan(0);
  });
});

describe('RequestIdIndex', () => {
  it('lists every chunk that holds a hash, newest first, and forgets them one by one', () => {
    const index = new RequestIdIndex();
    index.add(5, 1);
    index.add(5, 1);
    expect(index.chunksOf(5)).toEqual([1]);
    index.add(5, 3);
    index.add(5, 2);
    expect(index.chunksOf(5)).toEqual([3, 2, 1]);
    index.remove(5, 3);
    index.remove(5, 1);
    expect(index.chunksOf(5)).toEqual([2]);
    index.remove(5, 9);
    index.remove(5, 2);
    expect([index.chunksOf(5), index.size]).toEqual([[], 0]);
  });
});
