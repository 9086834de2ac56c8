import { StateError } from '../../errors.js';

/**
 * Byte layout of what the embedding-row store keeps under a row key. Little-endian throughout;
 * a 16-byte header keeps the float payload 4-byte aligned:
 *   u8 kind | u8 slotCount | u16 dim | u32 seenCount | f64 lastTouchedMs | f32 × dim·(1+slotCount)
 * A "sighting" (kind 2) is the header alone: a row the frequency filter has not admitted yet,
 * persisted so its count survives restarts and travels through the changelog.
 */
export const ROW_HEADER_BYTES = 16;
export const KIND_ROW = 1;
export const KIND_SIGHTING = 2;

export interface DecodedRecord {
  kind: typeof KIND_ROW | typeof KIND_SIGHTING;
  dim: number;
  slotCount: number;
  seenCount: number;
  lastTouchedMs: number;
  /** values then slots, its own ArrayBuffer (callers may mutate it freely); rows only. */
  data?: Float32Array;
}

export function encodeRow(values: Float32Array, slots: Float32Array, slotCount: number, seenCount: number, lastTouchedMs: number): Buffer {
  const out = Buffer.alloc(ROW_HEADER_BYTES + (values.length + slots.length) * 4);
  writeHeader(out, KIND_ROW, slotCount, values.length, seenCount, lastTouchedMs);
  copyFloats(values, out, ROW_HEADER_BYTES);
  copyFloats(slots, out, ROW_HEADER_BYTES + values.length * 4);
  return out;
}

export function encodeSighting(seenCount: number, lastTouchedMs: number): Buffer {
  const out = Buffer.alloc(ROW_HEADER_BYTES);
  writeHeader(out, KIND_SIGHTING, 0, 0, seenCount, lastTouchedMs);
  return out;
}

/** Header only: enough for expiry scans, which must not pay for the float copy. */
export function decodeHeader(bytes: Buffer): Omit<DecodedRecord, 'data'> | undefined {
  if (bytes.length < ROW_HEADER_BYTES) return undefined;
  const kind = bytes[0];
  if (kind !== KIND_ROW && kind !== KIND_SIGHTING) return undefined;
  return {
    kind,
    slotCount: bytes[1],
    dim: bytes.readUInt16LE(2),
    seenCount: bytes.readUInt32LE(4),
    lastTouchedMs: bytes.readDoubleLE(8),
  };
}

export function decodeRecord(bytes: Buffer, key: Buffer): DecodedRecord {
  const header = decodeHeader(bytes);
  if (!header) throw corrupt(key, `unrecognised ${bytes.length}-byte record`);
  if (header.kind === KIND_SIGHTING) return header;
  const floats = header.dim * (1 + header.slotCount);
  if (bytes.length !== ROW_HEADER_BYTES + floats * 4) {
    throw corrupt(key, `row of dim ${header.dim} with ${header.slotCount} slots has ${bytes.length} bytes`);
  }
  const data = new Float32Array(floats);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(data.buffer).set(bytes.subarray(ROW_HEADER_BYTES));
  } else {
    for (let i = 0; i < floats; i++) data[i] = bytes.readFloatLE(ROW_HEADER_BYTES + i * 4);
  }
  return { ...header, data };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function writeHeader(out: Buffer, kind: number, slotCount: number, dim: number, seenCount: number, lastTouchedMs: number): void {
  out[0] = kind;
  out[1] = slotCount;
  out.writeUInt16LE(dim, 2);
  out.writeUInt32LE(Math.min(seenCount, 0xffffffff), 4);
  out.writeDoubleLE(lastTouchedMs, 8);
}

function copyFloats(source: Float32Array, out: Buffer, offset: number): void {
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(source.buffer, source.byteOffset, source.byteLength), offset);
  else for (let i = 0; i < source.length; i++) out.writeFloatLE(source[i], offset + i * 4);
}

function corrupt(key: Buffer, detail: string): StateError {
  return new StateError('STATE_CORRUPT', `embedding row ${JSON.stringify(key.toString('utf8'))}: ${detail}`);
}
