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
