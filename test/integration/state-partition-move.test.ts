import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { GroupProgress } from '../support/group-progress.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';
import { RecommenderProcess, type RecommenderProcessOptions } from '../support/recommender-process.js';
import { prefillTrajectories, recommenderSettings, scoredRequestIds } from '../support/recommender-topics.js';
import { runUntilConsumed } from '../support/run-until-consumed.js';
import { diffSnapshots, entryCount, snapshotStateDir } from '../support/state-snapshot.js';

const PARTITIONS = 2;
const EVENTS = 8000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A partition that moves to an instance without local state (a new machine, a lost disk) is
 * rebuilt from the changelog topics before it processes anything, and learning continues as if
 * it had never moved: the final rows are byte-identical to an unmoved run's.
 */
describeKafka('state moves with its partition (real broker, real RocksDB)', () => {
  const name = uniqueName('state-move');
  const input = `${name}.in`;
  const newDir = tempDirs('state-move');
  let transport: Transport;

  const runOptions = async (group: string, output: string): Promise<RecommenderProcessOptions> => ({
    brokers: kafkaBrokers!,
    group: `${name}-${group}`,
    stateDir: await newDir(),
    settings: recommenderSettings(input, `${name}.${output}.scores`, PARTITIONS),
    maxBatch: 200,
    commitIntervalMs: 100,
  });

  beforeAll(async () => {
    transport = createKafkaTransport({ brokers: kafkaBrokers! });
    await prefillTrajectories(transport, recommenderSettings(input, `${name}.unused`, PARTITIONS), EVENTS);
  });

  afterAll(async () => {
    await transport?.close();
  });

  it('instance B with an empty state dir restores from the changelogs and ends where an unmoved run ends', async () => {
    const unmoved = await runOptions('unmoved', 'unmoved');
    await runUntilConsumed(unmoved, input);

    // Instance A: stops gracefully part-way through the input.
    const a = await runOptions('moved', 'moved');
    const progress = new GroupProgress(a.brokers, a.group, input);
    const instanceA = new RecommenderProcess(a);
    try {
      await instanceA.running();
      for (const deadline = Date.now() + 60_000; ; await sleep(20)) {
        const { committed } = await progress.offsets();
        if (committed.every((c) => c > 0)) break;
        if (Date.now() > deadline) throw new Error(`instance A made no progress:\n${instanceA.log}`);
      }
      await instanceA.stop();
      const atMove = await progress.committedRecords();
      expect(atMove, 'A must stop part-way for the move to mean something').toBeLessThan(EVENTS);
      expect(entryCount(await snapshotStateDir(a.stateDir))).toBeGreaterThan(0);

      // Instance B: same group, empty state dir.
      const b = { ...a, stateDir: await newDir() };
      const instanceB = await runUntilConsumed(b, input);
      for (let partition = 0; partition < PARTITIONS; partition++) {
        for (const store of ['rec', 'rec-requests', 'sessions']) {
          const restored = new RegExp(`restored store '${store}' partition ${partition}: (\\d+) entries`).exec(instanceB.log);
          expect(restored, `${store}/${partition} restore line in:\n${instanceB.log}`).not.toBeNull();
          expect(Number(restored![1])).toBeGreaterThan(0);
        }
      }
      const expected = await snapshotStateDir(unmoved.stateDir);
      const moved = await snapshotStateDir(b.stateDir);
      expect(diffSnapshots(expected, moved)).toEqual([]);
      // The unmoved run's scores are all there (the moved run may repeat some: at-least-once).
      const scoredUnmoved = await scoredRequestIds(transport, unmoved.settings.outputTopic, PARTITIONS);
      const scoredMoved = await scoredRequestIds(transport, a.settings.outputTopic, PARTITIONS);
      expect([...scoredUnmoved.keys()].filter((id) => !scoredMoved.has(id))).toEqual([]);
    } finally {
      await progress.close();
      if (!(await Promise.race([instanceA.exited.then(() => true), sleep(0).then(() => false)]))) await instanceA.kill();
    }
  });
});
