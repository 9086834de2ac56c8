import { afterEach, describe, expect, it } from 'vitest';
import { decode } from '../../src/operators/decode.js';
import { mapValues } from '../../src/operators/map-values.js';
import { avroSerde } from '../../src/serde/avro-serde.js';
import { jsonSerde } from '../../src/serde/json-serde.js';
import { TopologyTestDriver } from '../../src/topology/test-driver.js';
import { topology } from '../../src/topology/topology.js';
import type { DeadLetterRecord } from '../../src/topology/runtime/dead-letter.js';

interface Click {
  user: string;
  n: number;
}

function clickTopology() {
  return topology('clicks')
    .from('clicks-in', { topic: 'clicks', partitions: 4 })
    .step(
      decode('decode', {
        serde: jsonSerde<Click>('json:click'),
        validate: (c) => {
          if (!Number.isFinite(c.n)) throw new Error('n must be finite');
        },
      }),
    )
    .step(mapValues('double', (c: Click) => ({ ...c, n: c.n * 2 })))
    .to('clicks-out', { topic: 'clicks.doubled', serde: jsonSerde<Click>('json:click') });
}

describe('a stateless topology on the embedded log', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => driver?.close());

  it('delivers every record, transformed, keyed as the input, in order per key', async () => {
    driver = await TopologyTestDriver.start(clickTopology());
    const users = ['ana', 'bo', 'cy', 'dee', 'ed'];
    for (let i = 0; i < 200; i++) {
      const user = users[i % users.length];
      driver.pipeInput(user, Buffer.from(JSON.stringify({ user, n: i })));
    }
    await driver.settle();
    const out = driver.readOutput<Click>();
    expect(out).toHaveLength(200);
    for (const user of users) {
      const ns = out.filter((r) => r.key === user).map((r) => r.value.n);
      const expected = Array.from({ length: 200 }, (_, i) => i)
        .filter((i) => users[i % users.length] === user)
        .map((i) => i * 2);
      expect(ns).toEqual(expected);
      expect(new Set(out.filter((r) => r.key === user).map((r) => r.partition)).size).toBe(1);
    }
  });

  it('sends undecodable and invalid records to the dead-letter topic and keeps going', async () => {
    const t = clickTopology();
    driver = await TopologyTestDriver.start(t);
    driver.pipeInput('ana', Buffer.from('{"user":"ana","n":1}'));
    const bad = driver.pipeInput('ana', Buffer.from('not json'));
    driver.pipeInput('ana', Buffer.from('{"user":"ana","n":null}'));
    driver.pipeInput('ana', Buffer.from('{"user":"ana","n":3}'));
    await driver.settle();
    expect(driver.readOutput<Click>().map((r) => r.value.n)).toEqual([2, 6]);
    const dlqSerde = avroSerde<DeadLetterRecord>('dead-letter');
    const dead = driver.readTopic(t.deadLetterTopic).map((r) => dlqSerde.deserialize(r.value!));
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({
      topology: 'clicks',
      step: 'decode',
      errorCode: 'DECODE_FAILED',
      sourceTopic: 'clicks',
      sourceOffset: bad.offset,
    });
    expect(dead[0].value?.toString()).toBe('not json');
    expect(dead[0].reason).toContain("step 'decode'");
    expect(dead[1].reason).toContain('n must be finite');
    const metrics = await driver.metrics.registry.getSingleMetricAsString('agentrec_records_dead_lettered_total');
    expect(metrics).toMatch(/step="decode".*code="DECODE_FAILED"[^\n]* 1/);
  });
});
