import { simulate } from '../../topologies/agent-recommender.js';
import type { SimulationContext } from '../../src/topology/topology-module.js';
import type { Producer } from '../../src/topology/transport/types.js';

/** Tests feed the recommender through the topology's own `simulate`, so a run sees exactly what `agentrec run` would produce, set up here once. */
export function streamTrajectories(
  topology: SimulationContext['topology'],
  producer: Producer,
  events: number,
  rate: number,
  signal: AbortSignal = new AbortController().signal,
): Promise<void> {
  return simulate({
    topology,
    produce: (records) => producer.send(records),
    events,
    rate,
    signal,
    log: () => undefined,
  });
}
