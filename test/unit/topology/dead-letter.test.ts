import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesSerde } from '../../../src/serde/bytes-serde.js';
import {
  defaultDeadLetterSerde,
  recordBytes,
  serializeDeadLetter,
  type DeadLetterRecord,
} from '../../../src/topology/runtime/dead-letter.js';
import { recordStep } from '../../../src/topology/step.js';
import { TopologyTestDriver } from '../../../src/topology/test-driver.js';
import { topology, type RawRecord } from '../../../src/topology/topology.js';

const serde = defaultDeadLetterSerde();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function deadLetter(key: Buffer | null, value: Buffer | null): DeadLetterRecord {
  return {
    topology: 't',
    step: 'decode',
    errorCode: 'DECODE_FAILED',
    reason: "[DECODE_FAILED] step 'decode': not Avro",
    sourceTopic: 'in',
    sourcePartition: 3,
    sourceOffset: 42,
    key,
    value,
    failedAt: 1_700_000_000_000,
  };
}

describe('serializeDeadLetter', () => {
  it('leaves a dead letter that fits as it is', () => {
    const record = deadLetter(Buffer.from('user-1'), Buffer.alloc(1000, 7));
    const { key, value } = serializeDeadLetter(record, serde, 1_000_000);
    expect(key).toEqual(record.key);
    expect(serde.deserialize(value)).toEqual(record);
  });

  it('cuts an oversized value to fit, naming its original size and sha256', () => {
    const original = Buffer.alloc(1_040_000, 'x');
    const record = deadLetter(Buffer.from('user-1'), original);
    const { key, value } = serializeDeadLetter(record, serde, 1_000_000);
    expect(recordBytes(key, value)).toBeLessThanOrEqual(1_000_000);
    const back = serde.deserialize(value);
    expect(back).toMatchObject({ step: 'decode', errorCode: 'DECODE_FAILED', sourcePartition: 3, sourceOffset: 42, key: record.key });
    expect(back.value!.length).toBeGreaterThan(990_000);
    expect(original.subarray(0, back.value!.length).equals(back.value!)).toBe(true);
    expect(back.reason).toContain('not Avro');
    expect(back.reason).toContain(
      `value cut to fit the dead-letter topic: ${back.value!.length} of 1040000 bytes kept, sha256 ${sha256(original)}`,
    );
  });

  it('cuts an oversized key and a long reason too', () => {
    const record = { ...deadLetter(Buffer.alloc(600_000, 'k'), Buffer.alloc(600_000, 'v')), reason: 'r'.repeat(100_000) };
    const { key, value } = serializeDeadLetter(record, serde, 100_000);
    expect(recordBytes(key, value)).toBeLessThanOrEqual(100_000);
    const back = serde.deserialize(value);
    expect(back.key).toEqual(key);
    expect(back.reason).toContain(
      `key cut to fit the dead-letter topic: ${key!.length} of 600000 bytes kept, sha256 ${sha256(record.key!)}`,
    );
    expect(back.reason).toContain(`of 600000 bytes kept, sha256 ${sha256(record.value!)}`);
  });
});

describe('records over maxMessageBytes on the embedded log', () => {
  let driver: TopologyTestDriver | undefined;
  afterEach(async () => driver?.close());

  it('dead-letters an output too large to send, cut to fit, and keeps going', async () => {
    const t = topology('big')
      .from('in', { topic: 'big.in', partitions: 1 })
      .step(recordStep<RawRecord, Buffer>('copy', 'copy', () => (raw) => raw.value ?? Buffer.alloc(0)))
      .to('out', { topic: 'big.out', serde: bytesSerde() });
    driver = await TopologyTestDriver.start(t, { maxMessageBytes: 20_000 });
    driver.pipeInput('a', Buffer.from('small'));
    const big = Buffer.alloc(30_000, 'b');
    const bad = driver.pipeInput('a', big);
    driver.pipeInput('a', Buffer.from('after'));
    await driver.settle();
    expect(driver.readOutput<Buffer>().map((r) => r.value.toString())).toEqual(['small', 'after']);
    const [dead] = driver.readTopic(t.deadLetterTopic).map((r) => serde.deserialize(r.value!));
    expect(dead).toMatchObject({ step: 'out', errorCode: 'ENCODE_FAILED', sourceOffset: bad.offset });
    expect(dead.reason).toContain('over maxMessageBytes (20000)');
    expect(dead.reason).toContain(`of 30000 bytes kept, sha256 ${sha256(big)}`);
  });
});
