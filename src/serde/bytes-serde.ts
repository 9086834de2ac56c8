import type { Serde } from './serde.js';

/**
 * Pass-through for topologies that move records without looking inside (mirroring, replay,
 * dead-letter forwarding). Returns the same Buffer, not a copy: callers must not mutate it.
 */
export function bytesSerde(): Serde<Buffer> {
  return {
    name: 'bytes',
    serialize: (value) => value,
    deserialize: (bytes) => bytes,
  };
}
