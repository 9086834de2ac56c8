import { extname } from 'node:path';
import { ConfigError } from '../../errors.js';

/**
 * The two file formats of trajectory events: JSONL (one TrajectoryEvent as JSON per line) and
 * an Avro event stream (avro-event-stream.ts). Told by the extension unless given.
 */
export type EventFileFormat = 'jsonl' | 'avro';

export function eventFileFormat(file: string, explicit: string | undefined, flag: string): EventFileFormat {
  if (explicit !== undefined) {
    if (explicit === 'jsonl' || explicit === 'avro') return explicit;
    throw new ConfigError(flag, `must be 'jsonl' or 'avro', got '${explicit}'`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.avro' || ext === '.avros') return 'avro';
  throw new ConfigError(flag, `cannot tell the format of '${file}' from its extension; use .jsonl or .avro, or say which with ${flag}`);
}
