/**
 * CRC-64-AVRO, the 64-bit Rabin fingerprint the Avro specification defines for single-object
 * encoding ("Schema Fingerprints"). avsc only offers md5/sha256, and single-object encoding
 * requires this one, so readers in any language recognise our writer schemas.
 *
 * Computed with BigInt: it runs once per schema when the registry loads, never per record.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK_64 = 0xffffffffffffffffn;

function buildTable(): readonly bigint[] {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) {
      // -(fp & 1) in two's complement is all ones when the low bit is set.
      fp = (fp >> 1n) ^ (fp & 1n ? EMPTY : 0n);
    }
    table.push(fp);
  }
  return Object.freeze(table);
}

const TABLE = buildTable();

/** The unsigned 64-bit CRC-64-AVRO fingerprint of `bytes` (for schemas: of the UTF-8 parsing canonical form). */
export function rabinFingerprint64(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (let i = 0; i < bytes.length; i++) {
    fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(bytes[i])) & 0xffn)];
  }
  return fp & MASK_64;
}

/** The fingerprint as Java's `SchemaNormalization.parsingFingerprint64` prints it (a signed long). */
export function toSignedFingerprint(fingerprint: bigint): bigint {
  return BigInt.asIntN(64, fingerprint);
}
