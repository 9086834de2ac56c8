import { BadRecordError } from '../../errors.js';

/**
 * One record of the model topic: a task's change to one shared row (or the dense weights).
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

const VERSION = 1;
const HEADER_BYTES = 24;

export function modelDeltaKey(rowKey: Buffer, taskId: string): Buffer {
  return Buffer.concat([rowKey, Buffer.from(`|${taskId}`, 'utf8')]);
}

export function encodeModelDelta(delta: ModelDelta): Buffer {
  const taskId = Buffer.from(delta.taskId, 'utf8');
  const count = delta.increment.length;
  const out = Buffer.alloc(HEADER_BYTES + delta.rowKey.length + taskId.length + count * 8);
  out[0] = VERSION;
  out.writeUInt32LE(count, 4);
  out.writeDoubleLE(delta.weight, 8);
  out.writeUInt32LE(delta.rowKey.length, 16);
  out.writeUInt32LE(taskId.length, 20);
  delta.rowKey.copy(out, HEADER_BYTES);
  taskId.copy(out, HEADER_BYTES + delta.rowKey.length);
  const at = HEADER_BYTES + delta.rowKey.length + taskId.length;
  writeFloats(delta.increment, out, at);
  writeFloats(delta.total, out, at + count * 4);
  return out;
}

/** The publisher of a delta without decoding its floats (readers skip their own records), or undefined when malformed. */
export function modelDeltaTaskId(bytes: Buffer): string | undefined {
  if (bytes.length < HEADER_BYTES || bytes[0] !== VERSION) return undefined;
  const keyLength = bytes.readUInt32LE(16);
  const end = HEADER_BYTES + keyLength + bytes.readUInt32LE(20);
  return end <= bytes.length ? bytes.toString('utf8', HEADER_BYTES + keyLength, end) : undefined;
}

/** Throws BadRecordError for bytes that are not a version-1 model delta. */
export function decodeModelDelta(bytes: Buffer): ModelDelta {
  if (bytes.length < HEADER_BYTES || bytes[0] !== VERSION)
    throw new BadRecordError('DECODE_FAILED', `not a version-${VERSION} model delta (${bytes.length} bytes)`);
  const count = bytes.readUInt32LE(4);
  const weight = bytes.readDoubleLE(8);
  const keyLength = bytes.readUInt32LE(16);
  const taskIdLength = bytes.readUInt32LE(20);
  const floatsAt = HEADER_BYTES + keyLength + taskIdLength;
  if (bytes.length !== floatsAt + count * 8)
    throw new BadRecordError('DECODE_FAILED', `model delta of ${count} floats has ${bytes.length} bytes`);
  const increment = readFloats(bytes, floatsAt, count);
  const total = readFloats(bytes, floatsAt + count * 4, count);
  return {
    rowKey: Buffer.from(bytes.subarray(HEADER_BYTES, HEADER_BYTES + keyLength)),
    taskId: bytes.toString('utf8', HEADER_BYTES + keyLength, floatsAt),
    weight,
    increment,
    total,
  };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian float32s; a plain byte copy on little-endian hosts (every platform Node ships for). */
export function writeFloats(values: Float32Array, out: Buffer, offset: number): void {
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
  else for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], offset + i * 4);
}

/** A fresh Float32Array (its own buffer) from little-endian bytes at any alignment. */
export function readFloats(bytes: Buffer, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + count * 4));
  else for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(offset + i * 4);
  return out;
}
