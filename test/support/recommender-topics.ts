import agentRecommender from '../../topologies/agent-recommender.js';
import { avroSerde } from '../../src/serde/avro-serde.js';
import type { ScoreRecord, TrajectoryEvent } from '../../src/recommender/records.js';
import type { Transport } from '../../src/topology/transport/types.js';
import { streamTrajectories } from './stream-trajectories.js';

/**
 * The `--set` settings that give one test run its own input and output topics. Model sync is off:
 * these runs compare state and outputs byte for byte, which holds only while a task's state is a
 * function of its own input (with sync on it also depends on when peers' deltas arrived).
 */
export function recommenderSettings(input: string, output: string, partitions: number): Record<string, string> {
  return { inputTopic: input, outputTopic: output, partitions: String(partitions), syncEveryEvents: '0' };
}

/**
 * Fills the input topic with `events` simulated trajectory events (Avro, keyed by userId) through
 * the topology's own `simulate`, so the run sees exactly what `agentrec run` would produce.
 */
export async function prefillTrajectories(transport: Transport, settings: Record<string, string>, events: number): Promise<void> {
  const topology = agentRecommender({ transport: 'kafka', settings });
  await transport.ensureTopics([{ topic: topology.source.topic, partitions: topology.source.partitions }]);
  const producer = transport.createProducer({ clientId: 'prefill' });
  try {
    await streamTrajectories(topology, producer, events, 0);
  } finally {
    await producer.close();
  }
}

/** Every requestId in a score topic (with how often it appears: outputs are at-least-once). */
export async function scoredRequestIds(transport: Transport, topic: string, partitions: number): Promise<Map<string, number>> {
  const serde = avroSerde<ScoreRecord>('score-record');
  const counts = new Map<string, number>();
  for (let partition = 0; partition < partitions; partition++) {
    for await (const chunk of transport.readToEnd({ topic, partition })) {
      for (const record of chunk) {
        const { requestId } = serde.deserialize(record.value!);
        counts.set(requestId, (counts.get(requestId) ?? 0) + 1);
      }
    }
  }
  return counts;
}

/** The request id of every REQUEST in an input topic. */
export async function requestIdsIn(transport: Transport, topic: string, partitions: number): Promise<Set<string>> {
  const serde = avroSerde<TrajectoryEvent>('trajectory-event');
  const ids = new Set<string>();
  for (let partition = 0; partition < partitions; partition++) {
    for await (const chunk of transport.readToEnd({ topic, partition })) {
      for (const record of chunk) {
        const event = serde.deserialize(record.value!);
        if (event.kind === 'REQUEST') ids.add(event.requestId ?? event.eventId);
      }
    }
  }
  return ids;
}
