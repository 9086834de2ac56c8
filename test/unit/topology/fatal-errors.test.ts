import { afterEach, expect, it } from 'vitest';
import { AgentrecError } from '../../../src/errors.js';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import { TopologyRunner } from '../../../src/topology/runtime/topology-runner.js';
import { batchStep } from '../../../src/topology/step.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  expect(unhandled.splice(0)).toEqual([]);
});

it('a step that fails a whole batch stops the runner through one path: coded, named, logged once, never unhandled', async () => {
  const t = topology('fails')
    .from('in', { topic: 'fails.in', partitions: 2 })
    .step(
      batchStep<RawRecord, Buffer>('explode', 'explode', () => async (batch) => {
        if (batch.partition === 1) throw new Error('boom');
        return {
          partition: batch.partition,
          records: batch.records.map((r) => ({ meta: r.meta, value: r.value.value ?? Buffer.alloc(0) })),
        };
      }),
    )
    .to('out', { topic: 'fails.out', serde: bytesSerde() });
  const transport = createEmbeddedTransport();
  const lines: string[] = [];
  const runner = new TopologyRunner(t, { transport, stateBackend: 'memory', commitIntervalMs: 50, log: (line) => lines.push(line) });
  await runner.start();
  const producer = transport.createProducer();
  await producer.send([0, 1, 0].map((partition) => ({ topic: t.source.topic, partition, key: null, value: Buffer.from('x') })));

  const error = await runner.done.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentrecError);
  expect(error).toMatchObject({ code: 'STEP_FAILED', step: 'explode', detail: 'boom' });
  await runner.stop();
  expect(lines.filter((line) => line.includes('fatal'))).toEqual(["stopping after a fatal error: [STEP_FAILED] step 'explode': boom"]);
  // The partition that did not fail was committed on the way out; the failed one was not.
  const group = transport.createConsumer({ groupId: 'fails', topics: [t.source.topic] });
  expect(await group.committed([0, 1].map((partition) => ({ topic: t.source.topic, partition })))).toEqual([2, undefined]);
  await new Promise((resolve) => setTimeout(resolve, 100));
});
