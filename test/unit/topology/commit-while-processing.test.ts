import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { APPLIED_OFFSET_MARKER } from '../../../src/topology/runtime/changelog.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { changelogTopic } from '../../../src/topology/topic-names.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import type { Producer, SourceRecord, Transport } from '../../../src/topology/transport/types.js';
import { countingTopology } from '../../support/counting-topology.js';
import { eventually } from '../../support/eventually.js';

/** An embedded log whose changelog sends are held (neither appended nor acknowledged) while `hold` is set. */
function transportHoldingChangelogs() {
  const embedded = createEmbeddedTransport();
  let release: (() => void) | undefined;
  let released = Promise.resolve();
  let heldSends = 0;
  const transport: Transport = Object.assign(Object.create(embedded) as Transport, {
    createProducer(): Producer {
      const producer = embedded.createProducer();
      return {
        async send(records) {
          if (release && records.some((r) => r.topic.endsWith('changelog'))) {
            heldSends++;
            await released;
          }
          return producer.send(records);
        },
        close: () => producer.close(),
      };
    },
  });
  return {
    embedded,
    transport,
    hold(): void {
      released = new Promise((resolve) => (release = resolve));
    },
    release(): void {
      release?.();
      release = undefined;
    },
    get heldSends(): number {
      return heldSends;
    },
  };
}

/**
 * A commit waits for its changelog's acknowledgements; the task must go on processing meanwhile,
 * and what it processes must stay out of that commit: the store is written at the commit's
 * offset with the values as of the commit, and the later writes go out with the next one.
 */
it.each(['memory', 'rocksdb'] as const)(
  'processes while a commit waits for acknowledgements, and keeps later writes out of that commit (%s)',
  async (stateBackend) => {
    const t = countingTopology('overlap');
    const log = transportHoldingChangelogs();
    const stateDir = await mkdtemp(join(tmpdir(), 'agentrec-overlap-'));
    const runner = new TopologyRunner(t, {
      transport: log.transport,
      groupId: 'overlap',
      stateBackend,
      stateDir,
      commitIntervalMs: 3_600_000,
      log: () => undefined,
    });
    await runner.start();
    const input = log.embedded.createProducer();
    const send = (count: number) =>
      input.send(Array.from({ length: count }, () => ({ topic: 'overlap.in', partition: 0, key: null, value: Buffer.from('x') })));
    const task = () => runner.describe().tasks[0];
    const changelog = async () => {
      const records: SourceRecord[] = [];
      for await (const chunk of log.embedded.readToEnd({ topic: changelogTopic('overlap', 'counts'), partition: 0 }))
        records.push(...chunk);
      return records.map((r) => (r.key!.equals(APPLIED_OFFSET_MARKER) ? `marker` : `${r.key!.toString()}=${r.value!.toString()}`));
    };
    try {
      await send(5);
      await eventually(() => task().lastProcessed === 4, '5 records processed', { timeoutMs: 10_000, pollMs: 5 });
      log.hold();
      const commit = runner.commitAll();
      await eventually(() => log.heldSends > 0, 'the changelog send held', { timeoutMs: 10_000, pollMs: 5 });

      // The commit waits; the task processes 5 more records meanwhile.
      await send(5);
      await eventually(() => task().lastProcessed === 9, '5 more records processed during the commit', { timeoutMs: 10_000, pollMs: 5 });
      expect(task().lastFlushed).toBe(-1);

      log.release();
      await commit;
      expect(task().lastFlushed).toBe(4);
      expect(await changelog()).toEqual(['seen=5', 'marker']);
      const [committed] = await log.embedded
        .createConsumer({ groupId: 'overlap', topics: ['overlap.in'] })
        .committed([{ topic: 'overlap.in', partition: 0 }]);
      expect(committed).toBe(5);

      // The writes made during the first commit belong to the next.
      await runner.commitAll();
      expect(task().lastFlushed).toBe(9);
      expect(await changelog()).toEqual(['seen=5', 'marker', 'seen=10', 'marker']);
    } finally {
      log.release();
      await runner.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  },
);

/**
 * A step's sends that the committed state assumes delivered (ctx.commitAfter, as model sync's
 * records): the commit publishes no changelog before they are acknowledged, and the task keeps
 * processing while it waits.
 */
it('publishes no changelog before what a step handed to ctx.commitAfter is delivered, and processes meanwhile', async () => {
  let deliver!: () => void;
  const delivered = new Promise<void>((resolve) => (deliver = resolve));
  let handed = false;
  const t = countingTopology('after', async (ctx) => {
    // Only the first commit waits.
    if (!handed) ctx.commitAfter(delivered);
    handed = true;
  });
  const transport = createEmbeddedTransport();
  const runner = new TopologyRunner(t, {
    transport,
    groupId: 'after',
    stateBackend: 'memory',
    commitIntervalMs: 3_600_000,
    log: () => undefined,
  });
  await runner.start();
  const input = transport.createProducer();
  const send = (count: number) =>
    input.send(Array.from({ length: count }, () => ({ topic: 'after.in', partition: 0, key: null, value: Buffer.from('x') })));
  const changelogLength = async () => {
    let length = 0;
    for await (const chunk of transport.readToEnd({ topic: changelogTopic('after', 'counts'), partition: 0 })) length += chunk.length;
    return length;
  };
  const task = () => runner.describe().tasks[0];
  try {
    await send(3);
    await eventually(() => task().lastProcessed === 2, '3 records processed', { timeoutMs: 10_000, pollMs: 5 });
    const commit = runner.commitAll();
    await send(3);
    await eventually(() => task().lastProcessed === 5, '3 more records processed while the commit waits', { timeoutMs: 10_000, pollMs: 5 });
    expect(await changelogLength()).toBe(0);
    expect(task().lastFlushed).toBe(-1);

    deliver();
    await commit;
    expect(task().lastFlushed).toBe(2);
    expect(await changelogLength()).toBe(2);
  } finally {
    deliver();
    await runner.stop();
  }
});
