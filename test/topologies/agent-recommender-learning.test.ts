import { afterEach, describe, expect, it } from 'vitest';
import agentRecommender from '../../topologies/agent-recommender.js';
import type { ScoreRecord, TrajectoryEvent } from '../../src/serde/records.js';
import { SimulatedUsers } from '../../src/simulation/simulated-users.js';
import { TopologyTestDriver, type TestDriverOptions } from '../../src/topology/test-driver.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { describeKey, pipeEvents, snapshotStore, stepEvents, storeRecorder } from '../unit/operators/recommender-harness.js';

const CANDIDATES = 10;

function simulatedEvents(count: number, seed: number): TrajectoryEvent[] {
  const users = new SimulatedUsers({ users: 50, actions: 30, candidates: CANDIDATES, seed });
  return Array.from({ length: count }, () => users.next());
}

/**
 * Progressive hit@1 of the emitted scores against the simulator's own CHOSEN feedback: each
 * request was scored before its feedback reached the model, so this is out-of-sample.
 */
function hitAtOne(events: TrajectoryEvent[], scores: ScoreRecord[]): number {
  const top = new Map(scores.map((s) => [s.requestId, s.candidates.find((c) => c.rank === 1)!.actionId]));
  const chosen = events.filter((e) => e.kind === 'FEEDBACK' && e.feedback?.signal === 'CHOSEN');
  expect(chosen.every((e) => top.has(e.requestId!))).toBe(true);
  return chosen.filter((e) => top.get(e.requestId!) === e.feedback!.actionId).length / chosen.length;
}

describe('agent-recommender learns from simulated users', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });

  it.each([
    ['fm', 12_000],
    ['dcn', 12_000],
  ])('%s over %i simulated events: hit@1 on the last 40%% of requests is well above chance (0.1)', async (interaction, count) => {
    driver = await TopologyTestDriver.start(agentRecommender({ transport: 'embedded', settings: { interaction } }));
    const events = simulatedEvents(count, 11);
    pipeEvents(driver, events);
    await driver.settle(60_000);
    const scores = driver.readOutput<ScoreRecord>().map((r) => r.value);
    expect(scores).toHaveLength(events.filter((e) => e.kind === 'REQUEST').length);
    expect(scores[0].modelVersion.startsWith(`${interaction}-`)).toBe(true);

    const cut = Math.floor(count * 0.6);
    const early = hitAtOne(events.slice(0, count * 0.2), scores);
    const late = hitAtOne(events.slice(cut), scores);
    expect(late).toBeGreaterThan(2.5 / CANDIDATES);
    expect(late).toBeGreaterThan(early + 0.1);
    expect(await stepEvents(driver, 'learn', 'feedback_applied')).toBeGreaterThan(count * 0.4);
  }, 30_000);
});

describe('agent-recommender state does not depend on batch boundaries', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });
  const tempDir = tempDirs('agent-recommender-batches');

  async function finalState(events: TrajectoryEvent[], options: Partial<TestDriverOptions>, settings: Record<string, string> = {}) {
    const recorder = storeRecorder();
    driver = await TopologyTestDriver.start(agentRecommender({ transport: 'embedded', settings }), { ...options, openStore: recorder.openStore });
    pipeEvents(driver, events);
    await driver.settle(60_000);
    const rows = await snapshotStore(recorder.stores, 'rec');
    const requests = await snapshotStore(recorder.stores, 'rec-requests');
    const batches = (await driver.metrics.stepDuration.get()).values.find((v) => v.metricName === 'agentrec_step_batch_duration_seconds_count' && v.labels.step === 'learn')?.value;
    await driver.close();
    driver = undefined;
    return { rows, requests, batches };
  }

  it.each([['fm'], ['dcn']])('%s: maxBatch 1 (memory) and maxBatch 500 (RocksDB) end with byte-identical rows, dense weights and stored requests', async (interaction) => {
    const events = simulatedEvents(1500, 5);
    const one = await finalState(events, { maxBatch: 1, stateBackend: 'memory' }, { interaction });
    const many = await finalState(events, { maxBatch: 500, stateBackend: 'rocksdb', stateDir: await tempDir() }, { interaction });
    // The two runs really were cut differently.
    expect(one.batches).toBe(1500);
    expect(many.batches).toBeLessThan(20);

    const namespaces = new Set([...one.rows.keys()].map((k) => describeKey(k).namespace));
    expect([...namespaces].sort()).toEqual(['action', 'feature', 'model', 'user']);
    expect([...many.rows.keys()].sort()).toEqual([...one.rows.keys()].sort());
    const differing = [...one.rows].filter(([key, value]) => !many.rows.get(key)!.equals(value)).map(([key]) => describeKey(key));
    expect(differing).toEqual([]);
    expect([...many.requests.keys()].sort()).toEqual([...one.requests.keys()].sort());
    for (const [key, value] of one.requests) expect(many.requests.get(key)!.equals(value)).toBe(true);
  }, 30_000);
});
