import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { batchStep } from '../../../src/topology/step.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import { eventually } from '../../support/eventually.js';

/** Keeps every record's value in its store under the record's offset. */
const keeper = batchStep<RawRecord, Buffer>(
  'keep',
  'keep',
  (ctx) => {
    const store = ctx.store('kept');
    return async (batch) => {
      for (const r of batch.records) await store.put(Buffer.from(String(r.meta.offset)), r.value.value ?? Buffer.alloc(0));
      return { partition: batch.partition, records: batch.records.map((r) => ({ meta: r.meta, value: r.value.value ?? Buffer.alloc(0) })) };
    };
  },
  { stores: [{ name: 'kept' }] },
);

it('exports each open store’s memory by part as agentrec_state_memory_bytes, and drops it with the task', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'agentrec-state-memory-'));
  const t = topology('kept')
    .from('in', { topic: 'kept.in', partitions: 2 })
    .step(keeper)
    .to('out', { topic: 'kept.out', serde: bytesSerde() });
  const transport = createEmbeddedTransport();
  const runner = new TopologyRunner(t, { transport, groupId: 'kept', stateBackend: 'rocksdb', stateDir, log: () => undefined });
  const bytesOf = async () => {
    const { values } = await runner.metrics.stateMemory.get();
    return values;
  };
  try {
    await runner.start();
    const producer = transport.createProducer();
    await producer.send(Array.from({ length: 50 }, () => ({ topic: 'kept.in', partition: 1, key: null, value: Buffer.alloc(2000, 1) })));
    const processed = () => runner.describe().tasks.reduce((sum, task) => sum + task.lastProcessed + 1, 0);
    await eventually(() => processed() === 50, '50 records processed', { timeoutMs: 10_000, pollMs: 10 });

    const before = await bytesOf();
    const part = (values: typeof before, name: string, partition: string) =>
      values.find((v) => v.labels.part === name && v.labels.partition === partition && v.labels.store === 'kept')?.value;
    // The write-back cache holds the 50 values (its slabs); partition 0 got nothing yet.
    expect(part(before, 'write_back_cache', '1')).toBeGreaterThanOrEqual(50 * 2000);
    expect(part(before, 'write_back_cache', '0')).toBe(0);
    await runner.commitAll();
    const after = await bytesOf();
    expect(part(after, 'rocksdb_memtables', '1')).toBeGreaterThan(50 * 2000);
    expect(after.every((v) => v.labels.topology === 'kept')).toBe(true);
    const text = await runner.metrics.registry.getSingleMetricAsString('agentrec_state_memory_bytes');
    expect(text).toMatch(/agentrec_state_memory_bytes\{topology="kept",store="kept",partition="1",part="rocksdb_block_cache"\} \d+/);
  } finally {
    await runner.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
  expect(await bytesOf()).toEqual([]);
});
