import { avroSerde } from '../../serde/avro-serde.js';
import type { DeadLetterRecord } from '../../serde/records.js';
import type { Serde } from '../types.js';

/** Dead letters are Avro (schemas/dead-letter.v1.avsc) so any consumer can read and replay them. */
export function defaultDeadLetterSerde(): Serde<DeadLetterRecord> {
  return avroSerde<DeadLetterRecord>('dead-letter');
}
