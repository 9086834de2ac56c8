import { createWriteStream, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { avroSerde } from '../../serde/avro-serde.js';
import type { TrajectoryEvent } from '../records.js';
import { frame } from './avro-event-stream.js';
import type { EventSink } from './event-sink.js';
import type { EventFileFormat } from './event-file-format.js';

/** A JSONL file (one TrajectoryEvent per line) or an Avro event stream (avro-event-stream.ts). */
export function fileSink(file: string, format: EventFileFormat): EventSink {
  const stream = createWriteStream(file);
  const serde = format === 'avro' ? avroSerde<TrajectoryEvent>('trajectory-event') : undefined;
  let closed: Promise<void> | undefined;
  return {
    description: `${basename(file)} (${format === 'avro' ? 'Avro event stream' : 'JSONL'})`,
    async write(events) {
      const chunk = serde
        ? Buffer.concat(events.map((e) => frame(serde.serialize(e))))
        : events.map((e) => JSON.stringify(e) + '\n').join('');
      if (!stream.write(chunk)) await drained(stream);
    },
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      });
      return closed;
    },
  };
}

function drained(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    stream.once('error', onError);
    stream.once('drain', () => {
      stream.off('error', onError);
      resolve();
    });
  });
}
