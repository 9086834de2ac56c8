import type { Serde } from '../types.js';
import type { DeadLetter } from './partition-task.js';

// TODO(lead): switch to the Avro dead-letter schema once src/serde lands.
export function defaultDeadLetterSerde(): Serde<DeadLetter> {
  return {
    name: 'json:dead-letter',
    serialize: (v) => Buffer.from(JSON.stringify({ ...v, key: v.key?.toString('base64') ?? null, value: v.value?.toString('base64') ?? null })),
    deserialize: (b) => JSON.parse(b.toString()),
  };
}
