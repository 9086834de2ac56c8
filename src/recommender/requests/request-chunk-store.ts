import { StateError } from '../../errors.js';
import type { KeyValueStore } from '../../state/store.js';
import { encodeRequestChunk, RequestChunkView, requestChunkKey, requestChunkSequence } from './request-chunk-codec.js';
import { RequestIdIndex, requestIdHash } from './request-id-index.js';
import { decodeRequestSnapshot, encodeRequestSnapshot } from './request-snapshot-codec.js';
import type { RequestSnapshot } from '../types.js';

export interface RequestChunkStoreOptions {
  /** How long a request waits for feedback (event time), ms: a chunk goes when all of it is older. */
  ttlMs: number;
  /** Past this many stored requests the oldest chunks go, whatever their age (memory bound). */
  maxStoredRequests: number;
  /** A chunk is closed at this many requests... */
  chunkRequests?: number;
  /** ...or when the next request would take it past this many bytes. */
  chunkBytes?: number;
}

/** 256 requests or 64 KiB: a commit rewrites the open chunk, so it stays small next to a batch. */
export const DEFAULT_CHUNK_REQUESTS = 256;
export const DEFAULT_CHUNK_BYTES = 64 << 10;

interface OpenChunk {
  sequence: number;
  entries: Buffer[];
  hashes: number[];
  newestTime: number;
  bytes: number;
}

interface ClosedChunk {
  count: number;
  newestTime: number;
  hashes: Uint32Array;
}

/**
 * One partition's scored requests, kept for the feedback that names them (request-chunk-codec.ts
 * says why in chunks). Requests are appended in the order they are stored to the open chunk,
 * which is written at every commit; a full one is closed (written for good) and the next opened.
 * Chunk contents therefore depend on the order of the stored requests only, not on batch or
 * commit boundaries, so a replay after a crash rebuilds exactly the bytes of a run without one.
 *
 * In memory: which chunks may hold an id (RequestIdIndex), each closed chunk's newest event time
 * and id hashes, and the open chunk's entries — all rebuilt from the stored chunks by load().
 *
 * Lookups return a stored request whatever its age (the caller checks its TTL exactly); purge()
 * deletes a closed chunk once every request in it is past the TTL; the open chunk always stays,
 * so the highest stored chunk number is where a restart resumes.
 */
export class RequestChunkStore {
  private readonly index = new RequestIdIndex();
  /** By sequence number, oldest first (Maps iterate in insertion order). */
  private readonly closed = new Map<number, ClosedChunk>();
  private open: OpenChunk = emptyChunk(0);
  private openDirty = false;
  private stored = 0;
  private loaded = false;
  private readonly chunkRequests: number;
  private readonly chunkBytes: number;

  constructor(
    private readonly store: KeyValueStore,
    private readonly options: RequestChunkStoreOptions,
  ) {
    this.chunkRequests = options.chunkRequests ?? DEFAULT_CHUNK_REQUESTS;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  /** Requests stored now (closed chunks and the open one). */
  get size(): number {
    return this.stored;
  }

  /** Rebuilds the in-memory index from the stored chunks; once, before anything else. */
  async load(): Promise<void> {
    if (this.loaded) return;
    let last: { sequence: number; view: RequestChunkView } | undefined;
    for await (const [key, value] of this.store.range()) {
      const sequence = requestChunkSequence(key, this.store.name);
      const view = new RequestChunkView(value, this.store.name);
      if (last) this.listClosed(last.sequence, last.view);
      last = { sequence, view };
    }
    if (last) {
      const { sequence, view } = last;
      const open = emptyChunk(sequence);
      open.newestTime = view.newestTime;
      for (let i = 0; i < view.count; i++) {
        // Copied: a store may hand out views of memory it reuses.
        const entry = Buffer.from(view.entry(i));
        open.entries.push(entry);
        open.hashes.push(view.hash(i));
        open.bytes += entry.length;
        this.index.add(view.hash(i), sequence);
      }
      this.open = open;
      this.stored += view.count;
    }
    this.loaded = true;
  }

  /** Stores a scored request; returns how many older requests went to keep within maxStoredRequests. */
  async add(snapshot: RequestSnapshot): Promise<number> {
    this.assertLoaded();
    const entry = encodeRequestSnapshot(snapshot);
    let evicted = 0;
    const full = this.open.entries.length >= this.chunkRequests || this.open.bytes + entry.length > this.chunkBytes;
    if (full && this.open.entries.length > 0) evicted = await this.closeOpen();
    const open = this.open;
    const hash = requestIdHash(snapshot.requestId);
    open.entries.push(entry);
    open.hashes.push(hash);
    open.bytes += entry.length;
    if (snapshot.eventTime > open.newestTime) open.newestTime = snapshot.eventTime;
    this.index.add(hash, open.sequence);
    this.openDirty = true;
    this.stored++;
    return evicted;
  }

  /** The stored request for each id (the latest stored, for an id stored twice), or undefined. */
  async find(ids: readonly string[]): Promise<(RequestSnapshot | undefined)[]> {
    this.assertLoaded();
    const hashes = ids.map(requestIdHash);
    const listed = hashes.map((hash) => this.index.chunksOf(hash));
    const wanted = new Set<number>();
    for (const chunks of listed) for (const sequence of chunks) if (sequence !== this.open.sequence) wanted.add(sequence);
    const sequences = [...wanted];
    const values = sequences.length ? await this.store.getMany(sequences.map(requestChunkKey)) : [];
    // Each listed chunk's id hashes (in memory: the open chunk's, or a closed one's copy) and its
    // entries, so only entries whose hash matches are decoded.
    const { open } = this;
    const chunks = new Map<number, ChunkEntries>([[open.sequence, { hashes: open.hashes, entry: (at) => open.entries[at] }]]);
    sequences.forEach((sequence, i) => {
      const value = values[i];
      if (!value)
        throw new StateError('STATE_CORRUPT', `store '${this.store.name}' lost request chunk ${sequence}, which its index still lists`);
      const view = new RequestChunkView(value, this.store.name);
      chunks.set(sequence, { hashes: this.closed.get(sequence)!.hashes, entry: (at) => view.entry(at) });
    });
    return ids.map((id, i) => {
      for (const sequence of listed[i]) {
        const found = findEntry(chunks.get(sequence)!, id, hashes[i]);
        if (found) return found;
      }
      return undefined;
    });
  }

  /**
   * Deletes every closed chunk whose requests are all older than the TTL at `now` (event time);
   * returns how many requests went.
   */
  async purge(now: number): Promise<number> {
    this.assertLoaded();
    let purged = 0;
    for (const [sequence, chunk] of this.closed) {
      if (now - chunk.newestTime > this.options.ttlMs) purged += await this.drop(sequence, chunk);
    }
    return purged;
  }

  /** Puts the open chunk into the store when it changed since the last call (at commit). */
  async writeBack(): Promise<boolean> {
    if (!this.openDirty) return false;
    await this.putOpen();
    this.openDirty = false;
    return true;
  }

  private putOpen(): Promise<void> {
    const { sequence, entries, hashes, newestTime } = this.open;
    return this.store.put(requestChunkKey(sequence), encodeRequestChunk(entries, hashes, newestTime));
  }

  /** Writes the open chunk for good, opens the next, then evicts past maxStoredRequests. */
  private async closeOpen(): Promise<number> {
    await this.putOpen();
    const { sequence, entries, hashes, newestTime } = this.open;
    this.closed.set(sequence, { count: entries.length, newestTime, hashes: Uint32Array.from(hashes) });
    this.open = emptyChunk(sequence + 1);
    // Nothing to write until the new chunk holds a request: the closed one is the newest stored.
    this.openDirty = false;
    let evicted = 0;
    for (const [oldest, chunk] of this.closed) {
      if (this.stored <= this.options.maxStoredRequests) break;
      evicted += await this.drop(oldest, chunk);
    }
    return evicted;
  }

  private async drop(sequence: number, chunk: ClosedChunk): Promise<number> {
    await this.store.delete(requestChunkKey(sequence));
    for (const hash of chunk.hashes) this.index.remove(hash, sequence);
    this.closed.delete(sequence);
    this.stored -= chunk.count;
    return chunk.count;
  }

  private listClosed(sequence: number, view: RequestChunkView): void {
    const hashes = new Uint32Array(view.count);
    for (let i = 0; i < view.count; i++) {
      hashes[i] = view.hash(i);
      this.index.add(hashes[i], sequence);
    }
    this.closed.set(sequence, { count: view.count, newestTime: view.newestTime, hashes });
    this.stored += view.count;
  }

  private assertLoaded(): void {
    if (!this.loaded) throw new StateError('TASK_STATE_ILLEGAL', `requests of store '${this.store.name}' used before load()`);
  }
}

function emptyChunk(sequence: number): OpenChunk {
  return { sequence, entries: [], hashes: [], newestTime: -Infinity, bytes: 0 };
}

interface ChunkEntries {
  hashes: ArrayLike<number>;
  readonly entry: (index: number) => Buffer;
}

/** The latest entry of a chunk whose id is `id`: entries with its hash are decoded and compared, newest first. */
function findEntry({ hashes, entry }: ChunkEntries, id: string, hash: number): RequestSnapshot | undefined {
  for (let i = hashes.length - 1; i >= 0; i--) {
    if (hashes[i] !== hash) continue;
    const snapshot = decodeRequestSnapshot(entry(i));
    if (snapshot.requestId === id) return snapshot;
  }
  return undefined;
}
