import { openPartitionStore } from '../../state/open-partition-state.js';
import type { KeyValueStore } from '../../state/store.js';
import type { Topology } from '../topology.js';
import type { RunnerConfig } from './runner-config.js';

/**
 * One store per (application, store, partition): `${stateDir}/${groupId}/${store}/${partition}`.
 * Named by the group id (the application), not the topology file, so two deployments of one
 * topology on one machine never share or lock each other's state — the same rule as the
 * changelog topic names. Its write-back cache is the runtime's `cacheBytes`, or the store's
 * `maxCacheBytes` where that is smaller.
 */
export function openTaskStore(topology: Topology, storeName: string, partition: number, config: RunnerConfig): Promise<KeyValueStore> {
  const spec = topology.stores.find((s) => s.name === storeName);
  return openPartitionStore({
    stateDir: config.stateDir,
    topology: config.groupId,
    store: storeName,
    partition,
    cacheBytes: Math.min(config.cacheBytes, spec?.maxCacheBytes ?? Infinity),
    backend: config.stateBackend,
  });
}
