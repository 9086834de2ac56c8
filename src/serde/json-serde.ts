import { BadRecordError, errorMessage } from '../errors.js';
import type { Serde } from './serde.js';

/**
 * UTF-8 JSON, for demos and tests where readable topic contents matter more than size or
 * schema evolution. No schema: pair it with a semantic check such as validateTrajectoryEvent.
 */
export function jsonSerde<T>(name = 'json'): Serde<T> {
  return {
    name,
    serialize(value: T): Buffer {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (cause) {
        throw new BadRecordError('ENCODE_FAILED', `cannot encode as JSON: ${errorMessage(cause)}`, { cause });
      }
      if (text === undefined) {
        throw new BadRecordError('ENCODE_FAILED', `cannot encode ${typeof value} as JSON`);
      }
      return Buffer.from(text, 'utf8');
    },
    deserialize(bytes: Buffer): T {
      try {
        return JSON.parse(bytes.toString('utf8')) as T;
      } catch (cause) {
        throw new BadRecordError('DECODE_FAILED', `not JSON: ${errorMessage(cause)}`, { cause });
      }
    },
  };
}
