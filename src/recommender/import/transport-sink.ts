import { avroSerde } from '../../serde/avro-serde.js';
import type { Transport } from '../../topology/transport/types.js';
import type { TrajectoryEvent } from '../records.js';
import type { EventSink } from './event-sink.js';

export interface TransportSinkOptions {
  transport: Transport;
  topic: string;
  /** Partitions of the topic when it is created here; an existing topic is left as it is. */
  partitions: number;
}

/**
 * A topic on Kafka or the embedded log: Avro single-object values keyed by user id, as a
 * topology's source expects them (the key partitions by user).
 */
export function transportSink(options: TransportSinkOptions): EventSink {
  const serde = avroSerde<TrajectoryEvent>('trajectory-event');
  const producer = options.transport.createProducer({ clientId: 'agentrec-import' });
  let ready: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  return {
    description: `${options.transport.kind === 'kafka' ? 'Kafka' : 'embedded log'} topic ${options.topic}`,
    async write(events) {
      ready ??= options.transport.ensureTopics([{ topic: options.topic, partitions: options.partitions }]);
      await ready;
      await producer.send(events.map((e) => ({ topic: options.topic, key: Buffer.from(e.userId), value: serde.serialize(e) })));
    },
    close() {
      closed ??= producer.close();
      return closed;
    },
  };
}
