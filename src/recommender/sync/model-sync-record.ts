import { BadRecordError } from '../../errors.js';

/**
 * A dense record of the model topic: a task's change to one shared row (or a parameter block).
 *   key   = rowKey bytes | '|' | taskId   — compaction keeps the latest per (row, task incarnation)
 *   value = u8 version | u8 0 | u16 0 | u32 count | f64 weight | u32 rowKeyLength | u32 taskIdLength
 *           | rowKey | taskId | f32 × count increment | f32 × count total          (little-endian)
 * `increment` is what receivers add (already multiplied by `weight`); `total` is the running sum
 * of every increment this task incarnation published for the row, so a reader starting from
 * offset 0 of a compacted topic still gets each incarnation's whole contribution from the one
 * record compaction kept.
 */
export interface ModelDelta {
  rowKey: Buffer;
  taskId: string;
  weight: number;
  increment: Float32Array;
  total: Float32Array;
}

/**
 * A sparse record: the change to a long parameter block (a chunk of the candidate crosses) when
 * few of its values moved. Its own key, so compaction keeps the latest dense and the latest
 * sparse record of each (block, task incarnation).
 *   key   = rowKey bytes | '|' | taskId | '|sparse'
 *   value = u8 2 | u8 0 | u16 0 | u32 length | f64 weight | u32 rowKeyLength | u32 taskIdLength
 *           | rowKey | taskId | u32 changedCount | u32 totalCount
 *           | u32 × changedCount index | f32 × changedCount increment
 *           | u32 × totalCount index | f32 × totalCount total                    (little-endian)
 * `total` lists the running total at every index whose total differs from the one the
 * incarnation's latest dense record carried, so that dense record overlaid with the latest
 * sparse one after it gives the whole contribution, whatever compaction removed in between.
 */
export interface SparseModelDelta {
  rowKey: Buffer;
  taskId: string;
  weight: number;
  /** The block's full length. */
  length: number;
  /** Indices whose value moved in this sync, ascending, and what receivers add there. */
  changed: Uint32Array;
  increment: Float32Array;
  /** Indices whose running total moved since the latest dense record, ascending, and the totals there. */
  totalAt: Uint32Array;
  total: Float32Array;
}

const VERSION = 1;
const SPARSE_VERSION = 2;
const HEADER_BYTES = 24;
const SPARSE_SUFFIX = Buffer.from('|sparse', 'utf8');

export function modelDeltaKey(rowKey: Buffer, taskId: string): Buffer {
  return Buffer.concat([rowKey, Buffer.from(`|${taskId}`, 'utf8')]);
}

export function sparseModelDeltaKey(rowKey: Buffer, taskId: string): Buffer {
  return Buffer.concat([modelDeltaKey(rowKey, taskId), SPARSE_SUFFIX]);
}

export function isSparseModelDelta(delta: ModelDelta | SparseModelDelta): delta is SparseModelDelta {
  return 'changed' in delta;
}

export function encodeSparseModelDelta(delta: SparseModelDelta): Buffer {
  const changed = delta.changed.length;
  const totals = delta.totalAt.length;
  const { out, at } = withHeader(SPARSE_VERSION, delta, delta.length, 8 + (changed + totals) * 8);
  out.writeUInt32LE(changed, at);
  out.writeUInt32LE(totals, at + 4);
  let offset = at + 8;
  for (const part of [delta.changed, delta.increment, delta.totalAt, delta.total]) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), offset);
    offset += part.byteLength;
  }
  if (!LITTLE_ENDIAN_HOST) swapWords(out, at + 8, offset);
  return out;
}

/**
 * A dense (version 1) or sparse (version 2) model-topic record; throws BadRecordError for anything
 * else. With a `scratch`, the record's values (a dense record's increment, all of a sparse
 * record's arrays) are copied into it and valid only until its next use: for a reader that
 * applies each record at once. A buffer of its own per record was most of decoding's cost.
 */
export function decodeModelSyncRecord(bytes: Buffer, scratch?: DecodeScratch): ModelDelta | SparseModelDelta {
  return bytes.length >= HEADER_BYTES && bytes[0] === SPARSE_VERSION
    ? decodeSparseModelDelta(bytes, scratch)
    : decodeModelDelta(bytes, scratch);
}

/** Memory a reader decodes records into, one record at a time (decodeModelSyncRecord). */
export class DecodeScratch {
  private buffer = new ArrayBuffer(0);

  /** At least `bytes` bytes, 4-aligned; what the last call returned is overwritten. */
  take(bytes: number): ArrayBuffer {
    if (this.buffer.byteLength < bytes) this.buffer = new ArrayBuffer(Math.max(bytes, 2 * this.buffer.byteLength));
    return this.buffer;
  }
}

function decodeSparseModelDelta(bytes: Buffer, scratch?: DecodeScratch): SparseModelDelta {
  const { count: length, weight, keyEnd, at } = readHeader(bytes);
  if (bytes.length < at + 8) throw new BadRecordError('DECODE_FAILED', `sparse model delta of ${bytes.length} bytes is cut short`);
  const changed = bytes.readUInt32LE(at);
  const totals = bytes.readUInt32LE(at + 4);
  if (bytes.length !== at + 8 + (changed + totals) * 8 || changed > length || totals > length)
    throw new BadRecordError('DECODE_FAILED', `sparse model delta of ${changed} changes and ${totals} totals has ${bytes.length} bytes`);
  // One aligned copy of the four arrays, viewed in place.
  const body = bytes.subarray(at + 8);
  const words = scratch ? new Uint8Array(scratch.take(body.length), 0, body.length) : new Uint8Array(body.length);
  words.set(body);
  if (!LITTLE_ENDIAN_HOST) swapWords(Buffer.from(words.buffer, 0, words.length), 0, words.length);
  const delta: SparseModelDelta = {
    rowKey: rowKeyOf(bytes, keyEnd),
    taskId: bytes.toString('utf8', keyEnd, at),
    weight,
    length,
    changed: new Uint32Array(words.buffer, 0, changed),
    increment: new Float32Array(words.buffer, changed * 4, changed),
    totalAt: new Uint32Array(words.buffer, changed * 8, totals),
    total: new Float32Array(words.buffer, changed * 8 + totals * 4, totals),
  };
  for (const indices of [delta.changed, delta.totalAt])
    for (let k = 0; k < indices.length; k++)
      if (indices[k] >= length)
        throw new BadRecordError('DECODE_FAILED', `sparse model delta index ${indices[k]} is outside its ${length} values`);
  return delta;
}

function swapWords(bytes: Buffer, from: number, to: number): void {
  bytes.subarray(from, to).swap32();
}

/**
 * A record of `bodyBytes` after the header both versions share (version, count, weight, the row
 * key's and task id's lengths, then both), with the header written; `at` is where the body starts.
 */
function withHeader(
  version: number,
  delta: { rowKey: Buffer; taskId: string; weight: number },
  count: number,
  bodyBytes: number,
): { out: Buffer; at: number } {
  const taskId = Buffer.from(delta.taskId, 'utf8');
  const at = HEADER_BYTES + delta.rowKey.length + taskId.length;
  // From Node's shared pool, not zeroed (every byte is written below or by the caller): an
  // off-heap buffer of its own per record cost a tenth of a sync.
  const out = Buffer.allocUnsafe(at + bodyBytes);
  out.writeUInt32LE(version, 0);
  out.writeUInt32LE(count, 4);
  out.writeDoubleLE(delta.weight, 8);
  out.writeUInt32LE(delta.rowKey.length, 16);
  out.writeUInt32LE(taskId.length, 20);
  delta.rowKey.copy(out, HEADER_BYTES);
  taskId.copy(out, HEADER_BYTES + delta.rowKey.length);
  return { out, at };
}

/** The shared header's fields: `keyEnd` ends the row key (and starts the task id), `at` starts the body. */
function readHeader(bytes: Buffer): { count: number; weight: number; keyEnd: number; at: number } {
  const keyEnd = HEADER_BYTES + bytes.readUInt32LE(16);
  return { count: bytes.readUInt32LE(4), weight: bytes.readDoubleLE(8), keyEnd, at: keyEnd + bytes.readUInt32LE(20) };
}

/** The row key a record names: a view of its bytes (readers only look at it). */
function rowKeyOf(bytes: Buffer, keyEnd: number): Buffer {
  return bytes.subarray(HEADER_BYTES, keyEnd);
}

export function encodeModelDelta(delta: ModelDelta): Buffer {
  const count = delta.increment.length;
  const { out, at } = withHeader(VERSION, delta, count, count * 8);
  writeFloats(delta.increment, out, at);
  writeFloats(delta.total, out, at + count * 4);
  return out;
}

/** The publisher of a delta without decoding its floats (readers skip their own records), or undefined when malformed. */
export function modelDeltaTaskId(bytes: Buffer): string | undefined {
  if (bytes.length < HEADER_BYTES || (bytes[0] !== VERSION && bytes[0] !== SPARSE_VERSION)) return undefined;
  const { keyEnd, at } = readHeader(bytes);
  return at <= bytes.length ? bytes.toString('utf8', keyEnd, at) : undefined;
}

/** Throws BadRecordError for bytes that are not a version-1 model delta. */
export function decodeModelDelta(bytes: Buffer, scratch?: DecodeScratch): ModelDelta {
  if (bytes.length < HEADER_BYTES || bytes[0] !== VERSION)
    throw new BadRecordError('DECODE_FAILED', `not a version-${VERSION} model delta (${bytes.length} bytes)`);
  const { count, weight, keyEnd, at: floatsAt } = readHeader(bytes);
  if (bytes.length !== floatsAt + count * 8)
    throw new BadRecordError('DECODE_FAILED', `model delta of ${count} floats has ${bytes.length} bytes`);
  const increment = copyFloats(
    bytes,
    floatsAt,
    count,
    scratch ? new Float32Array(scratch.take(count * 4), 0, count) : new Float32Array(count),
  );
  return new DecodedModelDelta(
    rowKeyOf(bytes, keyEnd),
    bytes.toString('utf8', keyEnd, floatsAt),
    weight,
    increment,
    bytes,
    floatsAt + count * 4,
  );
}

/**
 * A dense record as read. Only a task's first read of the topic uses totals, so they are copied
 * out on first use; a class rather than a per-object getter, which made decoding 7× dearer.
 */
class DecodedModelDelta implements ModelDelta {
  private totalValues: Float32Array | undefined;

  constructor(
    readonly rowKey: Buffer,
    readonly taskId: string,
    readonly weight: number,
    readonly increment: Float32Array,
    private readonly bytes: Buffer,
    private readonly totalsAt: number,
  ) {}

  get total(): Float32Array {
    return (this.totalValues ??= readFloats(this.bytes, this.totalsAt, this.increment.length));
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian float32s; a plain byte copy on little-endian hosts (every platform Node ships for). */
export function writeFloats(values: Float32Array, out: Buffer, offset: number): void {
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
  else for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], offset + i * 4);
}

/** A fresh Float32Array (its own buffer) from little-endian bytes at any alignment. */
export function readFloats(bytes: Buffer, offset: number, count: number): Float32Array {
  return copyFloats(bytes, offset, count, new Float32Array(count));
}

/** Little-endian float32s at any alignment into the start of `into`; returns `into`. */
function copyFloats(bytes: Buffer, offset: number, count: number, into: Float32Array): Float32Array {
  if (LITTLE_ENDIAN_HOST) new Uint8Array(into.buffer, into.byteOffset, count * 4).set(bytes.subarray(offset, offset + count * 4));
  else for (let i = 0; i < count; i++) into[i] = bytes.readFloatLE(offset + i * 4);
  return into;
}
