import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { GroupProgress } from '../support/group-progress.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';
import { RecommenderProcess, type RecommenderProcessOptions } from '../support/recommender-process.js';
import { runUntilConsumed } from '../support/run-until-consumed.js';
import { prefillTrajectories, recommenderSettings, scoredRequestIds } from '../support/recommender-topics.js';
import { diffSnapshots, entryCount, snapshotStateDir, type StoreSnapshot } from '../support/state-snapshot.js';

const PARTITIONS = 4;
const EVENTS = 20_000;
const KILLS = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * kill -9 at random points must change nothing: the stateful agent recommender, killed and
 * restarted on the same state directory and group until the input is consumed, ends with
 * RocksDB stores byte-identical to an uninterrupted run's, and its score topic holds every
 * request the uninterrupted run scored (duplicates allowed: outputs are at-least-once).
 */
describeKafka('state survives kill -9 (real broker, real RocksDB)', () => {
  const name = uniqueName('state-crash');
  const input = `${name}.in`;
  const newDir = tempDirs('state-crash');
  let transport: Transport;
  let baseline: { state: Map<string, StoreSnapshot>; scored: Map<string, number> };

  const runOptions = async (run: string): Promise<RecommenderProcessOptions> => ({
    brokers: kafkaBrokers!,
    group: `${name}-${run}`,
    stateDir: await newDir(),
    settings: recommenderSettings(input, `${name}.${run}.scores`, PARTITIONS),
    instanceId: `${name}-${run}`,
    // Small batches and frequent commits: many commit points for the kills to land between.
    maxBatch: 200,
    commitIntervalMs: 100,
  });

  async function outcome(options: RecommenderProcessOptions) {
    return {
      state: await snapshotStateDir(options.stateDir),
      scored: await scoredRequestIds(transport, options.settings.outputTopic, PARTITIONS),
    };
  }

  function expectSameOutcome(actual: { state: Map<string, StoreSnapshot>; scored: Map<string, number> }): void {
    expect(diffSnapshots(baseline.state, actual.state)).toEqual([]);
    const missing = [...baseline.scored.keys()].filter((id) => !actual.scored.has(id));
    expect(missing.length, `requests scored by the clean run but missing here, e.g. ${missing.slice(0, 3).join(', ')}`).toBe(0);
  }

  beforeAll(async () => {
    transport = createKafkaTransport({ brokers: kafkaBrokers! });
    await prefillTrajectories(transport, recommenderSettings(input, `${name}.unused`, PARTITIONS), EVENTS);
    const clean = await runOptions('clean');
    // Different batching and commit points on purpose: state must not depend on them.
    await runUntilConsumed({ ...clean, maxBatch: 5000, commitIntervalMs: 1000 }, input);
    baseline = await outcome(clean);
    // The comparison means something only if the clean run learned: rows, requests, sessions and action histories in every partition.
    expect(baseline.state.size).toBe(4 * PARTITIONS);
    for (const [store, snapshot] of baseline.state) expect(snapshot.entries.size, store).toBeGreaterThan(0);
    expect(baseline.scored.size).toBeGreaterThan(EVENTS / 10);
  });

  afterAll(async () => {
    await transport?.close();
  });

  it(`ends byte-identical after ${KILLS} SIGKILLs at random points`, async () => {
    const options = await runOptions('killed');
    const progress = new GroupProgress(options.brokers, options.group, input);
    const committedAtKill: number[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const process = new RecommenderProcess(options);
        // Most kills land while partitions are processed; some during start-up, join and restore.
        if (Math.random() < 0.2) {
          await sleep(Math.random() * 1500);
        } else {
          await process.running();
          for (const deadline = Date.now() + 60_000; !process.log.includes('assigned partitions'); await sleep(10)) {
            if (Date.now() > deadline) throw new Error(`never assigned:\n${process.log}`);
          }
          // The first commit comes 1-3 s after assignment (restore, model set-up, first batches),
          // then processing runs at a few thousand events/s: kills spread over both.
          await sleep(Math.random() * 2500);
        }
        const exit = await process.kill();
        expect(exit.signal, process.log).toBe('SIGKILL');
        committedAtKill.push(await progress.committedRecords());
      }
    } finally {
      await progress.close();
    }
    await runUntilConsumed(options, input);
    const midInput = committedAtKill.filter((c) => c > 0 && c < EVENTS).length;
    console.log(
      `kills: ${KILLS}, of which ${midInput} with the input partly consumed; committed at each kill: ${committedAtKill.join(' ')}`,
    );
    const actual = await outcome(options);
    expect(entryCount(actual.state)).toBe(entryCount(baseline.state));
    expectSameOutcome(actual);
  });

  it('ends byte-identical after a kill that leaves one store of a task a commit behind the other', async () => {
    // A task's stores are separate RocksDB instances written one batch each: the process dies
    // after the rows store ('rec') wrote a commit and before the requests store did.
    const options = await runOptions('torn');
    const torn = new RecommenderProcess({ ...options, killBeforeWrite: 'rec-requests:3' });
    const timer = setTimeout(() => void torn.kill(), 60_000);
    const exit = await torn.exited.finally(() => clearTimeout(timer));
    expect(exit.signal, torn.log).toBe('SIGKILL');
    expect(torn.log).toMatch(/self-kill before writing flush 3 of '[^']*\/rec-requests\//);
    const restarted = await runUntilConsumed(options, input);
    // The requests store was a commit behind the rows: brought forward from its changelog.
    expect(restarted.log).toMatch(/restored store 'rec-requests' partition \d+: \d+ entries/);
    expectSameOutcome(await outcome(options));
  });
});
