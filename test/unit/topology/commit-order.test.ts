import { expect, it } from 'vitest';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { recordStep } from '../../../src/topology/step.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import type { CommitOffset, Transport } from '../../../src/topology/transport/types.js';
import { eventually } from '../../support/eventually.js';

type Commit = (offsets: CommitOffset[]) => Promise<void>;

/**
 * A two-partition copy topology on the embedded log whose group commits go through `wrap` (the
 * group's own commit passed in), committing only when a test asks (no interval commits).
 */
async function runnerWithCommit(name: string, wrap: (commit: Commit) => Commit) {
  const input = `${name}.in`;
  const t = topology(name)
    .from('in', { topic: input, partitions: 2 })
    .step(recordStep<RawRecord, Buffer>('copy', 'copy', () => (raw) => raw.value ?? Buffer.alloc(0)))
    .to('out', { topic: `${name}.out`, serde: bytesSerde() });
  const embedded = createEmbeddedTransport();
  const transport: Transport = Object.assign(Object.create(embedded) as Transport, {
    createConsumer(options: Parameters<Transport['createConsumer']>[0]) {
      const consumer = embedded.createConsumer(options);
      consumer.commit = wrap(consumer.commit.bind(consumer));
      return consumer;
    },
  });
  const runner = new TopologyRunner(t, {
    transport,
    groupId: name,
    stateBackend: 'memory',
    commitIntervalMs: 3_600_000,
    log: () => undefined,
  });
  await runner.start();
  const producer = embedded.createProducer();
  return {
    runner,
    /** Sends `count` records, alternating partitions, and waits until `total` were processed. */
    async process(count: number, total: number): Promise<void> {
      await producer.send(
        Array.from({ length: count }, (_, i) => ({ topic: input, partition: i % 2, key: null, value: Buffer.from('x') })),
      );
      const processed = () => runner.describe().tasks.reduce((sum, task) => sum + task.lastProcessed + 1, 0);
      await eventually(() => processed() === total, `${total} records processed`, { timeoutMs: 10_000, pollMs: 5 });
    },
    /** The group's committed offsets of both partitions, as stored. */
    committed: () =>
      embedded.createConsumer({ groupId: name, topics: [input] }).committed([0, 1].map((partition) => ({ topic: input, partition }))),
  };
}

/**
 * Two commits in flight at once — the interval firing while the previous commit is still being
 * handed to the group — must reach the group in the order they were asked for: the later one
 * carries newer offsets, and the older landing last would move the committed offset back.
 */
it('hands overlapping commits to the group one after another, so no partition’s committed offset moves back', async () => {
  const commits: { offsets: CommitOffset[]; started: number; finished?: number }[] = [];
  let clock = 0;
  let slowFirst = true;
  // The group's commit, slowed down the first time, as a commit waiting on the coordinator is.
  const { runner, process, committed } = await runnerWithCommit('ordered', (commit) => async (offsets) => {
    const call: (typeof commits)[number] = { offsets, started: clock++ };
    commits.push(call);
    if (slowFirst) {
      slowFirst = false;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await commit(offsets);
    call.finished = clock++;
  });
  try {
    await process(10, 10);
    const first = runner.commitAll();
    await process(10, 20);
    const second = runner.commitAll();
    // Asked again while the second still waits for its turn: it shares it, nothing more queues up.
    expect(runner.commitAll()).toBe(second);
    await Promise.all([first, second]);

    expect(commits.map((c) => c.offsets.map((o) => `${o.partition}:${o.offset}`).sort())).toEqual([
      ['0:5', '1:5'],
      ['0:10', '1:10'],
    ]);
    expect(commits[1].started).toBeGreaterThan(commits[0].finished!);
    expect(await committed()).toEqual([10, 10]);
  } finally {
    await runner.stop();
  }
});

it('sends every task’s offset at each commit, so a commit the group lost is repaired by the next one', async () => {
  let loseNext = true;
  // The first commit "succeeds" without being stored, as a queued commit the broker then fails.
  const { runner, process, committed } = await runnerWithCommit('repaired', (commit) => async (offsets) => {
    if (loseNext) {
      loseNext = false;
      return;
    }
    await commit(offsets);
  });
  try {
    await process(10, 10);
    await runner.commitAll();
    expect(await committed()).toEqual([undefined, undefined]);
    // Nothing new was processed, and still the offsets go out again.
    await runner.commitAll();
    expect(await committed()).toEqual([5, 5]);
    // Counted as commits once, when they advanced.
    const counted = (await runner.metrics.commits.get()).values.map((v) => v.value);
    expect(counted).toEqual([1, 1]);
  } finally {
    await runner.stop();
  }
});
