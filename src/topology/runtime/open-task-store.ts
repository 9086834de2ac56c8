import { openPartitionStore } from '../../state/open-partition-state.js';
import type { KeyValueStore } from '../../state/store.js';
import type { Topology } from '../topology.js';
import type { RunnerConfig } from './runner-config.js';

/** One store per (topology, store, partition): `${stateDir}/${topology}/${store}/${partition}`. */
export function openTaskStore(topology: Topology, storeName: string, partition: number, config: RunnerConfig): Promise<KeyValueStore> {
  return openPartitionStore({
    stateDir: config.stateDir,
    topology: topology.name,
    store: storeName,
    partition,
    cacheBytes: config.cacheBytes,
    backend: config.stateBackend,
  });
}
