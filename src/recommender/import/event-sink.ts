import type { TrajectoryEvent } from '../records.js';

/** Where imported events go: a file (JSONL or Avro), or a topic of a transport (Kafka, embedded log). */
export interface EventSink {
  /** For messages: `events.jsonl`, `Kafka topic agent.trajectories`. */
  readonly description: string;
  /** Writes in order; resolves once the sink has taken the events (acknowledged, for a topic). */
  write(events: TrajectoryEvent[]): Promise<void>;
  /** Flushes and releases the sink; idempotent. */
  close(): Promise<void>;
}
