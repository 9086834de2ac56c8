import { BadRecordError } from '../errors.js';
import type { Serde } from './serde.js';

/**
 * UTF-8 strings (keys are user ids). Decoding is strict: invalid UTF-8 is a bad record rather
 * than a string with U+FFFD in it, which would silently become a different user.
 */
export function stringSerde(): Serde<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return {
    name: 'string',
    serialize: (value) => Buffer.from(value, 'utf8'),
    deserialize(bytes: Buffer): string {
      try {
        return decoder.decode(bytes);
      } catch (cause) {
        throw new BadRecordError('DECODE_FAILED', 'not valid UTF-8', { cause });
      }
    },
  };
}
