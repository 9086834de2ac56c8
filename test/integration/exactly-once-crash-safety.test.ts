import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { cleanBaseline } from '../support/clean-baseline.js';
import { crashRunOptions } from '../support/crash-run-options.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';
import { killAtRandomPoints } from '../support/kill-at-random-points.js';
import { exitWithin } from '../support/exit-within.js';
import { RecommenderProcess, type RecommenderProcessOptions } from '../support/recommender-process.js';
import { prefillTrajectories, recommenderSettings, scoredRequestIds } from '../support/recommender-topics.js';
import { runOutcome, type RunOutcome } from '../support/run-outcome.js';
import { runUntilConsumed, stopWhenConsumed } from '../support/run-until-consumed.js';
import { startWithProgress } from '../support/start-with-progress.js';
import { diffSnapshots, entryCount } from '../support/state-snapshot.js';

const PARTITIONS = 4;
const EVENTS = 20_000;
const KILLS = 12;

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
  let baseline: RunOutcome;

  const crashRun = crashRunOptions(kafkaBrokers!, name, input, newDir, PARTITIONS);
  const runOptions = async (run: string): Promise<RecommenderProcessOptions> => ({
    ...(await crashRun(run)),
    processingGuarantee: 'exactly-once',
  });

  const outcome = (options: RecommenderProcessOptions) => runOutcome(transport, options, PARTITIONS);

  const duplicated = (scored: Map<string, number>) => [...scored].filter(([, count]) => count > 1);
  const total = (scored: Map<string, number>) => [...scored.values()].reduce((sum, count) => sum + count, 0);

  beforeAll(async () => {
    transport = createKafkaTransport({ brokers: kafkaBrokers! });
    uncommitted = createKafkaTransport({ brokers: kafkaBrokers!, consumer: { librdkafka: { 'isolation.level': 'read_uncommitted' } } });
    await prefillTrajectories(transport, recommenderSettings(input, `${name}.unused`, PARTITIONS), EVENTS);
    baseline = await cleanBaseline(transport, await runOptions('clean'), input, PARTITIONS, EVENTS);
    expect(duplicated(baseline.scored)).toEqual([]);
  });

  afterAll(async () => {
    await transport?.close();
    await uncommitted?.close();
  });

  it(`scores every request exactly once and ends byte-identical after ${KILLS} SIGKILLs`, async () => {
    const options = await runOptions('killed');
    // The first commit comes 2-3 s after assignment: most kills land after it, in processing.
    const committedAtKill = await killAtRandomPoints(options, input, KILLS, () => 1000 + Math.random() * 3000);
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
    const instanceA = await startWithProgress(a, input, EVENTS / 4);
    expect((await instanceA.kill()).signal).toBe('SIGKILL');
    const seenBefore = await scoredRequestIds(uncommitted, a.settings.outputTopic, PARTITIONS);
    const instanceB = await runUntilConsumed(b, input, 180_000);
    expect(instanceB.log).toMatch(/restored store 'rec' partition \d+/);
    // B may finish before the broker times out A's transaction, which holds read_committed reads
    // of the score topic below everything B committed after it: runOutcome reads once it ended.
    const actual = await outcome(b);
    const duplicates = duplicated(actual.scored);
    console.log(
      `takeover: A wrote ${total(seenBefore)} score records (read_uncommitted) before its kill; ` +
        `the topic holds ${total(actual.scored)} read_committed (after ${actual.transactionWaitMs} ms waiting for open transactions), ` +
        `${duplicates.length} requests more than once`,
    );
    expect(duplicates.length, `requests scored more than once, e.g. ${JSON.stringify(duplicates.slice(0, 3))}`).toBe(0);
    expect(actual.scored.size).toBe(baseline.scored.size);
    expect(diffSnapshots(baseline.state, actual.state)).toEqual([]);
  }, 300_000);

  /**
   * Same group and --instance-id, hence the same transactional id and static membership: B's start
   * fences A, which must stop with a fatal error (one matching `why`) once it has consumed
   * `before` records; B then consumes the rest, and the outcome equals an uninterrupted run's.
   * Run names stay clear of the words matched: topics and groups are named after them.
   */
  async function fencedRun(run: string, before: number, why: RegExp): Promise<void> {
    const a = await runOptions(run);
    const b = { ...a, stateDir: await newDir() };
    const instanceA = await startWithProgress(a, input, before);
    // B stays up until A is gone: stopped as soon as the input looked consumed, it could leave
    // before fencing anything, and A would run on.
    const instanceB = new RecommenderProcess(b);
    try {
      await instanceB.running();
      const exitA = await exitWithin(instanceA, 150_000);
      expect(exitA.code, instanceA.log).toBe(1);
      const fatal = /(stopping after a fatal error|failed): .*/.exec(instanceA.log)?.[0];
      expect(fatal, instanceA.log).toMatch(why);
      console.log(`${run}: A ${fatal}`);
      await stopWhenConsumed(instanceB, b, input, 180_000);
    } finally {
      // Gone already when all went well; otherwise it must not outlive the test.
      await instanceB.kill();
    }
    const actual = await outcome(b);
    expect(duplicated(actual.scored)).toEqual([]);
    expect(actual.scored.size).toBe(baseline.scored.size);
    expect(diffSnapshots(baseline.state, actual.state)).toEqual([]);
  }

  it('fences a live instance when another starts with its transactional id, and the survivor scores each request once', async () => {
    // A has input left: its next produce or transaction is refused.
    // librdkafka words it by where A stood: a purged or fatally failed delivery, a fenced transaction.
    await fencedRun('replaced', EVENTS / 4, /Purged in queue|Fatal error|fenced/i);
  }, 300_000);

  it('fences an instance that has consumed everything, through its consumer', async () => {
    // Nothing left to produce: only static membership can tell A, as ERR__FATAL from its next
    // poll. Missed, A polled on forever (CI saw it when B happened to start late).
    await fencedRun('caught-up', EVENTS, /fenced by a newer member with its group\.instance\.id/);
  }, 300_000);
});
