import { InputLineError } from '../../errors.js';

/**
 * The Avro file format of trajectory events: a plain concatenation of frames, each the record's
 * byte length as an Avro `long` (zig-zag varint) followed by the record in Avro single-object
 * encoding (C3 01, the writer schema's 8-byte CRC-64-AVRO fingerprint, the body) — exactly the
 * bytes a Kafka value of agent.trajectories holds. No header: any Avro library reads it as a
 * sequence of `bytes` values, and each value names its own writer schema, so v1 and v2 records
 * mix. Object container files (`Obj\x01` header) are a different format and are refused with a
 * clear message. The "line" of a record in error messages is its 1-based index in the stream.
 */
export function frame(record: Buffer): Buffer {
  const header = Buffer.alloc(10);
  let n = record.length * 2; // zig-zag of a non-negative length
  let i = 0;
  while (n >= 0x80) {
    header[i++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  header[i++] = n;
  return Buffer.concat([header.subarray(0, i), record]);
}

/** The records of a stream, with their 1-based index; a truncated tail is an error naming its index. */
export function* unframe(bytes: Buffer, name: string): Generator<{ index: number; record: Buffer }> {
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 4) === 'Obj\x01') {
    throw new InputLineError(
      name,
      1,
      'this is an Avro object container file; replay reads Avro event streams (length-prefixed single-object records)',
    );
  }
  let at = 0;
  for (let index = 1; at < bytes.length; index++) {
    let zigzag = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) throw new InputLineError(name, index, 'truncated record length');
      const b = bytes[at++];
      zigzag += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) break;
      if (scale > 2 ** 49) throw new InputLineError(name, index, 'record length is not a valid varint');
    }
    const length = zigzag / 2;
    if (!Number.isInteger(length) || at + length > bytes.length)
      throw new InputLineError(name, index, `record of ${length} bytes runs past the end of the file`);
    yield { index, record: bytes.subarray(at, at + length) };
    at += length;
  }
}
