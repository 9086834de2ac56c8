import { createHash } from 'node:crypto';
import { avroSerde } from '../../serde/avro-serde.js';
import type { Serde } from '../../serde/serde.js';

/** dev.agentrec.DeadLetter (schemas/dead-letter.v1.avsc). */
export interface DeadLetterRecord {
  topology: string;
  step: string;
  /** An agentrec ErrorCode, e.g. DECODE_FAILED. */
  errorCode: string;
  reason: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** timestamp-millis */
  failedAt: number;
}

/** Dead letters are Avro (schemas/dead-letter.v1.avsc) so any consumer can read and replay them. */
export function defaultDeadLetterSerde(): Serde<DeadLetterRecord> {
  return avroSerde<DeadLetterRecord>('dead-letter');
}

/** What a Kafka record takes beyond its key and value bytes (framing, headers), generously. */
export const RECORD_FRAMING_BYTES = 512;
/** An oversized dead letter's reason is cut to this many characters before the note is added. */
const MAX_REASON_CHARS = 2000;
/** Avro's length prefixes and union branches around the key and value fields, generously. */
const AVRO_FIELD_BYTES = 32;

/**
 * The dead letter as the key and value bytes of its record, at most `maxBytes` together with
 * RECORD_FRAMING_BYTES. One that would not fit (the bad record was near the log's size limit)
 * keeps a prefix of its key and value; its reason then gives each cut field's original size and
 * sha256, so the original can still be found and matched. Without the cut the log refuses the
 * dead letter, the commit fails, and the task fails again on the same record after a restart.
 */
export function serializeDeadLetter(
  record: DeadLetterRecord,
  serde: Serde<DeadLetterRecord>,
  maxBytes: number,
): { key: Buffer | null; value: Buffer } {
  const value = serde.serialize(record);
  if (recordBytes(record.key, value) <= maxBytes) return { key: record.key, value };
  const reason = record.reason.length > MAX_REASON_CHARS ? `${record.reason.slice(0, MAX_REASON_CHARS)}…` : record.reason;
  const keyNote = cutNote('key', record.key);
  const valueNote = cutNote('value', record.value);
  const cut = (keep: { key: number; value: number }): DeadLetterRecord => ({
    ...record,
    reason: reason + keyNote(keep.key) + valueNote(keep.value),
    key: record.key && record.key.subarray(0, keep.key),
    value: record.value && record.value.subarray(0, keep.value),
  });
  // Sized with both notes at their longest (a kept count has at most the original's digits).
  const widest = cut({ key: Math.max(0, (record.key?.length ?? 0) - 1), value: Math.max(0, (record.value?.length ?? 0) - 1) });
  const fixed = recordBytes(null, serde.serialize({ ...widest, key: null, value: null }));
  const room = Math.max(0, maxBytes - fixed - 2 * AVRO_FIELD_BYTES);
  // The key travels twice (record key and field); it gets at most a quarter of the room.
  const keepKey = Math.min(record.key?.length ?? 0, Math.floor(room / 4));
  const fitted = cut({ key: keepKey, value: Math.min(record.value?.length ?? 0, room - 2 * keepKey) });
  const fittedValue = serde.serialize(fitted);
  if (recordBytes(fitted.key, fittedValue) <= maxBytes) return { key: fitted.key, value: fittedValue };
  // Only a serde far less compact than Avro gets here: keep the metadata, drop the payload.
  const bare = cut({ key: 0, value: 0 });
  return { key: null, value: serde.serialize({ ...bare, key: null, value: null }) };
}

/** What the log counts for a record: key, value and framing. */
export function recordBytes(key: Buffer | null, value: Buffer | null): number {
  return (key?.length ?? 0) + (value?.length ?? 0) + RECORD_FRAMING_BYTES;
}

/** The note an oversized dead letter's reason gets for a field cut to `kept` bytes ('' when not cut). */
function cutNote(field: 'key' | 'value', original: Buffer | null): (kept: number) => string {
  let sha256: string | undefined;
  return (kept) => {
    if (!original || kept >= original.length) return '';
    sha256 ??= createHash('sha256').update(original).digest('hex');
    return ` [${field} cut to fit the dead-letter topic: ${kept} of ${original.length} bytes kept, sha256 ${sha256}]`;
  };
}
