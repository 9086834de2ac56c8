import { afterEach, describe, expect, it } from 'vitest';
import agentRecommender from '../../topologies/agent-recommender.js';
import type { ScoreRecord, TrajectoryEvent } from '../../src/recommender/records.js';
import { SimulatedUsers } from '../../src/recommender/simulation/simulated-users.js';
import { TopologyTestDriver, type TestDriverOptions } from '../../src/topology/test-driver.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { decode } from '../../src/operators/index.js';
import { emit, encode, recommenderModel, scoreRecordSerde } from '../../src/recommender/index.js';
import { validateTrajectoryEvent } from '../../src/recommender/validate-trajectory-event.js';
import { KIND_SIGHTING } from '../../src/recommender/rows/embedding-row-codec.js';
import { topology, type Topology } from '../../src/topology/topology.js';
import {
  describeKey,
  pipeEvents,
  snapshotStore,
  stepEvents,
  storeRecorder,
  trajectorySerde,
} from '../unit/recommender/recommender-harness.js';

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
  ])(
    '%s over %i simulated events: hit@1 on the later requests is well above chance (0.1)',
    async (interaction, count) => {
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
    },
    30_000,
  );
});

describe('agent-recommender state does not depend on batch boundaries', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });
  const tempDir = tempDirs('agent-recommender-batches');

  async function finalState(events: TrajectoryEvent[], options: Partial<TestDriverOptions>, build: () => Topology) {
    const recorder = storeRecorder();
    driver = await TopologyTestDriver.start(build(), { ...options, openStore: recorder.openStore });
    pipeEvents(driver, events);
    await driver.settle(60_000);
    const rows = await snapshotStore(recorder.stores, 'rec');
    const requests = await snapshotStore(recorder.stores, 'rec-requests');
    const batches = (await driver.metrics.stepDuration.get()).values.find(
      (v) => v.metricName === 'agentrec_step_batch_duration_seconds_count' && v.labels.step === 'learn',
    )?.value;
    const expired = await stepEvents(driver, 'lookup', 'rows_expired');
    const filtered = await stepEvents(driver, 'lookup', 'rows_filtered');
    await driver.close();
    driver = undefined;
    return { rows, requests, batches, expired, filtered };
  }

  function expectSameBytes(a: Map<string, Buffer>, b: Map<string, Buffer>): void {
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const differing = [...a].filter(([key, value]) => !b.get(key)!.equals(value)).map(([key]) => describeKey(key));
    expect(differing).toEqual([]);
  }

  it.each([['fm'], ['dcn']])(
    '%s: maxBatch 1 (memory) and maxBatch 500 (RocksDB) end with byte-identical rows, dense weights and stored requests',
    async (interaction) => {
      const events = simulatedEvents(1500, 5);
      // Sync off: with it on, a task's state also depends on where its batches (and so its syncs) end.
      const build = () => agentRecommender({ transport: 'embedded', settings: { interaction, syncEveryEvents: '0' } });
      const one = await finalState(events, { maxBatch: 1, stateBackend: 'memory' }, build);
      const many = await finalState(events, { maxBatch: 500, stateBackend: 'rocksdb', stateDir: await tempDir() }, build);
      // The two runs really were cut differently.
      expect(one.batches).toBe(1500);
      expect(many.batches).toBeLessThan(20);

      const namespaces = new Set([...one.rows.keys()].map((k) => describeKey(k).namespace));
      expect([...namespaces].sort()).toEqual(['action', 'feature', 'model', 'user']);
      expectSameBytes(one.rows, many.rows);
      expectSameBytes(one.requests, many.requests);
    },
    30_000,
  );

  it('with a frequency filter and a row TTL shorter than a batch, held-back sightings and expired rows come out the same', async () => {
    // One event a minute and a 30 min TTL: a 500-event batch spans 8 h, so rows expire between two
    // uses inside one batch, and sightings are stamped with their own event's time.
    const users = new SimulatedUsers({ users: 50, actions: 30, candidates: CANDIDATES, seed: 5, stepMs: 60_000 });
    const events = Array.from({ length: 1500 }, () => users.next());
    const build = () => {
      const model = recommenderModel({ name: 'rec', dim: 8, rows: { featureMinCount: 3, actionMinCount: 2, ttlMs: 30 * 60_000 } });
      return topology('filtered-recommender')
        .from('trajectories', { topic: 'trajectories', partitions: 2 })
        .step(decode('decode', { serde: trajectorySerde, validate: validateTrajectoryEvent }))
        .step(encode('encode'))
        .step(model.lookup('lookup'))
        .step(model.score('score'))
        .step(model.learn('learn'))
        .step(emit('emit'))
        .to('scores', { topic: 'scores', serde: scoreRecordSerde() });
    };
    const one = await finalState(events, { maxBatch: 1 }, build);
    const many = await finalState(events, { maxBatch: 500 }, build);
    expect(many.batches).toBeLessThan(10);
    expect(one.expired).toBeGreaterThan(0);
    expect(one.filtered).toBeGreaterThan(0);
    expect([...one.rows.values()].some((bytes) => bytes[0] === KIND_SIGHTING)).toBe(true);
    expectSameBytes(one.rows, many.rows);

    // The sweep at the last quarter-TTL boundary left no row or sighting older than the TTL on
    // disk (without it, rows of users who never came back would stay), and kept the dense weights.
    // Each partition sweeps on its own event time: the latest of its stored touch times.
    const ttl = 30 * 60_000;
    const records = [...one.rows].filter(([key]) => describeKey(key).namespace !== 'model');
    const lastTouched = new Map<number, number>();
    for (const [key, bytes] of records) {
      const { partition } = describeKey(key);
      lastTouched.set(partition, Math.max(lastTouched.get(partition) ?? 0, bytes.readDoubleLE(8)));
    }
    const cutoff = (partition: number) => Math.floor(lastTouched.get(partition)! / (ttl / 4)) * (ttl / 4) - ttl;
    const stale = records.filter(([key, bytes]) => bytes.readDoubleLE(8) < cutoff(describeKey(key).partition));
    expect(stale.map(([key]) => describeKey(key))).toEqual([]);
    expect([...one.rows.keys()].some((key) => describeKey(key).namespace === 'model')).toBe(true);
  }, 30_000);
});
