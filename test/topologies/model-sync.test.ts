import { describe, expect, it } from 'vitest';
import agentRecommender from '../../topologies/agent-recommender.js';
import { SimulatedUsers } from '../../src/recommender/simulation/simulated-users.js';
import { TopologyTestDriver } from '../../src/topology/test-driver.js';
import { decodeRow, describeKey, pipeEvents, snapshotStore, stepEvents, storeRecorder } from '../unit/recommender/recommender-harness.js';

const DIM = 16;

/** Largest |difference| between the two partitions' copies of every shared action row. */
async function actionRowDivergence(syncEveryEvents: number): Promise<{ divergence: number; syncs: number; compared: number }> {
  const recorder = storeRecorder();
  const driver = await TopologyTestDriver.start(
    agentRecommender({ transport: 'embedded', settings: { partitions: '2', dim: String(DIM), syncEveryEvents: String(syncEveryEvents) } }),
    { stateBackend: 'memory', openStore: recorder.openStore, maxBatch: 50 },
  );
  try {
    const users = new SimulatedUsers({ users: 40, actions: 20, candidates: 8, seed: 5 });
    pipeEvents(
      driver,
      Array.from({ length: 3000 }, () => users.next()),
    );
    await driver.settle(60_000);
    const rows = await snapshotStore(recorder.stores, 'rec');
    const byAction = new Map<string, Float32Array[]>();
    for (const key of rows.keys()) {
      const { namespace, id } = describeKey(key);
      if (namespace !== 'action') continue;
      const data = decodeRow(rows, key).data;
      if (data) byAction.set(id, [...(byAction.get(id) ?? []), data.subarray(0, DIM + 1)]);
    }
    let divergence = 0;
    let compared = 0;
    for (const copies of byAction.values()) {
      if (copies.length !== 2) continue;
      compared++;
      for (let k = 0; k <= DIM; k++) divergence = Math.max(divergence, Math.abs(copies[0][k] - copies[1][k]));
    }
    return { divergence, syncs: await stepEvents(driver, 'learn', 'model_syncs'), compared };
  } finally {
    await driver.close();
  }
}

describe('shared-parameter sync across tasks (model topic, delta averaging)', () => {
  it('brings the partitions’ copies of shared action rows together; without sync they drift apart', async () => {
    const unsynced = await actionRowDivergence(0);
    const synced = await actionRowDivergence(20);
    expect(unsynced.syncs).toBe(0);
    expect(synced.syncs).toBeGreaterThan(10);
    expect(synced.compared).toBeGreaterThan(10);
    console.log(
      `action-row divergence between partitions: ${unsynced.divergence.toFixed(4)} without sync, ${synced.divergence.toFixed(4)} with sync every 20 updates (${synced.syncs} syncs)`,
    );
    // What remains is what each task learned since its last sync.
    expect(synced.divergence).toBeLessThan(unsynced.divergence / 4);
  });
});
