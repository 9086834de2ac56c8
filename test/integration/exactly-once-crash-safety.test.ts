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
const KILLS = 12;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The exactly-once variant of state-crash-safety.test.ts: with `--processing-guarantee
 * exactly-once`, kill -9 at random points must leave the score topic, read read_committed, with
 * every request the uninterrupted run scored exactly once, and the RocksDB stores byte-identical.
 */
describeKafka('exactly-once survives kill -9 (real broker, real RocksDB)', () => {
  const name = uniqueName('eos-crash');
  const input = `${name}.in`;
  const newDir = tempDirs('eos-crash');
  // Reads read_committed (the transport's setting): aborted and open transactions stay unseen.
  let transport: Transport;
  // The same topics read_uncommitted: what a reader that ignores transactions would see.
  let uncommitted: Transport;
  let baseline: { state: Map<string, StoreSnapshot>; scored: Map<string, number> };

  const runOptions = async (run: string): Promise<RecommenderProcessOptions> => ({
    brokers: kafkaBrokers!,
    group: `${name}-${run}`,
    stateDir: await newDir(),
    settings: recommenderSettings(input, `${name}.${run}.scores`, PARTITIONS),
    // Stable across restarts: the transactional id derives from it, so a restart fences the killed process.
    instanceId: `${name}-${run}`,
    maxBatch: 200,
    commitIntervalMs: 100,
    processingGuarantee: 'exactly-once',
  });

  const outcome = async (options: RecommenderProcessOptions) => ({
    state: await snapshotStateDir(options.stateDir),
    scored: await scoredRequestIds(transport, options.settings.outputTopic, PARTITIONS),
  });

  const duplicated = (scored: Map<string, number>) => [...scored].filter(([, count]) => count > 1);
  const total = (scored: Map<string, number>) => [...scored.values()].reduce((sum, count) => sum + count, 0);

  beforeAll(async () => {
    transport = createKafkaTransport({ brokers: kafkaBrokers! });
    uncommitted = createKafkaTransport({ brokers: kafkaBrokers!, consumer: { librdkafka: { 'isolation.level': 'read_uncommitted' } } });
    await prefillTrajectories(transport, recommenderSettings(input, `${name}.unused`, PARTITIONS), EVENTS);
    const clean = await runOptions('clean');
    await runUntilConsumed({ ...clean, maxBatch: 5000, commitIntervalMs: 1000 }, input);
    baseline = await outcome(clean);
    expect(baseline.state.size).toBe(4 * PARTITIONS);
    for (const [store, snapshot] of baseline.state) expect(snapshot.entries.size, store).toBeGreaterThan(0);
    expect(baseline.scored.size).toBeGreaterThan(EVENTS / 10);
    expect(duplicated(baseline.scored)).toEqual([]);
  });

  afterAll(async () => {
    await transport?.close();
    await uncommitted?.close();
  });

  it(`scores every request exactly once and ends byte-identical after ${KILLS} SIGKILLs`, async () => {
    const options = await runOptions('killed');
    const progress = new GroupProgress(options.brokers, options.group, input);
    const committedAtKill: number[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const process = new RecommenderProcess(options);
        if (Math.random() < 0.2) {
          await sleep(Math.random() * 1500);
        } else {
          await process.running();
          for (const deadline = Date.now() + 60_000; !process.log.includes('assigned partitions'); await sleep(10)) {
            if (Date.now() > deadline) throw new Error(`never assigned:\n${process.log}`);
          }
          // The first commit comes 2-3 s after assignment: most kills land after it, in processing.
          await sleep(1000 + Math.random() * 3000);
        }
        const exit = await process.kill();
        expect(exit.signal, process.log).toBe('SIGKILL');
        committedAtKill.push(await progress.committedRecords());
      }
    } finally {
      await progress.close();
    }
    await runUntilConsumed(options, input);
    const actual = await outcome(options);
    const seenUncommitted = await scoredRequestIds(uncommitted, options.settings.outputTopic, PARTITIONS);
    const midInput = committedAtKill.filter((c) => c > 0 && c < EVENTS).length;
    console.log(
      `kills: ${KILLS}, ${midInput} with the input partly consumed; committed at each kill: ${committedAtKill.join(' ')}; ` +
        `score records read_committed ${total(actual.scored)}, read_uncommitted ${total(seenUncommitted)} ` +
        `(${duplicated(seenUncommitted).length} requests there more than once)`,
    );
    const duplicates = duplicated(actual.scored);
    expect(duplicates.length, `requests scored more than once, e.g. ${JSON.stringify(duplicates.slice(0, 3))}`).toBe(0);
    const missing = [...baseline.scored.keys()].filter((id) => !actual.scored.has(id));
    expect(missing.length, `requests scored by the clean run but missing here, e.g. ${missing.slice(0, 3).join(', ')}`).toBe(0);
    expect(actual.scored.size).toBe(baseline.scored.size);
    expect(entryCount(actual.state)).toBe(entryCount(baseline.state));
    expect(diffSnapshots(baseline.state, actual.state)).toEqual([]);
  }, 300_000);

  it('restores partitions taken over from a killed owner past its open transaction, scoring each request once', async () => {
    // A is killed mid-stream and never comes back: its last transaction stays open until the
    // broker's transaction timeout, and B, with an empty state directory, must restore A's
    // partitions from changelogs read read_committed (waiting for that transaction to end) and
    // read the committed offsets while they are pending in it.
    const a = { ...(await runOptions('takeover')), instanceId: `${name}-takeover-a`, transactionTimeoutMs: 10_000 };
    const b = { ...a, stateDir: await newDir(), instanceId: `${name}-takeover-b` };
    const progress = new GroupProgress(a.brokers, a.group, input);
    const instanceA = new RecommenderProcess(a);
    try {
      await instanceA.running();
      for (const deadline = Date.now() + 60_000; (await progress.committedRecords()) < EVENTS / 4; await sleep(50)) {
        if (Date.now() > deadline) throw new Error(`instance A made no progress:\n${instanceA.log}`);
      }
      expect((await instanceA.kill()).signal).toBe('SIGKILL');
    } finally {
      await progress.close();
    }
    const seenBefore = await scoredRequestIds(uncommitted, a.settings.outputTopic, PARTITIONS);
    const instanceB = await runUntilConsumed(b, input, 180_000);
    expect(instanceB.log).toMatch(/restored store 'rec' partition \d+/);
    const actual = await outcome(b);
    const duplicates = duplicated(actual.scored);
    console.log(
      `takeover: A wrote ${total(seenBefore)} score records (read_uncommitted) before its kill; ` +
        `the topic holds ${total(actual.scored)} read_committed, ${duplicates.length} requests more than once`,
    );
    expect(duplicates.length, `requests scored more than once, e.g. ${JSON.stringify(duplicates.slice(0, 3))}`).toBe(0);
    expect(actual.scored.size).toBe(baseline.scored.size);
    expect(diffSnapshots(baseline.state, actual.state)).toEqual([]);
  }, 300_000);

  it('fences a live instance when another starts with its transactional id, and the survivor scores each request once', async () => {
    // Same group and --instance-id, hence the same transactional id: B's start fences A's producer,
    // so A, a zombie from the group's point of view, can commit nothing more and stops.
    const a = await runOptions('fenced');
    const b = { ...a, stateDir: await newDir() };
    const progress = new GroupProgress(a.brokers, a.group, input);
    const instanceA = new RecommenderProcess(a);
    try {
      await instanceA.running();
      for (const deadline = Date.now() + 60_000; (await progress.committedRecords()) < EVENTS / 4; await sleep(50)) {
        if (Date.now() > deadline) throw new Error(`instance A made no progress:\n${instanceA.log}`);
      }
    } finally {
      await progress.close();
    }
    const instanceB = runUntilConsumed(b, input, 180_000);
    const exitA = await instanceA.exited;
    expect(exitA.code, instanceA.log).toBe(1);
    expect(instanceA.log).toMatch(/stopping after a fatal error: .*fenced/i);
    console.log(`fenced: A ${/stopping after a fatal error: .*/.exec(instanceA.log)![0]}`);
    await instanceB;
    const actual = await outcome(b);
    expect(duplicated(actual.scored)).toEqual([]);
    expect(actual.scored.size).toBe(baseline.scored.size);
    expect(diffSnapshots(baseline.state, actual.state)).toEqual([]);
  }, 300_000);
});
