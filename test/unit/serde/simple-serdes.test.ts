import { describe, expect, it } from 'vitest';
import { BadRecordError } from '../../../src/errors.js';
import { bytesSerde, jsonSerde, stringSerde } from '../../../src/serde/index.js';
import type { TrajectoryEvent } from '../../../src/recommender/records.js';
import { requestEvent } from './fixtures.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(BadRecordError);
    return (err as BadRecordError).code;
  }
  return undefined;
}

describe('jsonSerde', () => {
  const serde = jsonSerde<TrajectoryEvent>();

  it('round-trips a trajectory event as readable UTF-8 JSON', () => {
    const event = requestEvent({ text: 'héllo 🚀' });
    const bytes = serde.serialize(event);
    expect(bytes.toString('utf8')).toContain('"userId":"user-42"');
    expect(serde.deserialize(bytes)).toEqual(event);
  });

  it('fails decoding non-JSON with DECODE_FAILED', () => {
    expect(codeOf(() => serde.deserialize(Buffer.from('{"eventId": ')))).toBe('DECODE_FAILED');
    expect(codeOf(() => serde.deserialize(Buffer.from([0xc3, 0x01, 0x00])))).toBe('DECODE_FAILED');
  });

  it('fails encoding what JSON cannot hold with ENCODE_FAILED', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => jsonSerde<unknown>().serialize(cyclic))).toBe('ENCODE_FAILED');
    expect(codeOf(() => jsonSerde<unknown>().serialize({ big: 1n }))).toBe('ENCODE_FAILED');
    expect(codeOf(() => jsonSerde<unknown>().serialize(undefined))).toBe('ENCODE_FAILED');
  });

  it('takes a name for describe() output', () => {
    expect(jsonSerde('json:events').name).toBe('json:events');
  });
});

describe('bytesSerde', () => {
  it('passes buffers through untouched', () => {
    const serde = bytesSerde();
    const bytes = Buffer.from([0, 255, 0xc3, 0x01]);
    expect(serde.serialize(bytes)).toBe(bytes);
    expect(serde.deserialize(bytes)).toBe(bytes);
  });
});

describe('stringSerde', () => {
  const serde = stringSerde();

  it('round-trips UTF-8, including a leading BOM character', () => {
    for (const text of ['user-42', '', 'ユーザー', '\uFEFFbom']) {
      expect(serde.deserialize(serde.serialize(text))).toBe(text);
    }
  });

  it('rejects invalid UTF-8 instead of replacing it', () => {
    expect(codeOf(() => serde.deserialize(Buffer.from([0x75, 0xff, 0x31])))).toBe('DECODE_FAILED');
  });
});
