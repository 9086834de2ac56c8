import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import { tempDirs } from '../unit/state/temp-dirs.js';
import { cleanBaseline } from '../support/clean-baseline.js';
import { crashRunOptions } from '../support/crash-run-options.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';
import { killAtRandomPoints } from '../support/kill-at-random-points.js';
import { RecommenderProcess, type RecommenderProcessOptions } from '../support/recommender-process.js';
import { prefillTrajectories, recommenderSettings } from '../support/recommender-topics.js';
import { runOutcome, type RunOutcome } from '../support/run-outcome.js';
import { runUntilConsumed } from '../support/run-until-consumed.js';
import { diffSnapshots, entryCount } from '../support/state-snapshot.js';

const PARTITIONS = 4;
const EVENTS = 20_000;
const KILLS = 20;

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
  let baseline: RunOutcome;

  const runOptions = crashRunOptions(kafkaBrokers!, name, input, newDir, PARTITIONS);
  const outcome = (options: RecommenderProcessOptions) => runOutcome(transport, options, PARTITIONS);

  function expectSameOutcome(actual: RunOutcome): void {
    expect(diffSnapshots(baseline.state, actual.state)).toEqual([]);
    const missing = [...baseline.scored.keys()].filter((id) => !actual.scored.has(id));
    expect(missing.length, `requests scored by the clean run but missing here, e.g. ${missing.slice(0, 3).join(', ')}`).toBe(0);
  }

  beforeAll(async () => {
    transport = createKafkaTransport({ brokers: kafkaBrokers! });
    await prefillTrajectories(transport, recommenderSettings(input, `${name}.unused`, PARTITIONS), EVENTS);
    baseline = await cleanBaseline(transport, await runOptions('clean'), input, PARTITIONS, EVENTS);
  });

  afterAll(async () => {
    await transport?.close();
  });

  it(`ends byte-identical after ${KILLS} SIGKILLs at random points`, async () => {
    const options = await runOptions('killed');
    // The first commit comes 1-3 s after assignment (restore, model set-up, first batches),
    // then processing runs at a few thousand events/s: kills spread over both.
    const committedAtKill = await killAtRandomPoints(options, input, KILLS, () => Math.random() * 2500);
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
