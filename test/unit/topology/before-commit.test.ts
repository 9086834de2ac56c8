import { expect, it } from 'vitest';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { APPLIED_OFFSET_MARKER } from '../../../src/topology/runtime/changelog.js';
import { changelogTopic } from '../../../src/topology/topic-names.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { batchStep } from '../../../src/topology/step.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import type { SourceRecord } from '../../../src/topology/transport/types.js';
import { eventually } from '../../support/eventually.js';

const TALLY = Buffer.from('records-seen');

/**
 * A step that counts records in memory and writes the count only from its beforeCommit hook, as
 * the row store writes back resident rows: the count must reach the store — and its changelog —
 * with the commit of the records it counts, not one commit later.
 */
it('runs beforeCommit hooks at each commit before the stores flush, so their writes are part of that commit', async () => {
  const t = topology('hooked')
    .from('in', { topic: 'hooked.in', partitions: 1 })
    .step(
      batchStep<RawRecord, Buffer>(
        'tally',
        'tally',
        (ctx) => {
          const store = ctx.store('tallies');
          let seen = 0;
          ctx.beforeCommit(() => store.put(TALLY, Buffer.from(String(seen))));
          return (batch) => {
            seen += batch.records.length;
            return {
              partition: batch.partition,
              records: batch.records.map((r) => ({ meta: r.meta, value: r.value.value ?? Buffer.alloc(0) })),
            };
          };
        },
        { stores: [{ name: 'tallies' }] },
      ),
    )
    .to('out', { topic: 'hooked.out', serde: bytesSerde() });
  const transport = createEmbeddedTransport();
  const runner = new TopologyRunner(t, { transport, groupId: 'hooked', stateBackend: 'memory', log: () => undefined });
  await runner.start();
  const producer = transport.createProducer();
  const processed = () => runner.describe().tasks.reduce((sum, task) => sum + task.lastProcessed + 1, 0);
  try {
    for (const [round, count] of [3, 5].entries()) {
      await producer.send(Array.from({ length: count }, () => ({ topic: 'hooked.in', partition: 0, key: null, value: Buffer.from('x') })));
      const expected = round === 0 ? 3 : 8;
      await eventually(() => processed() === expected, `${expected} records processed`, { timeoutMs: 10_000, pollMs: 10 });
      await runner.commitAll();
      // The last commit's entries come right before its marker, which names the last offset.
      const changelog: SourceRecord[] = [];
      for await (const chunk of transport.readToEnd({ topic: changelogTopic('hooked', 'tallies'), partition: 0 })) changelog.push(...chunk);
      const marker = changelog.at(-1)!;
      expect(marker.key!.equals(APPLIED_OFFSET_MARKER)).toBe(true);
      const tally = changelog.at(-2)!;
      expect(tally.key!.equals(TALLY)).toBe(true);
      expect(tally.value!.toString()).toBe(String(expected));
    }
  } finally {
    await runner.stop();
  }
});
