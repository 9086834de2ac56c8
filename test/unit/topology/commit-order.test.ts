import { expect, it } from 'vitest';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { recordStep } from '../../../src/topology/step.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import type { CommitOffset, Transport } from '../../../src/topology/transport/types.js';
import { eventually } from '../../support/eventually.js';

const TOPIC = 'ordered.in';

/**
 * Two commits in flight at once — the interval firing while the previous commit is still being
 * handed to the group — must reach the group in the order they were asked for: the later one
 * carries newer offsets, and the older landing last would move the committed offset back.
 */
it('hands overlapping commits to the group one after another, so no partition’s committed offset moves back', async () => {
  const t = topology('ordered')
    .from('in', { topic: TOPIC, partitions: 2 })
    .step(recordStep<RawRecord, Buffer>('copy', 'copy', () => (raw) => raw.value ?? Buffer.alloc(0)))
    .to('out', { topic: 'ordered.out', serde: bytesSerde() });
  const embedded = createEmbeddedTransport();
  const commits: { offsets: CommitOffset[]; started: number; finished?: number }[] = [];
  let clock = 0;
  let slowFirst = true;
  // The group's commit, slowed down the first time, as a commit waiting on the coordinator is.
  const transport: Transport = Object.assign(Object.create(embedded) as Transport, {
    createConsumer(options: Parameters<Transport['createConsumer']>[0]) {
      const consumer = embedded.createConsumer(options);
      const commit = consumer.commit.bind(consumer);
      consumer.commit = async (offsets) => {
        const call: (typeof commits)[number] = { offsets, started: clock++ };
        commits.push(call);
        if (slowFirst) {
          slowFirst = false;
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        await commit(offsets);
        call.finished = clock++;
      };
      return consumer;
    },
  });
  const runner = new TopologyRunner(t, { transport, groupId: 'ordered', stateBackend: 'memory', commitIntervalMs: 3_600_000, log: () => undefined });
  await runner.start();
  const producer = embedded.createProducer();
  const produce = (count: number) =>
    producer.send(Array.from({ length: count }, (_, i) => ({ topic: TOPIC, partition: i % 2, key: null, value: Buffer.from('x') })));
  const processed = () => runner.describe().tasks.reduce((sum, task) => sum + task.lastProcessed + 1, 0);
  try {
    await produce(10);
    await eventually(() => processed() === 10, '10 records processed', { timeoutMs: 10_000, pollMs: 5 });
    const first = runner.commitAll();
    await produce(10);
    await eventually(() => processed() === 20, '20 records processed', { timeoutMs: 10_000, pollMs: 5 });
    const second = runner.commitAll();
    // Asked again while the second still waits for its turn: it shares it, nothing more queues up.
    expect(runner.commitAll()).toBe(second);
    await Promise.all([first, second]);

    expect(commits.map((c) => c.offsets.map((o) => `${o.partition}:${o.offset}`).sort())).toEqual([
      ['0:5', '1:5'],
      ['0:10', '1:10'],
    ]);
    expect(commits[1].started).toBeGreaterThan(commits[0].finished!);
    const consumer = embedded.createConsumer({ groupId: 'ordered', topics: [TOPIC] });
    expect(await consumer.committed([0, 1].map((partition) => ({ topic: TOPIC, partition })))).toEqual([10, 10]);
  } finally {
    await runner.stop();
  }
});

it('sends every task’s offset at each commit, so a commit the group lost is repaired by the next one', async () => {
  const t = topology('repaired')
    .from('in', { topic: 'repaired.in', partitions: 2 })
    .step(recordStep<RawRecord, Buffer>('copy', 'copy', () => (raw) => raw.value ?? Buffer.alloc(0)))
    .to('out', { topic: 'repaired.out', serde: bytesSerde() });
  const embedded = createEmbeddedTransport();
  let loseNext = true;
  // The first commit "succeeds" without being stored, as a queued commit the broker then fails.
  const transport: Transport = Object.assign(Object.create(embedded) as Transport, {
    createConsumer(options: Parameters<Transport['createConsumer']>[0]) {
      const consumer = embedded.createConsumer(options);
      const commit = consumer.commit.bind(consumer);
      consumer.commit = async (offsets) => {
        if (loseNext) {
          loseNext = false;
          return;
        }
        await commit(offsets);
      };
      return consumer;
    },
  });
  const runner = new TopologyRunner(t, { transport, groupId: 'repaired', stateBackend: 'memory', commitIntervalMs: 3_600_000, log: () => undefined });
  await runner.start();
  const committed = () => embedded.createConsumer({ groupId: 'repaired', topics: ['repaired.in'] }).committed([0, 1].map((partition) => ({ topic: 'repaired.in', partition })));
  try {
    await embedded.createProducer().send(Array.from({ length: 10 }, (_, i) => ({ topic: 'repaired.in', partition: i % 2, key: null, value: Buffer.from('x') })));
    await eventually(() => runner.describe().tasks.reduce((sum, task) => sum + task.lastProcessed + 1, 0) === 10, '10 records processed', { timeoutMs: 10_000, pollMs: 5 });
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
