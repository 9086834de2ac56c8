import type { EventSink } from '../../../../src/recommender/import/event-sink.js';
import type { TrajectoryEvent } from '../../../../src/recommender/records.js';

/** An EventSink that keeps what it gets, for asserting on mapped events. */
export function memorySink(): EventSink & { events: TrajectoryEvent[] } {
  const events: TrajectoryEvent[] = [];
  return {
    events,
    description: 'memory',
    async write(batch) {
      events.push(...batch);
    },
    async close() {},
  };
}
