import { bytesSerde } from '../../src/serde/bytes-serde.js';
import { batchStep } from '../../src/topology/step.js';
import { topology, type RawRecord, type Topology } from '../../src/topology/topology.js';
import type { StepContext } from '../../src/topology/types.js';

/** The key under which the counting step stores how many records it has seen. */
export const SEEN_KEY = Buffer.from('seen');

/**
 * A one-partition topology `${name}.in` → `${name}.out` whose step counts the records it sees,
 * stores the count under SEEN_KEY in store `counts` after every batch and emits it per record:
 * the smallest topology whose store, changelog and outputs show what a commit held. `beforeCommit`,
 * when given, is registered as the step's hook (ctx.beforeCommit).
 */
export function countingTopology(name: string, beforeCommit?: (ctx: StepContext) => Promise<void>): Topology {
  return topology(name)
    .from('in', { topic: `${name}.in`, partitions: 1 })
    .step(
      batchStep<RawRecord, Buffer>(
        'count',
        'count',
        (ctx) => {
          const store = ctx.store('counts');
          if (beforeCommit) ctx.beforeCommit(() => beforeCommit(ctx));
          let seen = 0;
          return async (batch) => {
            seen += batch.records.length;
            await store.put(SEEN_KEY, Buffer.from(String(seen)));
            return { partition: batch.partition, records: batch.records.map((r) => ({ meta: r.meta, value: Buffer.from(String(seen)) })) };
          };
        },
        { stores: [{ name: 'counts' }] },
      ),
    )
    .to('out', { topic: `${name}.out`, serde: bytesSerde() });
}
