import { BadRecordError } from '../errors.js';

/**
 * Avro single-object encoding (Avro spec, "Single-object encoding"): a two-byte marker, the
 * writer schema's 8-byte little-endian CRC-64-AVRO fingerprint, then the binary body. The
 * fingerprint lets a reader pick the writer schema without a registry service.
 */
export const SINGLE_OBJECT_MARKER = Object.freeze([0xc3, 0x01] as const);
export const SINGLE_OBJECT_HEADER_LENGTH = 10;

/** The 10-byte header for a writer schema with this (unsigned) fingerprint. */
export function singleObjectHeader(fingerprint: bigint): Buffer {
  const header = Buffer.alloc(SINGLE_OBJECT_HEADER_LENGTH);
  header[0] = SINGLE_OBJECT_MARKER[0];
  header[1] = SINGLE_OBJECT_MARKER[1];
  header.writeBigUInt64LE(BigInt.asUintN(64, fingerprint), 2);
  return header;
}

/** Checks the marker and length; throws DECODE_FAILED when `bytes` cannot be a single-object record. */
export function assertSingleObjectHeader(bytes: Uint8Array): void {
  if (bytes.length < SINGLE_OBJECT_HEADER_LENGTH) {
    throw new BadRecordError(
      'DECODE_FAILED',
      `${bytes.length} bytes is shorter than the ${SINGLE_OBJECT_HEADER_LENGTH}-byte Avro single-object header`,
    );
  }
  if (bytes[0] !== SINGLE_OBJECT_MARKER[0] || bytes[1] !== SINGLE_OBJECT_MARKER[1]) {
    throw new BadRecordError(
      'DECODE_FAILED',
      `bad magic 0x${hex(bytes[0])}${hex(bytes[1])}: not Avro single-object encoding (expected 0xc301)`,
    );
  }
}

/** The writer fingerprint of a record whose header `assertSingleObjectHeader` accepted. */
export function writerFingerprint(bytes: Uint8Array): bigint {
  return Buffer.from(bytes.buffer, bytes.byteOffset, SINGLE_OBJECT_HEADER_LENGTH).readBigUInt64LE(2);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
