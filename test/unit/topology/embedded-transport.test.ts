import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../src/topology/transport/murmur2.js';
import { createEmbeddedTransport } from '../../../src/topology/transport/embedded-transport.js';
import type { SourceRecord, TopicPartition } from '../../../src/topology/transport/types.js';

describe('embedded log', () => {
  it("partitions by key like Kafka's default partitioner", () => {
    // Reference values from Kafka's own UtilsTest.testMurmur2.
    const reference: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['abc', 479470107],
    ];
    for (const [key, hash] of reference) {
      expect(murmur2(Buffer.from(key))).toBe(hash);
      expect(partitionForKey(Buffer.from(key), 7)).toBe((hash & 0x7fffffff) % 7);
    }
    const counts = new Array(4).fill(0);
    for (let i = 0; i < 4000; i++) counts[partitionForKey(Buffer.from(`user-${i}`), 4)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('deleteTopics drops a topic with its records, like Kafka; unknown names are skipped', async () => {
    const transport = createEmbeddedTransport();
    await transport.ensureTopics([{ topic: 'runs', partitions: 1 }]);
    const producer = transport.createProducer();
    await producer.send([{ topic: 'runs', key: null, value: Buffer.from('old') }]);
    await transport.deleteTopics(['runs', 'never-created']);
    await expect(producer.send([{ topic: 'runs', key: null, value: Buffer.from('x') }])).rejects.toThrow(/unknown topic 'runs'/);
    await transport.ensureTopics([{ topic: 'runs', partitions: 1 }]);
    const records: SourceRecord[] = [];
    for await (const chunk of transport.readToEnd({ topic: 'runs', partition: 0 })) records.push(...chunk);
    expect(records).toEqual([]);
  });

  it('splits partitions across group members and hands them over on leave, resuming at the commit', async () => {
    const transport = createEmbeddedTransport({ maxBatch: 10 });
    await transport.ensureTopics([{ topic: 'in', partitions: 4 }]);
    const producer = transport.createProducer();
    await producer.send(Array.from({ length: 100 }, (_, i) => ({ topic: 'in', key: Buffer.from(`k${i}`), value: Buffer.from(String(i)) })));
    const seen: Record<string, SourceRecord[]> = { a: [], b: [] };
    const owned: Record<string, TopicPartition[]> = { a: [], b: [] };
    const member = (name: 'a' | 'b') => {
      const consumer = transport.createConsumer({ groupId: 'g', topics: ['in'] });
      return {
        consumer,
        start: () =>
          consumer.start({
            onAssigned: async (tps) => void owned[name].push(...tps),
            onRevoked: async (tps) => {
              owned[name] = owned[name].filter((o) => !tps.some((t) => t.partition === o.partition));
            },
            onBatch: async (tp, records) => {
              seen[name].push(...records);
              await consumer.commit([{ ...tp, offset: records[records.length - 1].offset + 1 }]);
            },
          }),
      };
    };
    const a = member('a');
    await a.start();
    expect(owned.a.map((t) => t.partition).sort()).toEqual([0, 1, 2, 3]);
    const b = member('b');
    await b.start();
    expect(owned.a.length).toBe(2);
    expect(owned.b.length).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    await a.consumer.stop();
    expect(owned.b.length).toBe(4);
    await new Promise((r) => setTimeout(r, 100));
    await b.consumer.stop();
    const all = [...seen.a, ...seen.b].map((r) => `${r.partition}:${r.offset}`);
    expect(new Set(all).size).toBe(100);
    expect(all.length).toBe(100); // committed after each batch, so the handover redelivers nothing
  });
});
