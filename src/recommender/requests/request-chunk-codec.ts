import { StateError } from '../../errors.js';

/**
 * Scored requests are stored many to a value (a chunk), not one value per request: a commit
 * then publishes and writes a few chunk records instead of one record per scored request, and
 * a purge deletes a chunk instead of one tombstone per request. Per-request records made the
 * request store one of the recommender's largest costs on Kafka (see bench/README.md, "Scored
 * requests in chunks").
 *
 * Layout (little endian):
 *   u32 count | f64 newest event time | u32 id hash × count | u32 entry end × count | entries
 * Entries are encoded request snapshots (request-snapshot-codec.ts), in the order they were
 * stored. The header lets a restart rebuild the request-id index and the purge times without
 * decoding a single snapshot, and a lookup find its entry by hash before decoding just that one.
 */
const COUNT_BYTES = 4;
const TIME_BYTES = 8;
const HEADER_BYTES = COUNT_BYTES + TIME_BYTES;

/** Chunk keys: `chunk/` and the chunk's sequence number, zero-padded so keys sort by number. */
const KEY_PREFIX = 'chunk/';
const SEQUENCE_DIGITS = 16;

export function requestChunkKey(sequence: number): Buffer {
  return Buffer.from(KEY_PREFIX + String(sequence).padStart(SEQUENCE_DIGITS, '0'), 'latin1');
}

/** The sequence number of a chunk key; a StateError for any other key (the store holds chunks only). */
export function requestChunkSequence(key: Buffer, store: string): number {
  const text = key.toString('latin1');
  const digits = text.slice(KEY_PREFIX.length);
  if (!text.startsWith(KEY_PREFIX) || digits.length !== SEQUENCE_DIGITS || !/^\d+$/.test(digits)) {
    throw new StateError(
      'STATE_CORRUPT',
      `store '${store}' holds key '${text.slice(0, 64)}', which is not a request chunk key (state written by another version of agentrec?)`,
    );
  }
  return Number(digits);
}

/** The request-chunk layout written out from its parts. */
export function encodeRequestChunk(entries: readonly Buffer[], hashes: readonly number[], newestTime: number): Buffer {
  const count = entries.length;
  let size = HEADER_BYTES + count * 8;
  for (let i = 0; i < count; i++) size += entries[i].length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(count, 0);
  out.writeDoubleLE(newestTime, COUNT_BYTES);
  let end = 0;
  let at = HEADER_BYTES + count * 8;
  for (let i = 0; i < count; i++) {
    out.writeUInt32LE(hashes[i], HEADER_BYTES + i * 4);
    end += entries[i].length;
    out.writeUInt32LE(end, HEADER_BYTES + (count + i) * 4);
    at += entries[i].copy(out, at);
  }
  return out;
}

/** A stored chunk read in place: header fields and entries without copying. */
export class RequestChunkView {
  readonly count: number;
  readonly newestTime: number;
  private readonly entriesAt: number;

  constructor(
    private readonly bytes: Buffer,
    store: string,
  ) {
    if (bytes.length < HEADER_BYTES) throw truncated(store, bytes.length);
    this.count = bytes.readUInt32LE(0);
    this.newestTime = bytes.readDoubleLE(COUNT_BYTES);
    this.entriesAt = HEADER_BYTES + this.count * 8;
    const end = this.count === 0 ? 0 : bytes.readUInt32LE(HEADER_BYTES + (2 * this.count - 1) * 4);
    if (bytes.length !== this.entriesAt + end) throw truncated(store, bytes.length);
  }

  hash(index: number): number {
    return this.bytes.readUInt32LE(HEADER_BYTES + index * 4);
  }

  /** Entry `index`: a view into the chunk's bytes. */
  entry(index: number): Buffer {
    const ends = HEADER_BYTES + this.count * 4;
    const start = index === 0 ? 0 : this.bytes.readUInt32LE(ends + (index - 1) * 4);
    const end = this.bytes.readUInt32LE(ends + index * 4);
    return this.bytes.subarray(this.entriesAt + start, this.entriesAt + end);
  }
}

function truncated(store: string, length: number): StateError {
  return new StateError('STATE_CORRUPT', `store '${store}' holds a request chunk whose ${length} bytes do not match its header`);
}
