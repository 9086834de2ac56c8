import { expect, it } from 'vitest';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { ProgressReporter } from '../../../src/topology/runtime/progress-reporter.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { batchStep } from '../../../src/topology/step.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import { eventually } from '../../support/eventually.js';

const until = (condition: () => boolean, what: string) => eventually(condition, what, { timeoutMs: 10_000, pollMs: 20 });

/** `<name>.in` (2 partitions) copied to `<name>.out` by a step named 'wait', each batch after `before` resolves. */
function copyingTopology(name: string, before: () => Promise<void> = async () => undefined) {
  return topology(name)
    .from('in', { topic: `${name}.in`, partitions: 2 })
    .step(
      batchStep<RawRecord, Buffer>('wait', 'wait', () => async (batch) => {
        await before();
        return {
          partition: batch.partition,
          records: batch.records.map((r) => ({ meta: r.meta, value: r.value.value ?? Buffer.alloc(0) })),
        };
      }),
    )
    .to('out', { topic: `${name}.out`, serde: bytesSerde() });
}

it('names a partition held up by one batch on the progress line, and stops once it moves', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const t = copyingTopology('held', () => gate);
  const transport = createEmbeddedTransport();
  const runner = new TopologyRunner(t, { transport, groupId: 'held', stateBackend: 'memory', log: () => undefined });
  await runner.start();
  await transport.createProducer().send([{ topic: 'held.in', partition: 1, key: null, value: Buffer.from('{}') }]);
  // The batch is held from after this moment on, so a line printed less than the threshold later
  // cannot have seen it held that long (a loaded machine may print its first line later than that).
  const sentAt = performance.now();
  const lines: string[] = [];
  const printedAt: number[] = [];
  const reporter = new ProgressReporter(
    runner,
    (line) => {
      lines.push(line);
      printedAt.push(performance.now());
    },
    50,
    500,
  );
  reporter.start();
  try {
    await until(() => lines.some((line) => line.includes('held up')), 'a held-up line');
    expect(lines.find((line) => line.includes('held up'))).toMatch(
      /— held up: partition 1 in 'process' for \d+ s \(kill -USR2 <pid> prints where every partition stands\)$/,
    );
    // Lines before the threshold passed did not name it.
    const early = lines.filter((_, i) => printedAt[i] < sentAt + 500);
    for (const line of early) expect(line).not.toContain('held up');
    release();
    const seen = lines.length;
    await until(() => lines.length > seen + 2, 'more progress lines');
    expect(lines.at(-1)).not.toContain('held up');
  } finally {
    release();
    reporter.stop();
    await runner.stop();
  }
});

it('sums count gauges across partitions and averages the others', async () => {
  const t = topology('gauges')
    .from('in', { topic: 'gauges.in', partitions: 2 })
    .step(
      batchStep<RawRecord, Buffer>('count', 'count', (ctx) => {
        let seen = 0;
        return async (batch) => {
          seen += batch.records.length;
          ctx.metrics.gauge('seen', seen, 'sum');
          // Partition 0 reports 0.25, partition 1 reports 0.75: their mean is 0.5.
          ctx.metrics.gauge('share', 0.25 + 0.5 * ctx.partition);
          return {
            partition: batch.partition,
            records: batch.records.map((r) => ({ meta: r.meta, value: r.value.value ?? Buffer.alloc(0) })),
          };
        };
      }),
    )
    .to('out', { topic: 'gauges.out', serde: bytesSerde() });
  const transport = createEmbeddedTransport();
  const runner = new TopologyRunner(t, { transport, groupId: 'gauges', stateBackend: 'memory', log: () => undefined });
  await runner.start();
  const records = [0, 0, 0, 1, 1, 1, 1, 1].map((partition) => ({ topic: 'gauges.in', partition, key: null, value: Buffer.from('{}') }));
  await transport.createProducer().send(records);
  const lines: string[] = [];
  const reporter = new ProgressReporter(runner, (line) => lines.push(line), 50, 10_000);
  reporter.start();
  try {
    // 3 records in partition 0 and 5 in partition 1: 8 in all, not their mean of 4.
    await until(() => lines.some((line) => line.includes('seen 8 ')), 'a line with both partitions counted');
    expect(lines.find((line) => line.includes('seen 8 '))).toContain('share 0.500');
    // No reference was set: no comparison on the line.
    expect(lines.at(-1)).not.toContain(' vs ');
    runner.metrics.setReference('share', 'best baseline (coin)', 0.4);
    runner.metrics.setReference('share', 'best baseline (dice)', 0.25);
    runner.metrics.setReference('absent', 'nobody', 1);
    const seen = lines.length;
    await until(() => lines.length > seen + 1, 'a line after the reference');
    expect(lines.at(-1)).toMatch(/ · share 0\.500 vs best baseline \(dice\) 0\.250$/);
    await reporter.summary();
    expect(lines.at(-1)).toBe('share 0.500 vs best baseline (dice) 0.250: ×2.00 (ahead)');
    // An error measure: lower is ahead, so twice the reference's is behind.
    runner.metrics.setReference('share', 'best baseline (dice)', 0.25, 'lower');
    await reporter.summary();
    expect(lines.at(-1)).toBe('share 0.500 vs best baseline (dice) 0.250: ×2.00 (behind)');
    // The replaced reference's series is gone from the metrics.
    const series = (await runner.metrics.referenceValue.get()).values.map((v) => v.labels.reference);
    expect(series.sort()).toEqual(['best baseline (dice)', 'nobody']);
  } finally {
    reporter.stop();
    await runner.stop();
  }
});

it('waits until the expected records have entered, not a whole quiet interval', async () => {
  const t = copyingTopology('idle');
  const transport = createEmbeddedTransport();
  const runner = new TopologyRunner(t, { transport, groupId: 'idle', stateBackend: 'memory', log: () => undefined });
  await runner.start();
  const producer = transport.createProducer();
  const send = (n: number) =>
    producer.send(Array.from({ length: n }, (_, i) => ({ topic: 'idle.in', partition: i % 2, key: null, value: Buffer.from('{}') })));
  // An interval of a minute: only the expected count can end the wait within this test.
  const reporter = new ProgressReporter(runner, () => undefined, 60_000);
  try {
    await send(5);
    let idle = false;
    const waiting = reporter.waitUntilIdle(new AbortController().signal, 6).then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 600));
    expect(idle).toBe(false); // 5 of 6 entered, then nothing: still waiting
    const sentAt = performance.now();
    await send(1);
    await waiting;
    expect(performance.now() - sentAt).toBeLessThan(5_000);
  } finally {
    await runner.stop();
  }
});
